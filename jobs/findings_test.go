package jobs_test

import (
	"context"
	"strings"
	"testing"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
	"github.com/apppass/apppass/internal/testkit"
	"github.com/apppass/apppass/jobs"
)

// alertingSlack records helpdesk alerts.
type alertingSlack struct {
	fakeSlack
	alerts []string
}

func (a *alertingSlack) AlertHelpdesk(_ context.Context, text string) error {
	a.alerts = append(a.alerts, text)
	return nil
}

// The scans leave look-alikes out, the report counts them, and the
// helpdesk hears of each once.
func TestLookalikesAreLeftOutCountedAndReportedOnce(t *testing.T) {
	clk := testkit.NewClock(t0)
	entra := tenant([]domain.Application{app(1, pws(3, t0.Add(-300*day))...), app(2, pws(3, t0.Add(-300*day))...)}, nil)
	entra.Foreign(app(2).ObjectID)
	db := mustOpenStore(t)
	base, slog := recordingSlack(knownPeople(t, db, 1, 2))
	slack := &alertingSlack{fakeSlack: *base}
	d := deps(entra, slack, testStore{DB: db}, clk.Now)
	d.Trust = handlers.NewTrust(entra, db)
	r, err := jobs.New(d, configWith(func(c *jobs.Config) { c.ReportChannel = "CREPORT" }))
	if err != nil {
		t.Fatal(err)
	}
	res := mustRun(t, r, jobs.StaleWarning)
	if res.Counts["holders"] != 1 || len(slog.noticesTo(slackID(2))) != 0 {
		t.Errorf("stale-warning counts %v, notices to the look-alike's victim %d; want 1 holder, none", res.Counts, len(slog.noticesTo(slackID(2))))
	}
	res = mustRun(t, r, jobs.HygieneReport)
	if res.Counts["lookalikes"] != 1 || res.Counts[domain.FigureHolders] != 1 {
		t.Errorf("report counts = %v; want 1 holder and 1 look-alike", res.Counts)
	}
	mustRun(t, r, jobs.ApplicationAlerts)
	mustRun(t, r, jobs.ApplicationAlerts)
	if len(slack.alerts) != 1 || !strings.Contains(slack.alerts[0], app(2).AppID) {
		t.Errorf("helpdesk alerts = %q; want one naming %s", slack.alerts, app(2).AppID)
	}
}
