package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/store"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestLeaseIsCompareAndSet(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const ttl = 5 * time.Minute
		step := func(name string, got bool, err error, want bool) {
			t.Helper()
			if err != nil || got != want {
				t.Fatalf("%s = %v, %v; want %v", name, got, err, want)
			}
		}
		ok, err := db.AcquireLease(ctx, "j", "a", t0, ttl)
		step("a acquires a free lease", ok, err, true)
		ok, err = db.AcquireLease(ctx, "j", "b", t0.Add(time.Minute), ttl)
		step("b acquires a's live lease", ok, err, false)
		ok, err = db.AcquireLease(ctx, "j", "a", t0.Add(time.Minute), ttl)
		step("a acquires its own live lease again", ok, err, false)
		ok, err = db.AcquireLease(ctx, "other", "b", t0, ttl)
		step("b acquires another job's lease", ok, err, true)
		ok, err = db.RenewLease(ctx, "j", "a", t0.Add(4*time.Minute), ttl)
		step("a renews", ok, err, true)
		ok, err = db.AcquireLease(ctx, "j", "b", t0.Add(6*time.Minute), ttl)
		step("b acquires before the renewed lease expires", ok, err, false)
		ok, err = db.AcquireLease(ctx, "j", "b", t0.Add(9*time.Minute), ttl)
		step("b acquires the expired lease", ok, err, true)
		ok, err = db.RenewLease(ctx, "j", "a", t0.Add(9*time.Minute), ttl)
		step("a renews a lease it lost", ok, err, false)
		if err := db.ReleaseLease(ctx, "j", "a"); err != nil {
			t.Fatal(err)
		}
		ok, err = db.AcquireLease(ctx, "j", "c", t0.Add(10*time.Minute), ttl)
		step("c acquires after a released a lease it no longer held", ok, err, false)
		if err := db.ReleaseLease(ctx, "j", "b"); err != nil {
			t.Fatal(err)
		}
		ok, err = db.AcquireLease(ctx, "j", "c", t0.Add(10*time.Minute), ttl)
		step("c acquires after b released", ok, err, true)
	})
}

// Job schedulers of two processes asking at once, for a free lease and
// then for an expired one: one holder each time.
func TestLeaseHasOneWinner(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dbs := []*store.DB{mustOpen(t, dsn), mustOpen(t, dsn)}
		for round, at := range []time.Time{t0, t0.Add(2 * time.Minute)} {
			var wg sync.WaitGroup
			var mu sync.Mutex
			winners := 0
			for i := range 8 {
				wg.Go(func() {
					ok, err := dbs[i%2].AcquireLease(ctx, "j", fmt.Sprint("r", round, "p", i), at, time.Minute)
					if err != nil {
						t.Error(err)
					}
					if ok {
						mu.Lock()
						winners++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if winners != 1 {
				t.Fatalf("round %d: %d processes got the lease, want 1", round, winners)
			}
		}
	})
}

func TestJobRuns(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, ok, err := db.LastJobRun(ctx, "j"); ok || err != nil {
			t.Fatalf("LastJobRun before any run = %v, %v", ok, err)
		}
		id, err := db.StartJobRun(ctx, "j", "host:1#1", t0)
		if err != nil {
			t.Fatal(err)
		}
		got, ok, err := db.LastJobRun(ctx, "j")
		if err != nil || !ok || got.ID != id || got.Outcome != domain.JobRunning || !got.Start.Equal(t0) || !got.End.IsZero() {
			t.Fatalf("running run = %+v, %v, %v", got, ok, err)
		}
		want := domain.JobRun{ID: id, Job: "j", Instance: "host:1#1", Start: t0, End: t0.Add(time.Minute), Outcome: domain.JobFailed,
			Counts: domain.Counts{"sent": 3, "failed": 1}, Error: "1 of 4 limit notices could not be sent"}
		if err := db.FinishJobRun(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, _, err = db.LastJobRun(ctx, "j")
		if err != nil || got.Outcome != want.Outcome || got.Error != want.Error || !got.End.Equal(want.End) ||
			got.Counts["sent"] != 3 || got.Counts["failed"] != 1 || got.Instance != want.Instance {
			t.Fatalf("finished run = %+v, %v; want %+v", got, err, want)
		}
		id2, _ := db.StartJobRun(ctx, "j", "host:1#2", t0.Add(time.Hour))
		if got, _, _ := db.LastJobRun(ctx, "j"); got.ID != id2 {
			t.Fatalf("LastJobRun = run %d, want the newest, %d", got.ID, id2)
		}
	})
}

func TestNotifications(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if at, err := db.LastNotified(ctx, domain.NoticeLimit, "p"); err != nil || !at.IsZero() {
			t.Fatalf("LastNotified before any = %v, %v", at, err)
		}
		if err := db.RecordNotification(ctx, domain.NoticeLimit, "p", []string{"k1", "k2"}, t0); err != nil {
			t.Fatal(err)
		}
		if err := db.RecordNotification(ctx, domain.NoticeLimit, "p", []string{"k2"}, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := db.RecordNotification(ctx, domain.NoticeExpiry, "p", []string{"k9"}, t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if at, err := db.LastNotified(ctx, domain.NoticeLimit, "p"); err != nil || !at.Equal(t0.Add(time.Hour)) {
			t.Fatalf("LastNotified = %v, %v; want %v", at, err, t0.Add(time.Hour))
		}
		if at, _ := db.LastNotified(ctx, domain.NoticeLimit, "q"); !at.IsZero() {
			t.Fatalf("LastNotified of someone else = %v", at)
		}
		keys, err := db.NotifiedKeys(ctx, domain.NoticeExpiry, "p")
		if err != nil || len(keys) != 1 || !keys["k9"] {
			t.Fatalf("NotifiedKeys = %v, %v", keys, err)
		}
	})
}

func TestKnownPeople(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := t0
		db.Now = func() time.Time { return now }
		if err := db.SaveUser(ctx, "UOLD", domain.User{ID: "e1", UserPrincipalName: "a@x.test", Mail: "a@x.test"}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Hour)
		if err := db.SaveUser(ctx, "UNEW", domain.User{ID: "e1", UserPrincipalName: "a@x.test", Mail: "alice@x.test"}); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveUser(ctx, "UB", domain.User{ID: "e2", UserPrincipalName: "b@x.test"}); err != nil {
			t.Fatal(err)
		}
		got, err := db.KnownPeople(ctx, []string{"e1", "e2", "e3"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]domain.KnownPerson{"e1": {SlackID: "UNEW", UPN: "a@x.test", Email: "alice@x.test"}, "e2": {SlackID: "UB", UPN: "b@x.test"}}
		if len(got) != len(want) || got["e1"] != want["e1"] || got["e2"] != want["e2"] {
			t.Fatalf("KnownPeople = %+v, want %+v", got, want)
		}
		if got, err := db.KnownPeople(ctx, nil); err != nil || len(got) != 0 {
			t.Fatalf("KnownPeople(nil) = %v, %v", got, err)
		}
	})
}

