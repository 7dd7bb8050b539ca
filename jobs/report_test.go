package jobs_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/internal/testkit"
	"github.com/apppass/apppass/jobs"
)

func TestHygieneReportContent(t *testing.T) {
	ctx := context.Background()
	db := mustOpenStore(t)
	clk := testkit.NewClock(t0)
	dir := knownPeople(t, db, 1, 2, 3, 4, 5) // 6 is in nobody's Slack

	fresh := t0.Add(-10 * day)
	p2 := pws(12, fresh)
	p2[0].Created, p2[1].Created = t0.Add(-200*day), t0.Add(-180*day) // stale
	p3 := pws(25, fresh)
	p3[0].Expires = t0.Add(-time.Hour) // expired
	p3[1].Expires = t0.Add(5 * day)    // expiring soon
	apps := []domain.Application{
		app(1), app(2, p2...), app(3, p3...),
		app(4, pws(35, fresh)...), app(5, pws(40, fresh)...), app(6, pws(36, fresh)...),
	}
	entra := tenant(apps, map[string]string{entraID(6): "six@example.test"})

	// The previous report, a week ago, and what happened since.
	if err := db.SaveReportSnapshot(ctx, t0.Add(-7*day), domain.Counts{domain.FigureHolders: 5, domain.FigurePasswords: 150, domain.FigureStale: 0}); err != nil {
		t.Fatal(err)
	}
	for _, e := range []struct {
		ago             time.Duration
		action, outcome string
	}{
		{8 * day, "create", "ok"}, // before the previous report
		{6 * day, "create", "ok"}, {5 * day, "create", "ok"}, {time.Hour, "create", "ok"},
		{4 * day, "create", "refused: limit"},
		{3 * day, "delete", "ok"}, {2 * day, "delete", "ok"},
		{day, "revoke", "removed"}, {day, "revoke", "failed: upstream"},
	} {
		if err := db.Audit(ctx, domain.AuditEvent{At: t0.Add(-e.ago), SubjectID: "s", Action: e.action, Outcome: e.outcome}); err != nil {
			t.Fatal(err)
		}
	}
	slack, sent := recordingSlack(dir)
	st := testStore{DB: db, PendingRevocationsFn: func(context.Context) (int, error) { return 4, nil }}
	res := mustRun(t, newRunner(t, "a", clk, entra, slack, st), jobs.HygieneReport)

	if len(sent.reports) != 1 || sent.reportedTo[0] != "CREPORT" {
		t.Fatalf("reports posted: %d to %v, want 1 to CREPORT", len(sent.reports), sent.reportedTo)
	}
	r := sent.reports[0]
	check := func(name string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("holders", r.Holders, 6)
	check("passwords", r.Passwords, 12+25+35+40+36)
	check("distribution", r.Distribution, []domain.Bucket{{Min: 0, Max: 9, Holders: 1}, {Min: 10, Max: 19, Holders: 1}, {Min: 20, Max: 34, Holders: 1}, {Min: 35, Max: 40, Holders: 3}})
	check("near limit", r.NearLimit, []domain.HolderCount{{Name: email(5), Held: 40}, {Name: "six@example.test", Held: 36}, {Name: email(4), Held: 35}})
	check("stale", r.Stale, 2)
	check("expired", r.Expired, 1)
	check("expiring soon", r.ExpiringSoon, 1)
	check("unreachable", r.Unreachable, 1)
	check("period", r.Since, t0.Add(-7*day))
	check("created, deleted, revoked", []int{r.Created, r.Deleted, r.Revoked}, []int{3, 2, 1})
	check("pending revocations", r.PendingRevocations, 4)
	for figure, want := range map[string]int{domain.FigureHolders: 1, domain.FigurePasswords: -2, domain.FigureStale: 2} {
		if got, ok := r.Change(figure); !ok || got != want {
			t.Errorf("change of %s = %d, %v; want %+d", figure, got, ok, want)
		}
	}
	if _, ok := r.Change(domain.FigureUnreachable); ok {
		t.Errorf("change of a figure the previous report lacked is reported")
	}
	check("run counts", []int{res.Counts["holders"], res.Counts["posted"], res.Counts["created"]}, []int{6, 1, 3})

	// The next report compares with this one.
	clk.Add(7 * day)
	mustRun(t, newRunner(t, "a", clk, entra, slack, st), jobs.HygieneReport)
	next := sent.reports[1]
	check("next period", next.Since, t0)
	if d, ok := next.Change(domain.FigureUnreachable); !ok || d != 0 {
		t.Errorf("next report: change of unreachable = %d, %v; want 0", d, ok)
	}
}

func TestFirstHygieneReport(t *testing.T) {
	db := mustOpenStore(t)
	slack, sent := recordingSlack(knownPeople(t, db, 1))
	mustRun(t, newRunner(t, "a", testkit.NewClock(t0), tenant([]domain.Application{app(1, pws(3, t0)...)}, nil), slack, testStore{DB: db}), jobs.HygieneReport)
	r := sent.reports[0]
	if r.Previous != nil || !r.Since.Equal(t0.Add(-7*day)) {
		t.Errorf("first report: previous %v, since %v; want none and 7 days back", r.Previous, r.Since)
	}
	if _, ok := r.Change(domain.FigureHolders); ok {
		t.Errorf("first report claims a change")
	}
}

func TestDistributionFollowsWarnAt(t *testing.T) {
	db := mustOpenStore(t)
	slack, sent := recordingSlack(nil)
	r, err := jobs.New(deps(tenant(nil, nil), slack, testStore{DB: db}, testkit.NewClock(t0).Now),
		configWith(func(c *jobs.Config) { c.Limits.WarnAt, c.Limits.MaxPerUser, c.ReportChannel = 15, 20, "C" }))
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, r, jobs.HygieneReport)
	var got []string
	for _, b := range sent.reports[0].Distribution {
		got = append(got, fmt.Sprintf("%d–%d", b.Min, b.Max))
	}
	if want := []string{"0–9", "10–14", "15–20"}; !slices.Equal(got, want) {
		t.Errorf("bands = %v, want %v", got, want)
	}
}
