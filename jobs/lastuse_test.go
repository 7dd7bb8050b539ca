package jobs_test

import (
	"context"
	"testing"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/internal/testkit"
	"github.com/apppass/apppass/jobs"
)

// With the mail gateway, its last-use records make the "unused" rule work
// without Entra sign-in data.
func TestGatewayLastUseFeedsTheStaleRule(t *testing.T) {
	ctx := context.Background()
	// Both created 100 days ago: not stale by age (180), unused past 90.
	unused, used := pw("unused", t0.Add(-100*day)), pw("used", t0.Add(-100*day))
	entra := tenant([]domain.Application{app(1, unused, used)}, nil)
	db := mustOpenStore(t)
	if err := db.PasswordUsed(ctx, entraID(1), used.KeyID, t0.Add(-day)); err != nil {
		t.Fatal(err)
	}
	slack, log := recordingSlack(knownPeople(t, db, 1))
	r, err := jobs.New(deps(entra, slack, testStore{DB: db}, testkit.NewClock(t0).Now),
		configWith(func(c *jobs.Config) { c.GatewayLastUse = true }))
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, r, jobs.StaleWarning)
	got := log.noticesTo(slackID(1))
	if len(got) != 1 || len(got[0].Passwords) != 1 || got[0].Passwords[0].Name != "unused" {
		t.Fatalf("stale notices = %+v; want one naming only the unused password", got)
	}
}
