package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/internal/testkit"
)

// A SQLite store copies into an empty PostgreSQL store table by table,
// with the same rows (booleans and identities included), after which the
// PostgreSQL store works as the SQLite one did; a second copy into it is
// refused.
func TestCopySQLiteToPostgres(t *testing.T) {
	ctx := context.Background()
	src := mustOpen(t, filepath.Join(t.TempDir(), "apppass.db"))
	if err := src.SaveUser(ctx, "UALICE", domain.User{ID: "e-alice", UserPrincipalName: "alice@x.test", Mail: "alice@x.test"}); err != nil {
		t.Fatal(err)
	}
	if err := src.SaveApplication(ctx, domain.Application{ObjectID: "o1", AppID: "a1", OwnerID: "e-alice", HasServicePrincipal: true}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := src.Audit(ctx, domain.AuditEvent{At: time.Unix(int64(1e9+i), 0), ActorSlack: "UALICE", SubjectID: "e-alice", Action: "create", Name: "n", Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	r := domain.RevocationRequest{RequesterSlack: "UADAM", RequesterID: "e-adam", Targets: []domain.RevocationTarget{{ID: "e-alice", Name: "alice@x.test"}}, All: true, Reason: "left"}
	if err := src.CreateRevocation(ctx, &r); err != nil {
		t.Fatal(err)
	}
	if _, err := src.ClaimAlert(ctx, "lifetime-policy", time.Unix(2e9, 0), time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}

	dst := mustOpen(t, testkit.PostgresSchema(t))
	copied, err := src.CopyTo(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]int64{"users": 1, "audit_events": 3, "alert_claims": 1, "revocation_targets": 1} {
		if copied[table] != want {
			t.Errorf("copied %d rows of %s, want %d (all: %v)", copied[table], table, want, copied)
		}
	}
	got, err := dst.Revocation(ctx, r.ID)
	if err != nil || !got.All || got.Reason != "left" || len(got.Targets) != 1 || got.Targets[0].ID != "e-alice" {
		t.Errorf("revocation on PostgreSQL = %+v, %v", got, err)
	}
	if app, err := dst.Application(ctx, "e-alice"); err != nil || app.ObjectID != "o1" || !app.HasServicePrincipal {
		t.Errorf("application on PostgreSQL = %+v, %v", app, err)
	}
	// Identities continue after the copied ids.
	if err := dst.Audit(ctx, domain.AuditEvent{At: time.Unix(2e9, 0), ActorSlack: "UALICE", SubjectID: "e-alice", Action: "delete", Outcome: "ok"}); err != nil {
		t.Errorf("audit after the copy: %v", err)
	}
	if events, err := dst.AuditFor(ctx, "e-alice", 10); err != nil || len(events) != 4 {
		t.Errorf("audit on PostgreSQL = %d events, %v; want 4", len(events), err)
	}
	if _, err := src.CopyTo(ctx, dst); err == nil {
		t.Error("a copy into a non-empty database was not refused")
	}
}
