package bot

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Writes per person: at most writesPerWindow creates and deletes in any
// writeWindow (SPEC §11).
const (
	writesPerWindow = 10
	writeWindow     = time.Minute
	maxWriters      = 10000 // people tracked at once
)

// writeRate counts each person's create and delete attempts in a sliding
// window: in the store when shared is set, so that the limit holds across
// replicas, else in this process. It is safe for concurrent use.
type writeRate struct {
	now    func() time.Time
	shared WriteCounter
	log    *slog.Logger

	mu     sync.Mutex
	recent map[string][]time.Time // by Slack id, oldest first
}

// allow records an attempt by slackID and reports whether it is within
// the rate. A refused attempt is not recorded. When the store cannot
// count, this process's count decides: a store outage does not stop
// people from removing passwords.
func (r *writeRate) allow(ctx context.Context, slackID string) bool {
	if r.shared != nil {
		ok, err := r.shared.AllowWrite(ctx, slackID, r.now(), writeWindow, writesPerWindow)
		if err == nil {
			return ok
		}
		r.log.WarnContext(ctx, "counting writes in the store failed; counting in this process", "err", err)
	}
	return r.allowLocal(slackID)
}

func (r *writeRate) allowLocal(slackID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if r.recent == nil {
		r.recent = map[string][]time.Time{}
	}
	if len(r.recent) >= maxWriters {
		for id, ts := range r.recent {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= writeWindow {
				delete(r.recent, id)
			}
		}
	}
	ts := r.recent[slackID]
	for len(ts) > 0 && now.Sub(ts[0]) >= writeWindow {
		ts = ts[1:]
	}
	if len(ts) >= writesPerWindow {
		r.recent[slackID] = ts
		return false
	}
	r.recent[slackID] = append(ts, now)
	return true
}
