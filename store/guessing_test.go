package store_test

import (
	"bytes"
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
	const window = 15 * time.Minute
	for i, f := range []struct {
		subject, addr string
		at            time.Time
		want          int
	}{
		{"o:alice", "192.0.2.1", t0, 1},
		{"o:alice", "192.0.2.1", t0.Add(time.Minute), 2},
		{"o:alice", "192.0.2.1", t0.Add(2 * time.Minute), 3},
		{"o:alice", "192.0.2.2", t0.Add(2 * time.Minute), 1},
		{"o:bob", "192.0.2.1", t0.Add(2 * time.Minute), 1},
		{"*", "192.0.2.1", t0.Add(2 * time.Minute), 1},
	} {
		got, err := db.LoginFailed(ctx, f.subject, f.addr, f.at, window)
		if err != nil {
			t.Fatal(err)
		}
		if got != f.want {
			t.Errorf("failure %d (%s from %s): count %d, want %d", i+1, f.subject, f.addr, got, f.want)
		}
	}
	tests := []struct {
		name, subject, addr string
		since               time.Time
		want                int
	}{
		{"the pair", "o:alice", "192.0.2.1", t0.Add(-window), 3},
		{"window began before since", "o:alice", "192.0.2.1", t0.Add(time.Millisecond), 0},
		{"other address", "o:alice", "192.0.2.2", t0.Add(-window), 1},
		{"other subject", "o:bob", "192.0.2.1", t0.Add(-window), 1},
		{"unknown pair", "o:carol", "192.0.2.1", t0.Add(-window), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.LoginFailures(ctx, tt.subject, tt.addr, tt.since)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("LoginFailures = %d, want %d", got, tt.want)
			}
		})
	}
	t.Run("a new window starts from one", func(t *testing.T) {
		got, err := db.LoginFailed(ctx, "o:alice", "192.0.2.1", t0.Add(window), window)
		if err != nil || got != 1 {
			t.Errorf("first failure after the window: %d, %v; want 1", got, err)
		}
	})
	t.Run("forget one pair", func(t *testing.T) {
		if err := db.ForgetLoginFailures(ctx, "o:alice", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			subject, addr string
			want          int
		}{{"o:alice", "192.0.2.1", 0}, {"o:alice", "192.0.2.2", 1}, {"o:bob", "192.0.2.1", 1}} {
			got, err := db.LoginFailures(ctx, c.subject, c.addr, t0.Add(-window))
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("%s from %s after forgetting alice from 192.0.2.1: %d, want %d", c.subject, c.addr, got, c.want)
			}
		}
	})
	t.Run("older than a day pruned on insert", func(t *testing.T) {
		if _, err := db.LoginFailed(ctx, "o:carol", "192.0.2.9", t0.Add(25*time.Hour), window); err != nil {
			t.Fatal(err)
		}
		got, err := db.LoginFailures(ctx, "o:bob", "192.0.2.1", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if got != 0 {
			t.Errorf("bob's failure of a day ago still counted: %d, want 0", got)
		}
	})
}

// Many failures of one pair are one row: the store does not grow with
// the traffic.
func TestLoginFailuresAreBounded(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		for i := range 200 {
			if _, err := db.LoginFailed(ctx, "*", "192.0.2.1", t0.Add(time.Duration(i)*time.Second), 15*time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		if n := db.CountRowsForTest(t, "login_failure_counts"); n != 1 {
			t.Errorf("200 failures of one pair: %d rows, want 1", n)
		}
	})
}

func TestClaimGuessingAlert(t *testing.T) { forEachDB(t, testClaimGuessingAlert) }

