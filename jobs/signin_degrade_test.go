package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeslack"
	"github.com/apppass/apppass/internal/testkit"
	"github.com/apppass/apppass/jobs"
)

// Whatever way the beta sign-in report fails, the jobs that read it fall
// back to age-based staleness and succeed.
func TestSignInReportFailuresDegradeToAge(t *testing.T) {
	for _, kind := range []string{fakeentra.SignInNotInCloud, fakeentra.SignInServerError, fakeentra.SignInNotFound} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			entra := fakeentra.New(t)
			// Holders 0 and 2 hold a password older than stale_after.
			entra.Seed(4, 1, func(h, i int) time.Time {
				if h%2 == 0 {
					return t0.Add(-200 * day)
				}
				return t0.Add(-10 * day)
			})
			entra.EnableSignInActivity(true)
			entra.FailSignInActivity(kind)
			fake := fakeslack.New(t)
			fake.AddChannel("CREPORT")
			db := mustOpenStore(t)
			for h := range 4 {
				upn := fmt.Sprintf("user%d@example.test", h)
				fake.AddUser(fakeslack.User{ID: fmt.Sprint("U", h), Name: fmt.Sprint("user", h), Email: upn})
				u, _ := entra.LookupUser(upn)
				if err := db.SaveUser(ctx, fmt.Sprint("U", h), domain.User{ID: u.ID, UserPrincipalName: upn, Mail: upn}); err != nil {
					t.Fatal(err)
				}
			}
			slack, _ := mustSlack(t, fake)
			r := newRunner(t, "a", testkit.NewClock(t0), mustGraph(t, entra), slack, testStore{DB: db})

			res, err := r.RunOnce(ctx, jobs.StaleWarning)
			if err != nil {
				t.Fatalf("stale-warning failed: %v", err)
			}
			if res.Counts["selected"] != 2 {
				t.Errorf("stale-warning selected %d people, want the 2 with old passwords (%v)", res.Counts["selected"], res.Counts)
			}
			res, err = r.RunOnce(ctx, jobs.HygieneReport)
			if err != nil {
				t.Fatalf("hygiene-report failed: %v", err)
			}
			if res.Counts[domain.FigureStale] != 2 {
				t.Errorf("report counts %d stale, want 2 by age", res.Counts[domain.FigureStale])
			}
		})
	}
}
