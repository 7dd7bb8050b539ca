package jobs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/internal/testkit"
	"github.com/apppass/apppass/jobs"
)

func TestNewRejectsBadSettings(t *testing.T) {
	tests := []struct {
		name string
		cfg  jobs.Config
		want string // in the error
	}{
		{"bad cron names the job", configWith(func(c *jobs.Config) { c.Schedules[jobs.StaleWarning] = "61 9 * * 1" }), "stale-warning"},
		{"too few fields", configWith(func(c *jobs.Config) { c.Schedules[jobs.HygieneReport] = "0 8 *" }), "hygiene-report"},
		{"missing schedule names the job", configWith(func(c *jobs.Config) { delete(c.Schedules, jobs.ExpiryWarning) }), "expiry-warning"},
		{"unknown job", configWith(func(c *jobs.Config) { c.Schedules["cleanup"] = "0 9 * * *" }), `"cleanup"`},
		{"a background job has no schedule", configWith(func(c *jobs.Config) { c.Schedules[jobs.ReconcileCredentials] = "* * * * *" }), `"reconcile-credentials"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slack, _ := recordingSlack(nil)
			_, err := jobs.New(deps(tenant(nil, nil), slack, testStore{DB: mustOpenStore(t)}, nil), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: err = %v, want one naming %s", err, tt.want)
			}
		})
	}
}

func TestListShowsSchedulesInTheTimeZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	db := mustOpenStore(t)
	slack, _ := recordingSlack(knownPeople(t, db, 1))
	clk := testkit.NewClock(t0) // Monday 2 March 2026, 10:00 in Berlin
	r, err := jobs.New(deps(tenant([]domain.Application{app(1, pws(35, t0)...)}, nil), slack, testStore{DB: db}, clk.Now),
		configWith(func(c *jobs.Config) {
			c.Location, c.Schedules[jobs.ExpiryWarning], c.Instance = berlin, "30 6 * * *", "a"
		}))
	if err != nil {
		t.Fatal(err)
	}
	res := mustRun(t, r, jobs.LimitWarning)
	list, err := r.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	at := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, berlin) }
	want := []struct {
		name, schedule string
		next           time.Time
		ran            bool
	}{
		{jobs.LimitWarning, "0 9 * * 1-5", at(3, 9, 0), true},
		{jobs.StaleWarning, "0 9 * * 1", at(9, 9, 0), false},
		{jobs.ExpiryWarning, "30 6 * * *", at(3, 6, 30), false},
		{jobs.HygieneReport, "0 8 * * 1", time.Time{}, false},  // no report channel
		{jobs.Offboarding, "*/10 * * * *", time.Time{}, false}, // no directory
		{jobs.Retention, "30 3 * * *", at(3, 3, 30), false},
		{jobs.ReconcileCredentials, "every 1 minute", t0.Add(time.Minute), false},
		{jobs.RevocationUpkeep, "every 1 minute", t0.Add(time.Minute), false},
		{jobs.ApplicationAlerts, "every 1 minute", t0.Add(time.Minute), false},
	}
	if len(list) != len(want) {
		t.Fatalf("List has %d jobs, want %d", len(list), len(want))
	}
	for i, w := range want {
		s := list[i]
		if s.Name != w.name || s.Schedule != w.schedule || !s.Next.Equal(w.next) || (s.Last != nil) != w.ran {
			t.Errorf("job %d = %s %q next %v ran %v; want %s %q next %v ran %v", i, s.Name, s.Schedule, s.Next, s.Last != nil, w.name, w.schedule, w.next, w.ran)
		}
	}
	if last := list[0].Last; last == nil || last.ID != res.ID || last.Outcome != domain.JobOK || last.Counts["sent"] != 1 || !last.Start.Equal(t0) {
		t.Errorf("last run = %+v, want run %d ok with sent=1", last, res.ID)
	}
	if list[3].Disabled == "" {
		t.Errorf("hygiene-report without a channel is not marked disabled")
	}
	if _, err := r.RunOnce(context.Background(), jobs.HygieneReport); err == nil || !strings.Contains(err.Error(), "APPPASS_REPORT_CHANNEL") {
		t.Errorf("report without a channel: err = %v", err)
	}
}

func TestRunOnceUnknownJob(t *testing.T) {
	slack, _ := recordingSlack(nil)
	r := newRunner(t, "a", testkit.NewClock(t0), tenant(nil, nil), slack, testStore{DB: mustOpenStore(t)})
	if _, err := r.RunOnce(context.Background(), "cleanup"); !errors.Is(err, jobs.ErrUnknownJob) {
		t.Fatalf("err = %v, want ErrUnknownJob", err)
	}
}

func TestFailedRunIsRecordedAndRetried(t *testing.T) {
	db := mustOpenStore(t)
	clk := testkit.NewClock(t0)
	slack, sent := recordingSlack(knownPeople(t, db, 1))
	works := tenant([]domain.Application{app(1, pws(35, t0)...)}, nil)
	broken := scanning(func(context.Context, func(domain.Application, string) error) error {
		return domain.Errorf(domain.KindUpstream, "Microsoft Entra is busy right now.")
	})
	res, err := newRunner(t, "a", clk, broken, slack, testStore{DB: db}).RunOnce(context.Background(), jobs.LimitWarning)
	if err == nil || res.Outcome != domain.JobFailed || !strings.Contains(res.Error, "busy") {
		t.Fatalf("broken run: %v, %+v", err, res)
	}
	last, _, _ := db.LastJobRun(context.Background(), jobs.LimitWarning)
	if last.Outcome != domain.JobFailed || !strings.Contains(last.Error, "busy") || !last.End.Equal(t0) {
		t.Errorf("recorded = %+v", last)
	}
	clk.Add(24 * time.Hour) // the next tick; the failed run gave its lease back
	if res := mustRun(t, newRunner(t, "a", clk, works, slack, testStore{DB: db}), jobs.LimitWarning); res.Counts["sent"] != 1 || sent.total() != 1 {
		t.Fatalf("retry: %+v", res)
	}
}

func TestStartStopsWithItsContext(t *testing.T) {
	slack, _ := recordingSlack(nil)
	r := newRunner(t, "a", testkit.NewClock(t0), tenant(nil, nil), slack, testStore{DB: mustOpenStore(t)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Start(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Start = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Start did not return after its context ended")
	}
}
