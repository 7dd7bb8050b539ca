package gateway_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/internal/testkit"
)

// Two gateway replicas on one database, failures alternating between
// them: the limit counts them all, and the helpdesk hears of it once.
func TestGuessingLimitHoldsAcrossReplicas(t *testing.T) {
	for _, b := range []struct {
		name string
		dsn  func(testing.TB) string
	}{
		{"sqlite", func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "apppass.db") }},
		{"postgres", testkit.PostgresSchema},
	} {
		t.Run(b.name, func(t *testing.T) {
			one := newRigOn(t, b.dsn(t))
			two := one.replica()
			replicas := []*rig{one, two}
			if _, err := one.graph.FindMailbox(context.Background(), "bob@contoso.test"); err != nil {
				t.Fatal(err)
			}
			one.entra.ResetCalls()
			for i := range 5 {
				_, err := replicas[i%2].login("alice@contoso.test", fmt.Sprintf("guess-%02d-%s", i, strings.Repeat("x", 30)))
				if got := reply(err); got != "535 5.7.8" {
					t.Fatalf("failure %d, on replica %d: %s, want 535 5.7.8", i+1, i%2+1, got)
				}
			}
			tokens := one.entra.Count(fakeentra.OpToken)
			for i, r := range replicas {
				_, err := r.login("Alice@contoso.test", "guess-06-"+strings.Repeat("x", 30))
				if got := reply(err); got != "454 4.7.0" {
					t.Errorf("6th attempt on replica %d: %s, want 454 4.7.0", i+1, got)
				}
				if _, err := r.login("alice@contoso.test", r.password.SecretText); reply(err) != "454 4.7.0" {
					t.Errorf("right password on replica %d from the locked-out address: %s, want 454 4.7.0", i+1, reply(err))
				}
			}
			if got := one.entra.Count(fakeentra.OpToken); got != tokens {
				t.Errorf("locked-out attempts cost Entra %d token requests, want 0", got-tokens)
			}
			if n := one.alerts.count(); n != 1 {
				t.Errorf("helpdesk alerted %d times by two replicas, want once", n)
			}
		})
	}
}

// A store that cannot count failures refuses the login for now rather
// than ask Entra without a bound.
func TestGuessingLimitFailsClosed(t *testing.T) {
	r := newRig(t)
	if _, err := r.graph.FindMailbox(context.Background(), "bob@contoso.test"); err != nil {
		t.Fatal(err)
	}
	r.entra.ResetCalls()
	r.db.Close()
	if _, err := r.login("alice@contoso.test", r.password.SecretText); reply(err) != "454 4.7.0" {
		t.Errorf("login with the store down: %s, want 454 4.7.0", reply(err))
	}
	if n := r.entra.Count(fakeentra.OpToken); n != 0 {
		t.Errorf("login with the store down cost Entra %d token requests, want 0", n)
	}
	if !strings.Contains(r.logs.String(), "guessing limit unavailable") {
		t.Errorf("the store's failure is not logged:\n%s", r.logs.String())
	}
}
