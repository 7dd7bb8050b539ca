package handlers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
)

// create makes and delivers a password for p, failing the test on error.
func (w *world) create(t *testing.T, p testPerson, name string) domain.Password {
	t.Helper()
	iss, _, err := w.h.Passwords.Create(context.Background(), p.actor, name)
	if err != nil {
		t.Fatalf("create %s for %s: %v", name, p.actor.Name, err)
	}
	iss.Delivered(context.Background())
	return iss.Password
}

// The reconciler removes only credentials nobody received: never one
// that was delivered, even with the same name.
func TestReconcileNeverRemovesDeliveredCredentials(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)

	// An ambiguous failure while Graph hides the new credential: the
	// request cannot find it, so the record stays pending.
	var ghost string
	w.entra.AddPasswordFault = func(p domain.Password) error {
		ghost = p.KeyID
		w.entra.Hide(p.KeyID)
		return domain.Errorf(domain.KindUpstream, "503")
	}
	if _, _, err := w.h.Passwords.Create(ctx, alice.actor, "Phone"); err == nil {
		t.Fatal("ambiguous create reported success")
	}
	// The person retries at once and gets a password with the same name
	// (the first is invisible to the duplicate check).
	w.entra.AddPasswordFault = nil
	p := w.create(t, alice, "Phone")
	// Later, Graph shows both; the reconciler runs.
	w.entra.ShowAll()
	w.clock.Add(3 * time.Minute)
	if _, err := w.h.Reconciler.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if got := w.entra.Removed(); len(got) != 1 || got[0] != ghost {
		t.Fatalf("removed %v, want only the undelivered %s", got, ghost)
	}
	if left := w.entra.Passwords(alice.user.ID); len(left) != 1 || left[0].KeyID != p.KeyID {
		t.Fatalf("left %+v, want the delivered one", left)
	}
}

// A record whose credential never appears is given up after GiveUpAfter,
// not retried forever.
func TestReconcileGivesUp(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.entra.AddPasswordFault = func(p domain.Password) error {
		w.entra.Discard(p.KeyID) // nothing was created
		return errors.New("connection reset")
	}
	if _, _, err := w.h.Passwords.Create(ctx, alice.actor, "Phone"); err == nil {
		t.Fatal("failed create reported success")
	}
	w.clock.Add(10 * time.Minute)
	_, _ = w.h.Reconciler.Reconcile(ctx)
	if recs, _ := w.db.CredentialsToReconcile(ctx, w.clock.Now()); len(recs) != 1 {
		t.Fatalf("record closed too early: %d open", len(recs))
	}
	w.clock.Add(time.Hour)
	_, _ = w.h.Reconciler.Reconcile(ctx)
	if recs, _ := w.db.CredentialsToReconcile(ctx, w.clock.Now()); len(recs) != 0 {
		t.Fatalf("record never given up: %d open", len(recs))
	}
}

// A delivery failure removes the new credential and says so.
func TestUndeliveredIsRemoved(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	iss, _, err := w.h.Passwords.Create(ctx, alice.actor, "Phone")
	if err != nil {
		t.Fatal(err)
	}
	err = iss.Undeliverable(ctx, errors.New("expired_url"))
	if err == nil || !strings.Contains(domain.MessageOf(err), "removed it again") {
		t.Fatalf("err = %v", err)
	}
	if left, removed := w.entra.Passwords(alice.user.ID), w.entra.Removed(); len(left) != 0 || len(removed) != 1 {
		t.Fatalf("undelivered credential left: %+v (removed %v)", left, removed)
	}
}

// A password whose delivery was neither confirmed nor refused (the
// process died while showing it) is removed by the reconciler.
func TestUnconfirmedDeliveryIsReconciled(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	if _, _, err := w.h.Passwords.Create(ctx, alice.actor, "Phone"); err != nil {
		t.Fatal(err)
	}
	w.clock.Add(3 * time.Minute)
	if _, err := w.h.Reconciler.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if left := w.entra.Passwords(alice.user.ID); len(left) != 0 {
		t.Fatalf("an unconfirmed password survived: %+v", left)
	}
}
