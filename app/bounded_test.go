package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apppass/apppass/app"

	"github.com/apppass/apppass/fakeslack"
)

// concurrentGraph counts the Graph requests in flight and keeps the
// largest number seen.
type concurrentGraph struct {
	base      http.RoundTripper
	now, peak atomic.Int64
}

func (c *concurrentGraph) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "/v1.0/") {
		n := c.now.Add(1)
		defer c.now.Add(-1)
		for {
			p := c.peak.Load()
			if n <= p || c.peak.CompareAndSwap(p, n) {
				break
			}
		}
	}
	return c.base.RoundTrip(r)
}

// 300 commands at once: all are acknowledged at once, but at most
// APPPASS_WORKERS of them are worked on (and call Graph) at a time.
func TestCommandsAreWorkedOnByABoundedPool(t *testing.T) {
	const workers, commands = 8, 300
	h := newHarness(t)
	h.Env["APPPASS_WORKERS"] = fmt.Sprint(workers)
	graph := &concurrentGraph{}
	h.Adjust = func(m *app.Main) {
		graph.base = m.GraphTransport
		m.GraphTransport = graph
	}
	h.Start()
	h.Entra.SetLatency("", 10*time.Millisecond)
	var wg sync.WaitGroup
	ixs := make([]*fakeslack.Interaction, commands)
	for i := range commands {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ix, err := h.Slack.SlashCommand(h.Ctx(), alice, channel, "/apppass", "list")
			if err != nil {
				t.Error(err)
				return
			}
			ixs[i] = ix
		}()
	}
	wg.Wait()
	for _, ix := range ixs {
		if ix != nil && ix.AckLatency() > 2*time.Second {
			t.Errorf("an ack took %s", ix.AckLatency())
		}
	}
	for _, ix := range ixs {
		if ix != nil {
			h.Reply(ix)
		}
	}
	// Each command makes its Graph calls one after another; the background
	// jobs may add one of their own.
	if peak := graph.peak.Load(); peak > workers+1 {
		t.Errorf("%d Graph requests in flight at once; want at most %d workers'", peak, workers)
	}
}

// A person may create or delete at most 10 app passwords a minute.
func TestCreateAndDeleteAreRateLimitedPerPerson(t *testing.T) {
	h := newHarness(t).start()
	for i := range 10 {
		if out := h.Ask(alice, fmt.Sprintf("create Phone %d", i)); h.SecretIn(out) == "" {
			t.Fatalf("create %d: %s", i, out)
		}
	}
	out := h.Ask(alice, "create One Too Many")
	if h.SecretIn(out) != "" || !strings.Contains(out, "minute") {
		t.Fatalf("the 11th create in a minute: %s", out)
	}
	key := h.Entra.CredentialsOf(entraID(alice))[0].KeyID
	if out := messageText(h.Reply(h.Click(alice, "delete_confirm", key))); strings.Contains(out, "Deleted") {
		t.Errorf("a delete beyond the rate was done: %s", out)
	}
	if out := h.Ask(bob, "create Laptop"); h.SecretIn(out) == "" {
		t.Errorf("another person was limited too: %s", out)
	}
	h.Clock.Add(61 * time.Second)
	if out := h.Ask(alice, "create Phone 11"); h.SecretIn(out) == "" {
		t.Errorf("create a minute later: %s", out)
	}
}
