package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
)

// file has requester ask for target's password "Laptop" to be revoked.
func (w *world) file(t *testing.T, requester, target testPerson) domain.RevocationRequest {
	t.Helper()
	req, err := w.h.Revocations.Request(context.Background(), requester.actor, []domain.Actor{target.actor}, "Laptop", false, "lost")
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
			req, err := w.h.Revocations.Request(context.Background(), tt.requester.actor, []domain.Actor{tt.target}, tt.pw, tt.all, tt.reason)
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

// One request for several people (the admin center's "selected users"):
// one decision covers all of them, nobody among them may decide it, and
// each one's passwords and outcomes stay theirs.
func TestRevocationOfSeveralPeople(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.create(t, alice, "Scanner")
	w.create(t, alice, "Laptop")
	w.create(t, hana, "Scanner")
	w.create(t, bob, "Phone")
	// bob twice (mention and address): counted once.
	targets := []domain.Actor{alice.actor, hana.actor, bob.actor, {Email: bob.user.Mail}}
	req, err := w.h.Revocations.Request(ctx, adam.actor, targets, "", true, "the shared scanner was compromised")
	if err != nil {
		t.Fatal(err)
	}
	if got := req.TargetNames(); strings.Join(got, " ") != "alice@example.test hana@example.test bob@example.test" {
		t.Errorf("targets = %q, want alice, hana and bob once each", got)
	}
	if len(req.ItemsOf(alice.user.ID)) != 2 || len(req.ItemsOf(hana.user.ID)) != 1 || len(req.ItemsOf(bob.user.ID)) != 1 {
		t.Errorf("items = %+v, want 2 of alice's, 1 of hana's, 1 of bob's", req.Items)
	}
	// Each of them sees the request in their own history.
	for _, p := range []testPerson{alice, hana, bob} {
		if n := w.auditCount(t, p, "revoke-request"); n != 1 {
			t.Errorf("%s has %d revoke-request events, want 1", p.user.ID, n)
		}
	}

	// hana is helpdesk, and one of the people: not hers to decide.
	if _, err := w.h.Revocations.Approve(ctx, hana.actor, req.ID); domain.KindOf(err) != domain.KindForbidden ||
		!strings.Contains(domain.MessageOf(err), "Your own app passwords are among these") {
		t.Fatalf("hana's approval: err = %v, want forbidden", err)
	}
	if len(w.entra.Passwords(alice.user.ID)) != 2 {
		t.Fatal("a refused approval removed something")
	}

	// A Graph failure on one of alice's leaves the request partly done.
	laptop := w.entra.Passwords(alice.user.ID)[1].KeyID
	w.entra.RemovePasswordFault = func(_ context.Context, _, keyID string) error {
		if keyID == laptop {
			return domain.Errorf(domain.KindUpstream, "Microsoft 365 is busy.")
		}
		return nil
	}
	got, err := w.h.Revocations.Approve(ctx, hugo.actor, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != domain.RevocationPartial {
		t.Fatalf("status = %s, want partial", got.Status)
	}
	for _, it := range got.Items {
		if want := it.Password.KeyID != laptop; it.Done() != want {
			t.Errorf("%s of %s: outcome %q", it.Password.Name, it.TargetID, it.Outcome)
		}
	}
	if left := w.entra.Passwords(alice.user.ID); len(left) != 1 || left[0].KeyID != laptop {
		t.Errorf("alice keeps %+v, want only the laptop's", left)
	}
	if len(w.entra.Passwords(hana.user.ID))+len(w.entra.Passwords(bob.user.ID)) != 0 {
		t.Error("hana or bob keeps a password")
	}

	// Retry does the failed one only, and finishes the request.
	w.entra.RemovePasswordFault = nil
	before := len(w.entra.Removed())
	got, err = w.h.Revocations.Approve(ctx, hugo.actor, req.ID)
	if err != nil || got.Status != domain.RevocationDone {
		t.Fatalf("retry: %v, status %s; want done", err, got.Status)
	}
	if removed := w.entra.Removed()[before:]; len(removed) != 1 || removed[0] != laptop {
		t.Errorf("retry removed %v, want only %s", removed, laptop)
	}
}

func TestRevocationOfSeveralPeopleRefusals(t *testing.T) {
	ctx := context.Background()
	many := make([]domain.Actor, domain.MaxRevocationTargets+1)
	for i := range many {
		many[i] = domain.Actor{Email: fmt.Sprintf("p%d@example.test", i)}
	}
	tests := []struct {
		name    string
		targets []domain.Actor
		pw      string
		all     bool
		want    domain.Kind
		wantMsg string
	}{
		{"nobody", nil, "", true, domain.KindInvalid, "Name at least one person"},
		{"too many", many, "", true, domain.KindInvalid, "at most 50 people, and this one names 51"},
		{"one unknown", []domain.Actor{alice.actor, {Email: "erin@elsewhere.test"}}, "", true, domain.KindNotFound,
			"erin@elsewhere.test: That Slack user doesn't match"},
		{"a name some lack", []domain.Actor{alice.actor, bob.actor, hana.actor}, "Scanner", false, domain.KindNotFound,
			"bob@example.test and hana@example.test have no app password called “Scanner”"},
		{"nobody has any", []domain.Actor{bob.actor, hana.actor}, "", true, domain.KindConflict, "None of these 2 people"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.create(t, alice, "Scanner")
			_, err := w.h.Revocations.Request(ctx, adam.actor, tt.targets, tt.pw, tt.all, "compromised")
			if domain.KindOf(err) != tt.want || !strings.Contains(domain.MessageOf(err), tt.wantMsg) {
				t.Errorf("err = %v (kind %v), want kind %v saying %q", err, domain.KindOf(err), tt.want, tt.wantMsg)
			}
			if n, err := w.db.PendingRevocations(ctx); err != nil || n != 0 {
				t.Errorf("%d requests filed (%v), want none", n, err)
			}
		})
	}
	// A name every one of them has: one item each.
	w := newWorld(t)
	w.create(t, alice, "Scanner")
	w.create(t, bob, "scanner")
	req, err := w.h.Revocations.Request(ctx, adam.actor, []domain.Actor{alice.actor, bob.actor}, "Scanner", false, "compromised")
	if err != nil || len(req.Items) != 2 || req.Items[0].TargetID != alice.user.ID || req.Items[1].TargetID != bob.user.ID {
		t.Fatalf("request = %+v, %v; want alice's and bob's Scanner", req, err)
	}
}

// auditCount counts p's audit events of action.
func (w *world) auditCount(t *testing.T, p testPerson, action string) int {
	t.Helper()
	events, err := w.db.AuditFor(context.Background(), p.user.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Action == action {
			n++
		}
	}
	return n
}

// An approval that runs out of time (50 people with 40 passwords each at
// Graph's latency can) stops starting removals shortly before its
// deadline, records what it did, and leaves the rest for Retry.
func TestApprovalOutOfTimeLeavesTheRestForRetry(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	for _, n := range []string{"a", "b", "c"} {
		w.create(t, alice, n)
	}
	w.create(t, bob, "d")
	w.create(t, bob, "e")
	req, err := w.h.Revocations.Request(ctx, adam.actor, []domain.Actor{alice.actor, bob.actor}, "", true, "left")
	if err != nil {
		t.Fatal(err)
	}
	// bob's first removal hangs on a slow Graph until the work's time is up.
	w.entra.RemovePasswordFault = func(ctx context.Context, owner, _ string) error {
		if owner == bob.user.ID {
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}
	click, cancel := context.WithTimeout(ctx, handlers.RecordMargin+200*time.Millisecond)
	defer cancel()
	got, err := w.h.Revocations.Approve(click, hugo.actor, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != domain.RevocationPartial || len(w.entra.Passwords(alice.user.ID)) != 0 || len(w.entra.Passwords(bob.user.ID)) != 2 {
		t.Fatalf("status %s; alice keeps %d, bob %d; want partial, 0 and 2", got.Status,
			len(w.entra.Passwords(alice.user.ID)), len(w.entra.Passwords(bob.user.ID)))
	}
	for _, it := range got.ItemsOf(bob.user.ID) {
		if it.Outcome != "" {
			t.Errorf("bob's %s: outcome %q, want none (not reached)", it.Password.Name, it.Outcome)
		}
	}
	w.entra.RemovePasswordFault = nil
	got, err = w.h.Revocations.Approve(ctx, hugo.actor, req.ID)
	if err != nil || got.Status != domain.RevocationDone || len(w.entra.Passwords(bob.user.ID)) != 0 {
		t.Fatalf("retry: %v, status %s, bob keeps %d", err, got.Status, len(w.entra.Passwords(bob.user.ID)))
	}
}