func TestReportSnapshots(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if at, figs, err := db.LastReportSnapshot(ctx); err != nil || !at.IsZero() || figs != nil {
			t.Fatalf("LastReportSnapshot before any = %v, %v, %v", at, figs, err)
		}
		for i, holders := range []int{10, 12} {
			if err := db.SaveReportSnapshot(ctx, t0.AddDate(0, 0, 7*i), domain.Counts{"holders": holders}); err != nil {
				t.Fatal(err)
			}
		}
		at, figs, err := db.LastReportSnapshot(ctx)
		if err != nil || !at.Equal(t0.AddDate(0, 0, 7)) || figs["holders"] != 12 {
			t.Fatalf("LastReportSnapshot = %v, %v, %v", at, figs, err)
		}
	})
}

func TestAuditCounts(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		events := []struct {
			at              time.Time
			action, outcome string
		}{
			{t0.Add(-time.Hour), "create", "ok"}, // before the period
			{t0, "create", "ok"},                 // at its start: counted
			{t0.Add(time.Hour), "create", "ok"},
			{t0.Add(time.Hour), "create", "refused: limit"},
			{t0.Add(time.Hour), "create", "undelivered: removed"},
			{t0.Add(time.Hour), "delete", "ok"},
			{t0.Add(time.Hour), "delete", "failed: upstream"},
			{t0.Add(time.Hour), "revoke", "removed"},
			{t0.Add(time.Hour), "revoke", "removed"},
			{t0.Add(time.Hour), "revoke", "already gone"},
			{t0.Add(time.Hour), "revoke-request", "ok"},
		}
		for _, e := range events {
			if err := db.Audit(ctx, domain.AuditEvent{At: e.at, SubjectID: "s", Action: e.action, Outcome: e.outcome}); err != nil {
				t.Fatal(err)
			}
		}
		created, deleted, revoked, err := db.AuditCounts(ctx, t0)
		if err != nil || created != 2 || deleted != 1 || revoked != 2 {
			t.Fatalf("AuditCounts = %d created, %d deleted, %d revoked, %v; want 2, 1, 2", created, deleted, revoked, err)
		}
	})
}
