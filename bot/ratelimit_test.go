package bot

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"
)

// sharedWrites is a store's write counter: allowed answers, or err.
type sharedWrites struct {
	allowed bool
	err     error
	calls   int
}

func (s *sharedWrites) AllowWrite(_ context.Context, _ string, _ time.Time, window time.Duration, limit int) (bool, error) {
	s.calls++
	if window != writeWindow || limit != writesPerWindow {
		return false, errors.New("asked with another rate")
	}
	return s.allowed, s.err
}

// With a store, the store's count decides (it counts every replica's
// writes); when the store fails, this process's count does, so an outage
// does not stop people removing passwords.
func TestWriteRateCountsInTheStore(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()

	refusing := &sharedWrites{allowed: false}
	r := &writeRate{now: func() time.Time { return now }, shared: refusing, log: quiet}
	if r.allow(ctx, "U0ALICE") || refusing.calls != 1 {
		t.Errorf("the store refused (another replica used the rate up), the bot allowed; %d store calls", refusing.calls)
	}

	down := &sharedWrites{err: errors.New("database is locked")}
	r = &writeRate{now: func() time.Time { return now }, shared: down, log: quiet}
	allowed := 0
	for range 15 {
		if r.allow(ctx, "U0ALICE") {
			allowed++
		}
	}
	if allowed != writesPerWindow {
		t.Errorf("store down: %d of 15 allowed, want the process's %d", allowed, writesPerWindow)
	}
}
