package jobs_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/internal/testkit"
	"github.com/apppass/apppass/jobs"
)

func TestCooldownIsPerPersonAndKind(t *testing.T) {
	db := mustOpenStore(t)
	clk := testkit.NewClock(t0)
	slack, sent := recordingSlack(knownPeople(t, db, 1))
	// Near the limit and stale: two kinds, cooled down separately.
	entra := tenant([]domain.Application{app(1, pws(36, t0.AddDate(-1, 0, 0))...)}, nil)
	r := newRunner(t, "a", clk, entra, slack, testStore{DB: db})

	steps := []struct {
		after     time.Duration
		job       string
		wantTotal int
		wantCount string
	}{
		{0, jobs.LimitWarning, 1, "sent"},
		{0, jobs.StaleWarning, 2, "sent"}, // another kind: not cooled down by the limit notice
		{0, jobs.LimitWarning, 2, "cooldown"},
		{6*day + 23*time.Hour, jobs.LimitWarning, 2, "cooldown"},
		{time.Hour, jobs.LimitWarning, 3, "sent"}, // exactly 7 days later
		{0, jobs.StaleWarning, 4, "sent"},
		{day, jobs.StaleWarning, 4, "cooldown"},
	}
	for i, s := range steps {
		clk.Add(s.after)
		res := mustRun(t, r, s.job)
		if got := sent.total(); got != s.wantTotal || res.Counts[s.wantCount] != 1 {
			t.Fatalf("step %d (%s at +%v): %d notices in all, counts %v; want %d and %s=1", i, s.job, clk.Now().Sub(t0), got, res.Counts, s.wantTotal, s.wantCount)
		}
	}
}

func TestExpiryNamesEachPasswordOnce(t *testing.T) {
	db := mustOpenStore(t)
	clk := testkit.NewClock(t0)
	slack, sent := recordingSlack(knownPeople(t, db, 1))
	a, b, c := pw("a", t0.AddDate(-1, 0, 0)), pw("b", t0.AddDate(-1, 0, 0)), pw("c", t0.AddDate(-1, 0, 0))
	a.Expires, b.Expires, c.Expires = t0.Add(3*day), t0.Add(10*day), t0.Add(15*day)
	r := newRunner(t, "a", clk, tenant([]domain.Application{app(1, a, b, c)}, nil), slack, testStore{DB: db})

	mustRun(t, r, jobs.ExpiryWarning)
	clk.Add(day) // c now expires in 14 days
	mustRun(t, r, jobs.ExpiryWarning)
	clk.Add(day)
	res := mustRun(t, r, jobs.ExpiryWarning)

	var got [][]string
	for _, n := range sent.noticesTo(slackID(1)) {
		got = append(got, names(n.Passwords))
	}
	if want := [][]string{{"a", "b"}, {"c"}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("notices named %v, want %v", got, want)
	}
	if res.Counts["already"] != 1 || res.Counts["sent"] != 0 {
		t.Errorf("third run counts = %v, want already=1", res.Counts)
	}
}

