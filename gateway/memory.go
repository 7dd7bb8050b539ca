package gateway

import (
	"errors"
	"io"
	"strings"
	"sync"
)

// Message bodies in flight are bounded (SPEC §10): in bytes over all
// sessions, and in messages per owner, so that fifty devices sending 30
// MiB scans at once queue at their own end (451, retried) instead of
// holding 1.5 GiB here.

// errNoMemory is what a body reader returns when the budget is spent.
var errNoMemory = errors.New("gateway: message memory budget spent")

// memoryBudget counts bytes held and messages per owner. It is safe for
// concurrent use.
type memoryBudget struct {
	max      int64
	perOwner int

	mu     sync.Mutex
	used   int64
	owners map[string]int
	peak   int64
}

func newMemoryBudget(max int64, perOwner int) *memoryBudget {
	return &memoryBudget{max: max, perOwner: perOwner, owners: map[string]int{}}
}

// message takes one of ownerID's message places; false when they have
// perOwner messages in flight already. The returned message must be
// done.
func (b *memoryBudget) message(ownerID string) (*heldMessage, bool) {
	k := strings.ToLower(ownerID)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.owners[k] >= b.perOwner {
		return nil, false
	}
	b.owners[k]++
	return &heldMessage{b: b, owner: k}, true
}

// grow reserves n more bytes; false when that passes max.
func (b *memoryBudget) grow(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.max {
		return false
	}
	b.used += n
	b.peak = max(b.peak, b.used)
	return true
}

// usage returns the bytes held now and at most.
func (b *memoryBudget) usage() (int64, int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used, b.peak
}

func (b *memoryBudget) shrink(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// heldMessage is one message's place and bytes.
type heldMessage struct {
	b     *memoryBudget
	owner string
	held  int64
	once  sync.Once
}

// reader returns r reading within the budget: each byte read is counted
// as held until done, and a read past the budget fails with errNoMemory.
func (m *heldMessage) reader(r io.Reader) io.Reader { return &budgetReader{m: m, r: r} }

// done gives the message's place and bytes back.
func (m *heldMessage) done() {
	m.once.Do(func() {
		m.b.shrink(m.held)
		m.b.mu.Lock()
		if m.b.owners[m.owner] <= 1 {
			delete(m.b.owners, m.owner)
		} else {
			m.b.owners[m.owner]--
		}
		m.b.mu.Unlock()
	})
}

type budgetReader struct {
	m *heldMessage
	r io.Reader
}

func (br *budgetReader) Read(p []byte) (int, error) {
	n, err := br.r.Read(p)
	if n > 0 {
		if !br.m.b.grow(int64(n)) {
			return 0, errNoMemory
		}
		br.m.held += int64(n)
	}
	return n, err
}
