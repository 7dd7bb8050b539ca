package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/store"
)

func newRevocation(t *testing.T, db *store.DB, expires time.Time) domain.RevocationRequest {
	t.Helper()
	r := domain.RevocationRequest{RequesterSlack: "UADMIN", RequesterID: "admin", TargetSlack: "UBOB", TargetID: "bob",
		TargetName: "Bob", All: true, Reason: "left", ExpiresAt: expires,
		Items: []domain.RevocationItem{
			{Password: domain.Password{KeyID: "k2", Name: "Phone", Hint: "ab", Created: t0}},
			{Password: domain.Password{KeyID: "k1", Name: "Laptop", Hint: "cd", Created: t0.Add(time.Hour)}},
		}}
	if err := db.CreateRevocation(context.Background(), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRevocationRoundTrip(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		db.Now = func() time.Time { return t0 }
		r := newRevocation(t, db, t0.Add(72*time.Hour))
		if err := db.SetRevocationOutcome(ctx, r.ID, "k1", domain.OutcomeRemoved); err != nil {
			t.Fatal(err)
		}
		if err := db.SetRevocationMessage(ctx, r.ID, "CHELP", "123.456"); err != nil {
			t.Fatal(err)
		}
		got, err := db.Revocation(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.All || got.TargetID != "bob" || got.Status != domain.RevocationPending || got.Channel != "CHELP" ||
			got.MessageTS != "123.456" || !got.CreatedAt.Equal(t0) || !got.ExpiresAt.Equal(t0.Add(72*time.Hour)) {
			t.Errorf("Revocation = %+v", got)
		}
		// Items come back in the order the helpdesk saw them.
		if len(got.Items) != 2 || got.Items[0].Password.KeyID != "k2" || got.Items[1].Password.KeyID != "k1" ||
			got.Items[1].Outcome != domain.OutcomeRemoved || !got.Items[1].Password.Created.Equal(t0.Add(time.Hour)) {
			t.Errorf("items = %+v, want k2 then k1 (removed)", got.Items)
		}
		if _, err := db.Revocation(ctx, r.ID+100); domain.KindOf(err) != domain.KindNotFound {
			t.Errorf("Revocation(missing) err = %v, want not found", err)
		}
		if n, err := db.PendingRevocations(ctx); err != nil || n != 1 {
			t.Errorf("PendingRevocations = %d, %v; want 1", n, err)
		}
	})
}

func TestClaimRevocation(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := t0
		db.Now = func() time.Time { return now }
		r := newRevocation(t, db, t0.Add(time.Hour))
		steps := []struct {
			name string
			to   domain.RevocationStatus
			from []domain.RevocationStatus
			want bool
		}{
			{"approve a pending request", domain.RevocationApproving, nil, true},
			{"deny it while it is approving", domain.RevocationDenied, nil, false},
			{"retry from partial while it is approving", domain.RevocationApproving, []domain.RevocationStatus{domain.RevocationPartial}, false},
			{"approve again from approving", domain.RevocationApproving, []domain.RevocationStatus{domain.RevocationApproving}, true},
		}
		for _, s := range steps {
			got, err := db.ClaimRevocation(ctx, r.ID, s.to, "UHELP", "help", "", s.from...)
			if err != nil || got != s.want {
				t.Fatalf("%s: ClaimRevocation = %v, %v; want %v", s.name, got, err, s.want)
			}
		}
		got, _ := db.Revocation(ctx, r.ID)
		if got.Status != domain.RevocationApproving || got.DecidedID != "help" || !got.DecidedAt.Equal(t0) {
			t.Errorf("after claims: %+v", got)
		}
		late := newRevocation(t, db, t0.Add(time.Hour))
		now = t0.Add(time.Hour)
		if ok, err := db.ClaimRevocation(ctx, late.ID, domain.RevocationApproving, "UHELP", "help", ""); err != nil || ok {
			t.Errorf("claiming an expired request = %v, %v; want false", ok, err)
		}
		expired, err := db.ExpireRevocations(ctx, now)
		if err != nil || len(expired) != 1 || expired[0].ID != late.ID || expired[0].Status != domain.RevocationExpired {
			t.Errorf("ExpireRevocations = %+v, %v; want only #%d", expired, err, late.ID)
		}
		byStatus, err := db.Revocations(ctx, domain.RevocationApproving, domain.RevocationExpired)
		if err != nil || len(byStatus) != 2 {
			t.Errorf("Revocations(approving, expired) = %d requests, %v; want 2", len(byStatus), err)
		}
	})
}

// Helpdesk members clicking Approve on two replicas at once: exactly one
// claim wins, whichever process it comes from.
func TestClaimRevocationHasOneWinnerAcrossProcesses(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dbs := []*store.DB{mustOpen(t, dsn), mustOpen(t, dsn)}
		for _, db := range dbs {
			db.Now = func() time.Time { return t0 }
		}
		for round := range 5 {
			r := newRevocation(t, dbs[0], t0.Add(time.Hour))
			var wins atomic.Int32
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Go(func() {
					ok, err := dbs[i%2].ClaimRevocation(ctx, r.ID, domain.RevocationApproving, "UHELP", "help", "")
					if err != nil {
						t.Error(err)
					}
					if ok {
						wins.Add(1)
					}
				})
			}
			wg.Wait()
			if got := wins.Load(); got != 1 {
				t.Fatalf("round %d: %d claims won, want 1", round, got)
			}
		}
	})
}

func TestClaimResume(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a, b := mustOpen(t, dsn), mustOpen(t, dsn)
		a.Now = func() time.Time { return t0 }
		const ttl = 5 * time.Minute
		r := newRevocation(t, a, t0.Add(time.Hour))
		step := func(name string, db *store.DB, holder string, at time.Time, want bool) {
			t.Helper()
			got, err := db.ClaimResume(ctx, r.ID, holder, at, ttl)
			if err != nil || got != want {
				t.Fatalf("%s: ClaimResume = %v, %v; want %v", name, got, err, want)
			}
		}
		step("a claims a pending request", a, "a", t0, false)
		if ok, err := a.ClaimRevocation(ctx, r.ID, domain.RevocationApproving, "UHELP", "help", ""); !ok || err != nil {
			t.Fatalf("ClaimRevocation = %v, %v", ok, err)
		}
		step("a claims the approving request", a, "a", t0, true)
		step("b claims it while a's claim lives", b, "b", t0.Add(time.Minute), false)
		step("a claims it again while its claim lives", a, "a", t0.Add(time.Minute), false)
		step("b claims it once a's claim expired", b, "b", t0.Add(ttl), true)
		if err := b.SetRevocationStatus(ctx, r.ID, domain.RevocationDone); err != nil {
			t.Fatal(err)
		}
		step("a claims it when it is done", a, "a", t0.Add(time.Hour), false)
	})
}

// Replicas resuming at once: one of them resumes a given request.
func TestClaimResumeHasOneWinner(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dbs := []*store.DB{mustOpen(t, dsn), mustOpen(t, dsn)}
		r := newRevocation(t, dbs[0], time.Now().Add(time.Hour))
		if ok, err := dbs[0].ClaimRevocation(ctx, r.ID, domain.RevocationApproving, "UHELP", "help", ""); !ok || err != nil {
			t.Fatalf("ClaimRevocation = %v, %v", ok, err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				ok, err := dbs[i%2].ClaimResume(ctx, r.ID, string(rune('a'+i)), t0, time.Minute)
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if got := wins.Load(); got != 1 {
			t.Fatalf("%d resumers won, want 1", got)
		}
	})
}
