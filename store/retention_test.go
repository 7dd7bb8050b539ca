package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/store"
)

func TestPruneDropsOnlyWhatIsOlderThanTheCutoff(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		cut := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		old, recent := cut.Add(-time.Hour), cut.Add(time.Hour)
		for _, at := range []time.Time{old, recent} {
			if err := db.Audit(ctx, domain.AuditEvent{At: at, Action: "create", SubjectID: "e1", Outcome: "ok"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.RecordNotification(ctx, domain.NoticeLimit, "e1", []string{"k-old"}, old); err != nil {
			t.Fatal(err)
		}
		if err := db.RecordNotification(ctx, domain.NoticeLimit, "e2", []string{"k-new"}, recent); err != nil {
			t.Fatal(err)
		}
		for _, at := range []time.Time{old, recent} {
			id, err := db.StartJobRun(ctx, "limit-warning", "i", at)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.FinishJobRun(ctx, domain.JobRun{ID: id, End: at, Outcome: domain.JobOK}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.Prune(ctx, cut)
		if err != nil {
			t.Fatal(err)
		}
		if got["audit_events"] != 1 || got["notifications"] != 1 || got["job_runs"] != 1 {
			t.Errorf("pruned %v, want one of each", got)
		}
		var left []domain.AuditEvent
		if err := db.AuditSince(ctx, time.Time{}, func(e domain.AuditEvent) error { left = append(left, e); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(left) != 1 || !left[0].At.Equal(recent) {
			t.Errorf("audit left = %+v, want the recent one", left)
		}
		if last, _ := db.LastNotified(ctx, domain.NoticeLimit, "e1"); !last.IsZero() {
			t.Errorf("old notification kept: %v", last)
		}
		if r, ok, _ := db.LastJobRun(ctx, "limit-warning"); !ok || !r.Start.Equal(recent) {
			t.Errorf("last job run = %+v, %v; want the recent one", r, ok)
		}
	})
}

func TestAuditSinceStreamsInOrder(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 5 {
			if err := db.Audit(ctx, domain.AuditEvent{At: t0.Add(time.Duration(i) * time.Hour), Action: "create", Name: string(rune('a' + i))}); err != nil {
				t.Fatal(err)
			}
		}
		var names string
		if err := db.AuditSince(ctx, t0.Add(2*time.Hour), func(e domain.AuditEvent) error { names += e.Name; return nil }); err != nil {
			t.Fatal(err)
		}
		if names != "cde" {
			t.Errorf("events since 02:00 = %q, want cde", names)
		}
	})
}
