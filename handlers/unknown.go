package handlers

import (
	"sync"
	"time"
)

// unknownFor is how long a Slack user apppass could not match to Entra
// (no email, or none Entra knows) is remembered as unknown, so that
// repeating a command costs no Graph call (SPEC §11).
const unknownFor = time.Minute

// maxUnknown bounds the memory of unknown people.
const maxUnknown = 10000

// unknownPeople remembers refusals of people apppass cannot match, for
// unknownFor each. It is safe for concurrent use.
type unknownPeople struct {
	now func() time.Time

	mu      sync.Mutex
	refused map[string]unknownEntry // by Slack id
}

type unknownEntry struct {
	err   error
	until time.Time
}

// get returns the remembered refusal of slackID, if it is still fresh.
func (u *unknownPeople) get(slackID string) (error, bool) {
	if slackID == "" {
		return nil, false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	e, ok := u.refused[slackID]
	if !ok || !u.now().Before(e.until) {
		return nil, false
	}
	return e.err, true
}

// remember keeps err as slackID's refusal for unknownFor. When the memory
// is full, stale entries go first; if none is stale, nothing is added.
func (u *unknownPeople) remember(slackID string, err error) {
	if slackID == "" {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	now := u.now()
	if u.refused == nil {
		u.refused = map[string]unknownEntry{}
	}
	if len(u.refused) >= maxUnknown {
		for id, e := range u.refused {
			if !now.Before(e.until) {
				delete(u.refused, id)
			}
		}
		if len(u.refused) >= maxUnknown {
			return
		}
	}
	u.refused[slackID] = unknownEntry{err: err, until: now.Add(unknownFor)}
}
