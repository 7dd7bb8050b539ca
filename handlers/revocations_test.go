package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
)

// file has requester ask for target's password "Laptop" to be revoked.
func (w *world) file(t *testing.T, requester, target testPerson) domain.RevocationRequest {
	t.Helper()
	req, err := w.h.Revocations.Request(context.Background(), requester.actor, target.actor, "Laptop", false, "lost")
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	return req
}

func TestWhoMayRequestARevocation(t *testing.T) {
	tests := []struct {
		name      string
		requester testPerson
		target    domain.Actor
		pw        string
		all       bool
		reason    string
		want      domain.Kind // KindInternal: no error
		wantMsg   string
	}{
		{"admin, one password", adam, alice.actor, "laptop", false, "lost", domain.KindInternal, ""},
		{"admin, all", adam, alice.actor, "", true, "left", domain.KindInternal, ""},
		{"admin and helpdesk", holly, alice.actor, "Laptop", false, "lost", domain.KindInternal, ""},
		{"employee", bob, alice.actor, "Laptop", false, "lost", domain.KindForbidden, "Only apppass admins"},
		{"helpdesk only", hana, alice.actor, "Laptop", false, "lost", domain.KindForbidden, "Only apppass admins"},
		{"no reason", adam, alice.actor, "Laptop", false, "  ", domain.KindInvalid, "reason"},
		{"reason too long", adam, alice.actor, "Laptop", false, strings.Repeat("x", 501), domain.KindInvalid, "under 500"},
		{"target unknown to Entra", adam, domain.Actor{SlackID: "UERIN", Email: "erin@elsewhere.test"}, "Laptop", false, "lost", domain.KindNotFound, "doesn't match"},
		{"target without email", adam, domain.Actor{SlackID: "UBOT"}, "Laptop", false, "lost", domain.KindNotFound, "no email"},
		{"no such password", adam, alice.actor, "Phone", false, "lost", domain.KindNotFound, "no app password called “Phone”"},
		{"all of nothing", adam, bob.actor, "", true, "left", domain.KindConflict, "nothing to revoke"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.create(t, alice, "Laptop")
			req, err := w.h.Revocations.Request(context.Background(), tt.requester.actor, tt.target, tt.pw, tt.all, tt.reason)
			if tt.want == domain.KindInternal {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
				if req.ID == 0 || req.Status != domain.RevocationPending || len(req.Items) != 1 {
					t.Errorf("request = %+v, want one pending item", req)
				}
				return
			}
			if got := domain.KindOf(err); got != tt.want || !strings.Contains(domain.MessageOf(err), tt.wantMsg) {
				t.Errorf("err = %v (kind %v), want kind %v saying %q", err, got, tt.want, tt.wantMsg)
			}
		})
	}
}

func TestWhoMayDecideARevocation(t *testing.T) {
	tests := []struct {
		name      string
		requester testPerson
		target    testPerson
		decider   testPerson
		want      domain.Kind // KindInternal: may decide
		wantMsg   string
	}{
		{"helpdesk", adam, alice, hana, domain.KindInternal, ""},
		{"admin and helpdesk, not the requester", adam, alice, holly, domain.KindInternal, ""},
		{"admin only", holly, alice, adam, domain.KindForbidden, "Only helpdesk members"},
		{"employee", adam, alice, bob, domain.KindForbidden, "Only helpdesk members"},
		{"the target", adam, alice, alice, domain.KindForbidden, "Only helpdesk members"},
		{"helpdesk who asked", holly, alice, holly, domain.KindForbidden, "You asked for this revocation"},
		{"helpdesk whose passwords they are", adam, hana, hana, domain.KindForbidden, "your own app passwords"},
	}
	decisions := []struct {
		name   string
		decide func(w *world, who domain.Actor, id int64) error
	}{
		{"approve", func(w *world, who domain.Actor, id int64) error {
			_, err := w.h.Revocations.Approve(context.Background(), who, id)
			return err
		}},
		{"deny", func(w *world, who domain.Actor, id int64) error {
			_, err := w.h.Revocations.Deny(context.Background(), who, id, "not stolen")
			return err
		}},
	}
	for _, tt := range tests {
		for _, d := range decisions {
			t.Run(tt.name+"/"+d.name, func(t *testing.T) {
				w := newWorld(t)
				w.create(t, tt.target, "Laptop")
				req := w.file(t, tt.requester, tt.target)
				err := d.decide(w, tt.decider.actor, req.ID)
				if got := domain.KindOf(err); (err == nil) != (tt.want == domain.KindInternal) ||
					(err != nil && (got != tt.want || !strings.Contains(domain.MessageOf(err), tt.wantMsg))) {
					t.Fatalf("err = %v, want kind %v saying %q", err, tt.want, tt.wantMsg)
				}
				left := len(w.entra.Passwords(tt.target.user.ID))
				if removed := d.name == "approve" && err == nil; removed != (left == 0) {
					t.Errorf("%d passwords left after %s (err %v)", left, d.name, err)
				}
			})
		}
	}
}

