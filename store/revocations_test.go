package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/store"
)

func newRevocation(t *testing.T, db *store.DB, expires time.Time) domain.RevocationRequest {
	t.Helper()
	r := domain.RevocationRequest{RequesterSlack: "UADMIN", RequesterID: "admin",
		Targets: []domain.RevocationTarget{{Slack: "UBOB", ID: "bob", Name: "Bob"}}, All: true, Reason: "left", ExpiresAt: expires,
		Items: []domain.RevocationItem{
			{TargetID: "bob", Password: domain.Password{KeyID: "k2", Name: "Phone", Hint: "ab", Created: t0}},
			{TargetID: "bob", Password: domain.Password{KeyID: "k1", Name: "Laptop", Hint: "cd", Created: t0.Add(time.Hour)}},
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
		if !got.All || len(got.Targets) != 1 || got.Targets[0] != r.Targets[0] || got.Status != domain.RevocationPending || got.Channel != "CHELP" ||
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

// A request for several people keeps them in the order named, each
// password with its owner, also for the ones --all adds later.
func TestRevocationOfSeveralPeople(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		db.Now = func() time.Time { return t0 }
		r := domain.RevocationRequest{RequesterSlack: "UADMIN", RequesterID: "admin", All: true, Reason: "scanner compromised",
			ExpiresAt: t0.Add(time.Hour),
			Targets: []domain.RevocationTarget{{Slack: "UCAROL", ID: "carol", Name: "carol@x.test"},
				{ID: "alice", Name: "alice@x.test"}, {Slack: "UBOB", ID: "bob", Name: "bob@x.test"}},
			Items: []domain.RevocationItem{
				{TargetID: "carol", Password: domain.Password{KeyID: "kc", Name: "Scanner", Hint: "ab", Created: t0}},
				{TargetID: "bob", Password: domain.Password{KeyID: "kb", Name: "Scanner", Hint: "cd", Created: t0}},
			}}
		if err := db.CreateRevocation(ctx, &r); err != nil {
			t.Fatal(err)
		}
		more := []domain.RevocationItem{
			{TargetID: "alice", Password: domain.Password{KeyID: "ka", Name: "New", Hint: "ef", Created: t0}},
			{TargetID: "bob", Password: domain.Password{KeyID: "kb", Name: "Scanner", Hint: "cd", Created: t0}},
		}
		if err := db.AddRevocationItems(ctx, r.ID, more); err != nil {
			t.Fatal(err)
		}
		if err := db.SetRevocationOutcome(ctx, r.ID, "kb", "failed: Graph is busy"); err != nil {
			t.Fatal(err)
		}
		got, err := db.Revocation(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Targets) != 3 || got.Targets[0] != r.Targets[0] || got.Targets[1] != r.Targets[1] || got.Targets[2] != r.Targets[2] {
			t.Errorf("targets = %+v, want %+v", got.Targets, r.Targets)
		}
		var owners []string
		for _, it := range got.Items {
			owners = append(owners, it.TargetID+":"+it.Password.KeyID+":"+it.Outcome)
		}
		if want := "carol:kc: bob:kb:failed: Graph is busy alice:ka:"; strings.Join(owners, " ") != want {
			t.Errorf("items = %q, want %q", strings.Join(owners, " "), want)
		}
		if !got.Concerns("alice", "") || !got.Concerns("", "UBOB") || got.Concerns("admin", "UADMIN") || got.Concerns("", "") {
			t.Error("Concerns answers wrongly for targets, the requester or nobody")
		}
		if items := got.ItemsOf("bob"); len(items) != 1 || items[0].Password.KeyID != "kb" {
			t.Errorf("ItemsOf(bob) = %+v", items)
		}
		if err := db.CreateRevocation(ctx, &domain.RevocationRequest{RequesterID: "admin", Reason: "x"}); err == nil {
			t.Error("a request naming nobody was stored")
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

// A request filed by an apppass from before several people per request
// keeps its one person and each password's owner after the upgrade.
func TestRevocationsFiledBeforeSeveralPeopleKeepTheirPerson(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		pg := store.IsPostgres(dsn)
		driver, source := "sqlite", "file:"+dsn
		if pg {
			driver, source = "pgx", dsn
		}
		raw, err := sql.Open(driver, source)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		if pg {
			raw.SetMaxOpenConns(1) // the schema is in the DSN's search_path
		}
		const before = 11
		for _, m := range store.MigrationsForTest(t, pg, before) {
			if _, err := raw.ExecContext(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		version := fmt.Sprintf(`PRAGMA user_version = %d`, before)
		if pg {
			version = fmt.Sprintf(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
				INSERT INTO schema_migrations (version) SELECT generate_series(1, %d)`, before)
		}
		all := "1"
		if pg {
			all = "true"
		}
		for _, q := range []string{version,
			`INSERT INTO revocation_requests (id, requester_slack, requester_id, target_slack, target_id, target_name, all_passwords,
				reason, status, created_at, expires_at, updated_at) VALUES (7, 'UADMIN', 'admin', 'UBOB', 'bob', 'bob@x.test', ` + all + `, 'left', 'pending', 1, 2, 1)`,
			`INSERT INTO revocation_items (request_id, key_id, name, hint, created_at) VALUES (7, 'k1', 'Phone', 'ab', 1)`,
		} {
			if _, err := raw.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		raw.Close()
		db := mustOpen(t, dsn)
		got, err := db.Revocation(ctx, 7)
		if err != nil {
			t.Fatal(err)
		}
		want := domain.RevocationTarget{Slack: "UBOB", ID: "bob", Name: "bob@x.test"}
		if len(got.Targets) != 1 || got.Targets[0] != want {
			t.Errorf("targets after the upgrade = %+v, want [%+v]", got.Targets, want)
		}
		if len(got.Items) != 1 || got.Items[0].TargetID != "bob" {
			t.Errorf("items after the upgrade = %+v, want k1 of bob", got.Items)
		}
	})
}

// Listing more requests than one batch of ids attaches each one's own
// people and passwords, across the batch's edge.
func TestRevocationsListedInBatches(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		db.Now = func() time.Time { return t0 }
		const n = 503
		for i := range n {
			who := fmt.Sprint("p", i)
			r := domain.RevocationRequest{RequesterSlack: "UADMIN", RequesterID: "admin", All: true, Reason: "left", ExpiresAt: t0.Add(time.Hour),
				Targets: []domain.RevocationTarget{{ID: who, Name: who + "@x.test"}},
				Items:   []domain.RevocationItem{{TargetID: who, Password: domain.Password{KeyID: "k" + who, Name: "Phone"}}}}
			if err := db.CreateRevocation(ctx, &r); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.Revocations(ctx, domain.RevocationPending)
		if err != nil || len(got) != n {
			t.Fatalf("%d requests, %v; want %d", len(got), err, n)
		}
		for i, r := range got {
			who := fmt.Sprint("p", i)
			if len(r.Targets) != 1 || r.Targets[0].ID != who || len(r.Items) != 1 || r.Items[0].Password.KeyID != "k"+who {
				t.Fatalf("request %d: targets %+v, items %+v; want only %s's", i, r.Targets, r.Items, who)
			}
		}
	})
}
