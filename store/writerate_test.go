package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/store"
)

// Two replicas taking creates and deletes for one person at once: 10 in
// a minute in all, not 10 each.
func TestWriteLimitAcrossReplicas(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		dbs := []*store.DB{mustOpen(t, dsn), mustOpen(t, dsn)}
		ctx := context.Background()
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		var (
			mu      sync.Mutex
			allowed int
			wg      sync.WaitGroup
		)
		for i := range 30 {
			wg.Go(func() {
				ok, err := dbs[i%2].AllowWrite(ctx, "U0ALICE", at.Add(time.Duration(i)*time.Millisecond), time.Minute, 10)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if allowed != 10 {
			t.Errorf("30 writes in a minute on two replicas: %d allowed, want 10", allowed)
		}
		if ok, err := dbs[0].AllowWrite(ctx, "U0BOB", at, time.Minute, 10); err != nil || !ok {
			t.Errorf("another person: %v, %v; want allowed", ok, err)
		}
		if ok, err := dbs[1].AllowWrite(ctx, "U0ALICE", at.Add(time.Minute+30*time.Millisecond), time.Minute, 10); err != nil || !ok {
			t.Errorf("a minute later: %v, %v; want allowed", ok, err)
		}
	})
}