func TestRevocationStatuses(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		before  func(t *testing.T, w *world, id int64)
		approve bool   // else deny
		want    string // in the error; "" for none
	}{
		{"pending: approve", func(*testing.T, *world, int64) {}, true, ""},
		{"pending: deny", func(*testing.T, *world, int64) {}, false, ""},
		{"approved already", func(t *testing.T, w *world, id int64) {
			if _, err := w.h.Revocations.Approve(ctx, hugo.actor, id); err != nil {
				t.Fatal(err)
			}
		}, true, "already decided (done)"},
		{"denied already", func(t *testing.T, w *world, id int64) {
			if _, err := w.h.Revocations.Deny(ctx, hugo.actor, id, "no"); err != nil {
				t.Fatal(err)
			}
		}, true, "already decided (denied)"},
		{"deny after approval", func(t *testing.T, w *world, id int64) {
			if _, err := w.h.Revocations.Approve(ctx, hugo.actor, id); err != nil {
				t.Fatal(err)
			}
		}, false, "already decided (done)"},
		{"being carried out", func(t *testing.T, w *world, id int64) {
			if won, err := w.db.ClaimRevocation(ctx, id, domain.RevocationApproving, hugo.actor.SlackID, hugo.user.ID, "", domain.RevocationPending); err != nil || !won {
				t.Fatal(won, err)
			}
		}, true, "being carried out by someone else"},
		{"past its time", func(t *testing.T, w *world, id int64) { w.clock.Add(73 * time.Hour) }, true, "has expired"},
		{"expired", func(t *testing.T, w *world, id int64) {
			w.clock.Add(73 * time.Hour)
			if got, err := w.h.Revocations.Expire(ctx); err != nil || len(got) != 1 {
				t.Fatal(got, err)
			}
		}, true, "has expired"},
		{"withdrawn", func(t *testing.T, w *world, id int64) {
			if err := w.h.Revocations.Cancel(ctx, id); err != nil {
				t.Fatal(err)
			}
		}, true, "was withdrawn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.create(t, alice, "Laptop")
			req := w.file(t, adam, alice)
			tt.before(t, w, req.ID)
			var err error
			if tt.approve {
				_, err = w.h.Revocations.Approve(ctx, hana.actor, req.ID)
			} else {
				_, err = w.h.Revocations.Deny(ctx, hana.actor, req.ID, "not stolen")
			}
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
				return
			}
			if domain.KindOf(err) != domain.KindConflict || !strings.Contains(domain.MessageOf(err), tt.want) {
				t.Errorf("err = %v, want a conflict saying %q", err, tt.want)
			}
		})
	}
}

// An approval that a crash left "approving" is finished once it is older
// than ResumeAfter, not before.
func TestResumeApprovals(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.create(t, alice, "Laptop")
	req := w.file(t, adam, alice)
	if won, err := w.db.ClaimRevocation(ctx, req.ID, domain.RevocationApproving, hana.actor.SlackID, hana.user.ID, "", domain.RevocationPending); err != nil || !won {
		t.Fatal(won, err)
	}
	if got, err := w.h.Revocations.ResumeApprovals(ctx); err != nil || len(got) != 0 {
		t.Fatalf("resumed a fresh approval: %v, %v", got, err)
	}
	w.clock.Add(2 * time.Minute)
	got, err := w.h.Revocations.ResumeApprovals(ctx)
	if err != nil || len(got) != 1 || got[0].Status != domain.RevocationDone || got[0].DecidedSlack != hana.actor.SlackID {
		t.Fatalf("resumed = %+v, %v; want request %d done, decided by hana", got, err, req.ID)
	}
	if left := w.entra.Passwords(alice.user.ID); len(left) != 0 {
		t.Errorf("left %+v", left)
	}
}
