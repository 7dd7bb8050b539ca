package jobs_test

import (
	"context"
	"testing"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/internal/testkit"
	"github.com/apppass/apppass/jobs"
)

func TestRetentionPrunesPastTheRetention(t *testing.T) {
	ctx := context.Background()
	clk := testkit.NewClock(t0)
	db := mustOpenStore(t)
	cfg := testkit.JobsConfig()
	for _, at := range []int{401, 399} { // days ago; the default keeps 400
		if err := db.Audit(ctx, domain.AuditEvent{At: t0.Add(-day*1).AddDate(0, 0, 1-at), Action: "create"}); err != nil {
			t.Fatal(err)
		}
	}
	r := newRunner(t, "a", clk, tenant(nil, nil), &fakeSlack{}, testStore{DB: db})
	res := mustRun(t, r, jobs.Retention)
	if res.Counts["audit_events"] != 1 {
		t.Errorf("pruned %v with retention %v; want the 401-day-old event only", res.Counts, cfg.AuditRetention)
	}
}
