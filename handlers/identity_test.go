package handlers_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/internal/testkit"
)

// countingDirectory counts the look-ups that reach Entra.
type countingDirectory struct {
	*testkit.Entra
	finds atomic.Int64
}

func (d *countingDirectory) FindUser(ctx context.Context, email string) (domain.User, error) {
	d.finds.Add(1)
	return d.Entra.FindUser(ctx, email)
}

// An unknown Slack user (no email, or none Entra knows) is remembered as
// unknown for a minute: repeating a command costs no Graph call.
func TestUnknownPeopleAreRememberedForAMinute(t *testing.T) {
	tests := []struct {
		name  string
		actor domain.Actor
		finds int64 // look-ups for the first try
	}{
		{"not in Entra", domain.Actor{SlackID: "UERIN", Email: "erin@elsewhere.test"}, 1},
		{"no email", domain.Actor{SlackID: "UNOMAIL"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			dir := &countingDirectory{Entra: w.entra}
			h := build(dir, w.entra, w.db, testkit.HandlersConfig(w.clock.Now))
			for i := range 3 {
				_, err := h.Identity.Resolve(context.Background(), tt.actor)
				if domain.KindOf(err) != domain.KindForbidden {
					t.Fatalf("try %d: %v, want forbidden", i, err)
				}
			}
			if got := dir.finds.Load(); got != tt.finds {
				t.Errorf("%d look-ups for three tries, want %d", got, tt.finds)
			}
			w.clock.Add(61 * time.Second)
			w.entra.AddUser(domain.User{ID: "e-new", UserPrincipalName: tt.actor.Email, Mail: tt.actor.Email, AccountEnabled: true})
			_, err := h.Identity.Resolve(context.Background(), tt.actor)
			if tt.actor.Email != "" && err != nil {
				t.Errorf("a minute later, after being added to Entra: %v", err)
			}
			if got := dir.finds.Load(); tt.actor.Email != "" && got != tt.finds+1 {
				t.Errorf("%d look-ups after a minute, want %d", got, tt.finds+1)
			}
		})
	}
}