func TestOverlappingRunsRunOnce(t *testing.T) {
	db := mustOpenStore(t)
	clk := testkit.NewClock(t0)
	dir := knownPeople(t, db, 1, 2)
	entra := tenant([]domain.Application{app(1, pws(35, t0.AddDate(-1, 0, 0))...), app(2, pws(35, t0.AddDate(-1, 0, 0))...)}, nil)
	slack, sent := recordingSlack(dir)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	blocking := *slack
	blocking.SendNoticeFn = func(ctx context.Context, id string, n domain.Notice) error {
		once.Do(func() { close(entered) })
		<-release
		return slack.SendNoticeFn(ctx, id, n)
	}
	a := newRunner(t, "host-a:1", clk, entra, &blocking, testStore{DB: db})
	b := newRunner(t, "host-b:2", clk, entra, slack, testStore{DB: db})

	done := make(chan error, 1)
	go func() { _, err := a.RunOnce(context.Background(), jobs.LimitWarning); done <- err }()
	<-entered
	if _, err := a.RunOnce(context.Background(), jobs.LimitWarning); !errors.Is(err, jobs.ErrBusy) {
		t.Errorf("second run in the same process: err = %v, want ErrBusy", err)
	}
	if _, err := b.RunOnce(context.Background(), jobs.LimitWarning); !errors.Is(err, jobs.ErrBusy) {
		t.Errorf("run in another process: err = %v, want ErrBusy", err)
	}
	if _, err := b.RunOnce(context.Background(), jobs.ExpiryWarning); err != nil {
		t.Errorf("another job is not blocked: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The lease is free again; the other process runs and finds everyone
	// warned already.
	res := mustRun(t, b, jobs.LimitWarning)
	if sent.total() != 2 || len(sent.noticesTo(slackID(1))) != 1 || len(sent.noticesTo(slackID(2))) != 1 || res.Counts["cooldown"] != 2 {
		t.Fatalf("after both runs: %d notices, counts %v; want each person once", sent.total(), res.Counts)
	}
}

func TestExpiredLeaseOfADeadProcessIsTakenOver(t *testing.T) {
	db := mustOpenStore(t)
	clk := testkit.NewClock(t0)
	slack, _ := recordingSlack(knownPeople(t, db, 1))
	r := newRunner(t, "b", clk, tenant([]domain.Application{app(1, pws(35, t0)...)}, nil), slack, testStore{DB: db})
	// A process that died mid-run left its lease behind.
	if ok, err := db.AcquireLease(context.Background(), jobs.LimitWarning, "dead:9#1", t0.Add(-time.Minute), 5*time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, err := r.RunOnce(context.Background(), jobs.LimitWarning); !errors.Is(err, jobs.ErrBusy) {
		t.Fatalf("run under a live lease: err = %v, want ErrBusy", err)
	}
	clk.Add(4 * time.Minute)
	if res := mustRun(t, r, jobs.LimitWarning); res.Counts["sent"] != 1 {
		t.Fatalf("run after the lease expired: counts %v", res.Counts)
	}
}

func TestInterruptedRunDoesNotNotifyTwice(t *testing.T) {
	const people = 20
	for _, kind := range []string{jobs.LimitWarning, jobs.ExpiryWarning} {
		t.Run(kind, func(t *testing.T) {
			db := mustOpenStore(t)
			clk := testkit.NewClock(t0)
			var is []int
			var apps []domain.Application
			for i := range people {
				ps := pws(35, t0.AddDate(-1, 0, 0))
				ps[0].Expires = t0.Add(2 * day)
				is, apps = append(is, i), append(apps, app(i, ps...))
			}
			slack, sent := recordingSlack(knownPeople(t, db, is...))
			entra := tenant(apps, nil)

			// The process dies after 7 notices: its context ends mid fan-out.
			ctx, crash := context.WithCancel(context.Background())
			dying := *slack
			var mu sync.Mutex
			dying.SendNoticeFn = func(c context.Context, id string, n domain.Notice) error {
				mu.Lock()
				defer mu.Unlock()
				if sent.total() >= 7 {
					crash()
					return c.Err()
				}
				return slack.SendNoticeFn(c, id, n)
			}
			res, err := newRunner(t, "a", clk, entra, &dying, testStore{DB: db}).RunOnce(ctx, kind)
			if err == nil || res.Outcome != domain.JobFailed {
				t.Fatalf("interrupted run: %v, %+v; want a failed run", err, res)
			}
			if last, _, _ := db.LastJobRun(context.Background(), kind); last.Outcome != domain.JobFailed || last.Error == "" {
				t.Errorf("recorded run = %+v, want failed with its cause", last)
			}

			// Restarted, an hour later.
			clk.Add(time.Hour)
			res = mustRun(t, newRunner(t, "b", clk, entra, slack, testStore{DB: db}), kind)
			for _, i := range is {
				if n := len(sent.noticesTo(slackID(i))); n != 1 {
					t.Errorf("person %d got %d notices, want 1", i, n)
				}
			}
			if res.Counts["sent"] != people-7 {
				t.Errorf("re-run counts = %v, want sent=%d", res.Counts, people-7)
			}
		})
	}
}

func TestUndeliveredNoticesAreRetriedNextRun(t *testing.T) {
	db := mustOpenStore(t)
	clk := testkit.NewClock(t0)
	slack, sent := recordingSlack(knownPeople(t, db, 1, 2, 3))
	entra := tenant([]domain.Application{app(1, pws(35, t0)...), app(2, pws(35, t0)...), app(3, pws(35, t0)...)}, nil)
	flaky := *slack
	flaky.SendNoticeFn = func(ctx context.Context, id string, n domain.Notice) error {
		if id == slackID(2) {
			return errors.New("channel_not_found")
		}
		return slack.SendNoticeFn(ctx, id, n)
	}
	res, err := newRunner(t, "a", clk, entra, &flaky, testStore{DB: db}).RunOnce(context.Background(), jobs.LimitWarning)
	if err == nil || res.Counts["failed"] != 1 || res.Counts["sent"] != 2 {
		t.Fatalf("run with one failed DM: %v, counts %v; want an error, failed=1 sent=2", err, res.Counts)
	}
	clk.Add(time.Hour)
	res = mustRun(t, newRunner(t, "a", clk, entra, slack, testStore{DB: db}), jobs.LimitWarning)
	if res.Counts["sent"] != 1 || len(sent.noticesTo(slackID(2))) != 1 || sent.total() != 3 {
		t.Fatalf("retry: counts %v, %d notices; want only person 2 sent", res.Counts, sent.total())
	}
}

func TestPeopleAreFoundWithoutLookUpsPerPerson(t *testing.T) {
	ctx := context.Background()
	db := mustOpenStore(t)
	// 1: known to the store, active in Slack.
	// 2: known, but their Slack account was replaced: found by email.
	// 3: never used apppass: found by the UPN in Entra's displayName.
	// 4: nowhere in Slack.
	knownPeople(t, db, 1)
	if err := db.SaveUser(ctx, "UGONE", domain.User{ID: entraID(2), UserPrincipalName: email(2), Mail: email(2)}); err != nil {
		t.Fatal(err)
	}
	dir := map[string]string{email(1): slackID(1), email(2): slackID(2), "p3@example.test": slackID(3)}
	var apps []domain.Application
	for i := 1; i <= 4; i++ {
		apps = append(apps, app(i, pws(35, t0)...))
	}
	slack, sent := recordingSlack(dir)
	res := mustRun(t, newRunner(t, "a", testkit.NewClock(t0), tenant(apps, map[string]string{entraID(3): "P3@Example.test"}), slack, testStore{DB: db}), jobs.LimitWarning)
	for i := 1; i <= 3; i++ {
		if n := len(sent.noticesTo(slackID(i))); n != 1 {
			t.Errorf("person %d: %d notices, want 1", i, n)
		}
	}
	if n := len(sent.noticesTo("UGONE")); n != 0 {
		t.Errorf("the replaced Slack account got %d notices", n)
	}
	if res.Counts["unreachable"] != 1 || res.Counts["sent"] != 3 || sent.userLists != 1 {
		t.Errorf("counts %v, users.list runs %d; want unreachable=1 sent=3 and one users.list", res.Counts, sent.userLists)
	}
}
