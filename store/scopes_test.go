package store_test

import (
	"context"
	"testing"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/store"
)

func TestPasswordScopes(t *testing.T) { forEachDB(t, testPasswordScopes) }

func testPasswordScopes(t *testing.T, db *store.DB) {
	ctx := context.Background()
	if s, err := db.PasswordScope(ctx, "o1", "k-old"); err != nil || s.String() != "send" {
		t.Errorf("a password made before scopes = %v, %v; want send-only", s, err)
	}
	nets, err := domain.ParseNetworks("192.0.2.0/24, 2001:db8::1")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SavePasswordScope(ctx, "O1", "K1", domain.Scope{Send: true, Read: true, Networks: nets}); err != nil {
		t.Fatal(err)
	}
	if err := db.SavePasswordScope(ctx, "o1", "k2", domain.Scope{Read: true}); err != nil {
		t.Fatal(err)
	}
	got, err := db.PasswordScope(ctx, "o1", "k1")
	if want := "send, read · from 192.0.2.0/24,2001:db8::1/128"; err != nil || got.String() != want {
		t.Errorf("k1 = %v, %v; want %s", got, err, want)
	}
	all, err := db.PasswordScopes(ctx, "o1")
	if err != nil || len(all) != 2 || all["k2"].String() != "read" {
		t.Errorf("PasswordScopes = %v, %v", all, err)
	}
	if err := db.SavePasswordScope(ctx, "o1", "k1", domain.Scope{Read: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.PasswordScope(ctx, "o1", "k1"); got.String() != "read" {
		t.Errorf("narrowed k1 = %v", got)
	}
}
