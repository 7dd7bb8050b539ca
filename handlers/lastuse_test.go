package handlers_test

import (
	"context"
	"testing"
	"time"
)

// The mail gateway's last-use records show in list and show, without any
// sign-in data from Entra.
func TestGatewayLastUseShowsInListAndShow(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	p := w.create(t, alice, "Printer")
	used := w.clock.Now().Add(-time.Hour).Truncate(time.Millisecond)
	if err := w.db.PasswordUsed(ctx, alice.user.ID, p.KeyID, used); err != nil {
		t.Fatal(err)
	}
	l, err := w.h.Passwords.List(ctx, alice.actor)
	if err != nil || len(l.Passwords) != 1 || l.Passwords[0].LastUsed == nil || !l.Passwords[0].LastUsed.Equal(used) {
		t.Fatalf("list = %+v, %v; want last used %v", l.Passwords, err, used)
	}
	prof, err := w.h.Passwords.Show(ctx, hana.actor, alice.actor)
	if err != nil || len(prof.Passwords) != 1 || prof.Passwords[0].LastUsed == nil || !prof.Passwords[0].LastUsed.Equal(used) {
		t.Fatalf("show = %+v, %v; want last used %v", prof.Passwords, err, used)
	}
}
