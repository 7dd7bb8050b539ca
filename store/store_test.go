package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/store"
)

func TestMigrateIsRepeatable(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := mustOpen(t, dsn)
		if err := db.SaveUser(ctx, "U1", domain.User{ID: "e1", UserPrincipalName: "a@x"}); err != nil {
			t.Fatal(err)
		}
		db.Close()
		db2 := mustOpen(t, dsn)
		got, err := db2.KnownPeople(ctx, []string{"e1"})
		if err != nil || got["e1"].SlackID != "U1" {
			t.Fatalf("KnownPeople after reopen = %v, %v; want U1", got, err)
		}
	})
}

func TestNotFoundIsDomainNotFound(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		_, err := db.Application(context.Background(), "nobody")
		if domain.KindOf(err) != domain.KindNotFound {
			t.Fatalf("Application(nobody) err = %v, want not found", err)
		}
		_, err = db.Revocation(context.Background(), 42)
		if domain.KindOf(err) != domain.KindNotFound {
			t.Fatalf("Revocation(42) err = %v, want not found", err)
		}
	})
}

func TestCredentialLifecycle(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }

		id, err := db.BeginCredential(ctx, "owner", "app", "iPhone", []string{"k0"})
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(3 * time.Minute)
		toReconcile, err := db.CredentialsToReconcile(ctx, now.Add(-2*time.Minute))
		if err != nil || len(toReconcile) != 1 || toReconcile[0].Name != "iPhone" || toReconcile[0].KnownKeys[0] != "k0" {
			t.Fatalf("CredentialsToReconcile = %+v, %v; want the pending iPhone record", toReconcile, err)
		}
		p := domain.Password{KeyID: "k1", Name: "iPhone", Hint: "abc", Created: now, Expires: now.Add(time.Hour)}
		if err := db.CredentialIssued(ctx, id, p, domain.CredentialDelivered); err != nil {
			t.Fatal(err)
		}
		toReconcile, _ = db.CredentialsToReconcile(ctx, now)
		if len(toReconcile) != 0 {
			t.Fatalf("delivered record still toReconcile: %+v", toReconcile)
		}
		recent, err := db.RecentCredentials(ctx, "owner", now.Add(-time.Minute))
		if err != nil || len(recent) != 1 {
			t.Fatalf("RecentCredentials = %+v, %v", recent, err)
		}
		if got := recent[0].Password; got.KeyID != "k1" || got.Hint != "abc" || !got.Expires.Equal(p.Expires) {
			t.Errorf("recent password = %+v, want %+v", got, p)
		}
		if err := db.CredentialRemoved(ctx, "owner", "app", p); err != nil {
			t.Fatal(err)
		}
		if err := db.CredentialRemoved(ctx, "owner", "app", domain.Password{KeyID: "k9", Name: "old"}); err != nil {
			t.Fatal(err)
		}
		recent, _ = db.RecentCredentials(ctx, "owner", now.Add(-time.Minute))
		if len(recent) != 2 || recent[0].State != domain.CredentialRemoved || recent[1].State != domain.CredentialRemoved {
			t.Fatalf("after removals: %+v", recent)
		}
	})
}

func TestAuditNewestFirst(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i, action := range []string{"create", "delete", "create"} {
			if err := db.Audit(ctx, domain.AuditEvent{At: base.Add(time.Duration(i) * time.Hour), SubjectID: "s", Action: action, Outcome: "ok"}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.AuditFor(ctx, "s", 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Action != "create" || got[1].Action != "delete" || !got[0].At.Equal(base.Add(2*time.Hour)) {
			t.Fatalf("AuditFor = %+v", got)
		}
	})
}