func testClaimGuessingAlert(t *testing.T, db *store.DB) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	const window = 15 * time.Minute
	fail := func(subject, addr string, at time.Time) {
		if _, err := db.LoginFailed(ctx, subject, addr, at, window); err != nil {
			t.Fatal(err)
		}
	}
	fail("o:alice", "192.0.2.1", t0)
	fail("o:alice", "192.0.2.2", t0)
	steps := []struct {
		name    string
		forget  bool // ForgetLoginFailures before claiming
		subject string
		addr    string
		at      time.Time
		want    bool
	}{
		{"first claim", false, "o:alice", "192.0.2.1", t0, true},
		{"again in the window", false, "o:alice", "192.0.2.1", t0.Add(time.Minute), false},
		{"other address", false, "o:alice", "192.0.2.2", t0.Add(2 * time.Minute), true},
		{"no failures counted", false, "o:bob", "192.0.2.1", t0.Add(2 * time.Minute), false},
		{"just inside the window", false, "o:alice", "192.0.2.1", t0.Add(window), false},
		{"after the window", false, "o:alice", "192.0.2.1", t0.Add(window + time.Millisecond), true},
		{"after a success, nothing to claim", true, "o:alice", "192.0.2.1", t0.Add(window + 2*time.Minute), false},
	}
	for _, s := range steps {
		if s.forget {
			if err := db.ForgetLoginFailures(ctx, s.subject, s.addr); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.ClaimGuessingAlert(ctx, s.subject, s.addr, s.at, s.at.Add(-window))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got != s.want {
			t.Errorf("%s: claimed = %v, want %v", s.name, got, s.want)
		}
	}
}

// Replicas racing to claim one alert, or one login place: exactly one
// wins.
func TestClaimsAcrossHandles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		dbs := []*store.DB{mustOpen(t, dsn), mustOpen(t, dsn)}
		ctx := context.Background()
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		if _, err := dbs[0].LoginFailed(ctx, "o:alice", "192.0.2.1", at, 15*time.Minute); err != nil {
			t.Fatal(err)
		}
		race := func(claim func(i int) (bool, error)) int {
			var (
				mu   sync.Mutex
				wins int
				wg   sync.WaitGroup
			)
			for i := range 8 {
				wg.Go(func() {
					won, err := claim(i)
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
			return wins
		}
		if wins := race(func(i int) (bool, error) {
			return dbs[i%2].ClaimGuessingAlert(ctx, "o:alice", "192.0.2.1", at, at.Add(-15*time.Minute))
		}); wins != 1 {
			t.Errorf("%d of 8 alert claims on two handles won, want exactly 1", wins)
		}
		if wins := race(func(i int) (bool, error) {
			return dbs[i%2].ClaimLoginAttempt(ctx, "o:alice", string(rune('a'+i)), at, 30*time.Second)
		}); wins != 1 {
			t.Errorf("%d of 8 login-attempt claims on two handles won, want exactly 1", wins)
		}
	})
}

func TestLoginAttemptPlace(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		const ttl = 30 * time.Second
		steps := []struct {
			name, holder string
			release      bool
			at           time.Time
			want         bool
		}{
			{"first", "one", false, at, true},
			{"held", "two", false, at.Add(time.Second), false},
			{"held by oneself too", "one", false, at.Add(time.Second), false},
			{"expired", "two", false, at.Add(ttl), true},
			{"released", "three", true, at.Add(ttl + time.Second), true},
		}
		for _, s := range steps {
			if s.release {
				if err := db.ReleaseLoginAttempt(ctx, "o:alice", "two"); err != nil {
					t.Fatal(err)
				}
			}
			got, err := db.ClaimLoginAttempt(ctx, "o:alice", s.holder, s.at, ttl)
			if err != nil {
				t.Fatal(err)
			}
			if got != s.want {
				t.Errorf("%s: won = %v, want %v", s.name, got, s.want)
			}
		}
	})
}

// Every process on a database hashes user names under the same key.
func TestGatewayKeyIsShared(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		one, two := mustOpen(t, dsn), mustOpen(t, dsn)
		a, err := one.GatewayKey(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b, err := two.GatewayKey(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != 32 || !bytes.Equal(a, b) {
			t.Errorf("keys of two handles: %x and %x, want the same 32 bytes", a, b)
		}
	})
}
