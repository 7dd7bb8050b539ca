package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/store"
)

func TestLoginFailures(t *testing.T) { forEachDB(t, testLoginFailures) }

func testLoginFailures(t *testing.T, db *store.DB) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, f := range []struct {
		user, addr string
		at         time.Time
	}{
		{"alice@contoso.test", "192.0.2.1", t0},
		{"Alice@Contoso.test", "192.0.2.1", t0.Add(time.Minute)},
		{"alice@contoso.test", "192.0.2.1", t0.Add(2 * time.Minute)},
		{"alice@contoso.test", "192.0.2.2", t0.Add(2 * time.Minute)},
		{"bob@contoso.test", "192.0.2.1", t0.Add(2 * time.Minute)},
	} {
		if err := db.LoginFailed(ctx, f.user, f.addr, f.at); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, user, addr string
		since            time.Time
		want             int
	}{
		{"all of the pair, any case", "ALICE@contoso.test", "192.0.2.1", t0, 3},
		{"since the second", "alice@contoso.test", "192.0.2.1", t0.Add(time.Minute), 2},
		{"other address", "alice@contoso.test", "192.0.2.2", t0, 1},
		{"other user", "bob@contoso.test", "192.0.2.1", t0, 1},
		{"none yet", "alice@contoso.test", "192.0.2.1", t0.Add(3 * time.Minute), 0},
		{"unknown pair", "carol@contoso.test", "192.0.2.1", t0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.LoginFailures(ctx, tt.user, tt.addr, tt.since)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("LoginFailures = %d, want %d", got, tt.want)
			}
		})
	}

	t.Run("forget one pair", func(t *testing.T) {
		if err := db.ForgetLoginFailures(ctx, "Alice@contoso.test", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			user, addr string
			want       int
		}{{"alice@contoso.test", "192.0.2.1", 0}, {"alice@contoso.test", "192.0.2.2", 1}, {"bob@contoso.test", "192.0.2.1", 1}} {
			got, err := db.LoginFailures(ctx, c.user, c.addr, t0)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("%s from %s after forgetting alice from 192.0.2.1: %d, want %d", c.user, c.addr, got, c.want)
			}
		}
	})

	t.Run("older than a day pruned on insert", func(t *testing.T) {
		if err := db.LoginFailed(ctx, "carol@contoso.test", "192.0.2.9", t0.Add(25*time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err := db.LoginFailures(ctx, "bob@contoso.test", "192.0.2.1", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if got != 0 {
			t.Errorf("bob's failure of a day ago still counted: %d, want 0", got)
		}
	})
}

func TestClaimGuessingAlert(t *testing.T) { forEachDB(t, testClaimGuessingAlert) }

func testClaimGuessingAlert(t *testing.T, db *store.DB) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	const window = 15 * time.Minute
	steps := []struct {
		name   string
		forget bool // ForgetLoginFailures before claiming
		user   string
		addr   string
		at     time.Time
		want   bool
	}{
		{"first claim", false, "alice@contoso.test", "192.0.2.1", t0, true},
		{"again in the window", false, "alice@contoso.test", "192.0.2.1", t0.Add(time.Minute), false},
		{"other case, same pair", false, "ALICE@contoso.test", "192.0.2.1", t0.Add(2 * time.Minute), false},
		{"other address", false, "alice@contoso.test", "192.0.2.2", t0.Add(2 * time.Minute), true},
		{"just inside the window", false, "alice@contoso.test", "192.0.2.1", t0.Add(window), false},
		{"after the window", false, "alice@contoso.test", "192.0.2.1", t0.Add(window + time.Millisecond), true},
		{"claimed again just now", false, "alice@contoso.test", "192.0.2.1", t0.Add(window + time.Minute), false},
		{"after a success", true, "alice@contoso.test", "192.0.2.1", t0.Add(window + 2*time.Minute), true},
	}
	for _, s := range steps {
		if s.forget {
			if err := db.ForgetLoginFailures(ctx, s.user, s.addr); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.ClaimGuessingAlert(ctx, s.user, s.addr, s.at, s.at.Add(-window))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got != s.want {
			t.Errorf("%s: claimed = %v, want %v", s.name, got, s.want)
		}
	}
}

// Replicas racing to claim one alert: exactly one wins.
func TestClaimGuessingAlertAcrossHandles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		dbs := []*store.DB{mustOpen(t, dsn), mustOpen(t, dsn)}
		ctx := context.Background()
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		var (
			mu   sync.Mutex
			wins int
			wg   sync.WaitGroup
		)
		for i := range 8 {
			wg.Go(func() {
				won, err := dbs[i%2].ClaimGuessingAlert(ctx, "alice@contoso.test", "192.0.2.1", at, at.Add(-15*time.Minute))
				if err != nil {
					t.Error(err)
					return
				}
				if won {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Errorf("%d of 8 claims on two handles won, want exactly 1", wins)
		}
	})
}
