package jobs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
	"github.com/apppass/apppass/internal/testkit"
	"github.com/apppass/apppass/jobs"
	"github.com/apppass/apppass/store"
)

// t0 is a Monday, 09:00 UTC: every job's default schedule fires then.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// tenant is an in-memory Entra serving apps (and no sign-in data). upns
// gives owners' UPNs as Entra's displayName would.
func tenant(apps []domain.Application, upns map[string]string) *testkit.Entra {
	return testkit.Tenant(apps, upns)
}

// scanning is an in-memory Entra whose scan is scan.
func scanning(scan func(ctx context.Context, fn func(domain.Application, string) error) error) *testkit.Entra {
	e := testkit.NewEntra()
	e.ScanFunc = scan
	return e
}

// fakeSlack is a jobs.Slack whose behaviour is its function fields.
type fakeSlack struct {
	SlackUsersByEmailFn func(ctx context.Context) (map[string]string, error)
	SendNoticeFn        func(ctx context.Context, slackID string, n domain.Notice) error
	PostReportFn        func(ctx context.Context, channel string, r domain.Report) error
}

func (f *fakeSlack) PublishRevocation(context.Context, domain.RevocationRequest) []string { return nil }
func (f *fakeSlack) AlertHelpdesk(context.Context, string) error                          { return nil }
func (f *fakeSlack) PostRevocationRequest(context.Context, domain.RevocationRequest) (string, string, error) {
	return "CHELPDESK", "1.1", nil
}

func (f *fakeSlack) SlackUsersByEmail(ctx context.Context) (map[string]string, error) {
	return f.SlackUsersByEmailFn(ctx)
}

func (f *fakeSlack) SendNotice(ctx context.Context, slackID string, n domain.Notice) error {
	return f.SendNoticeFn(ctx, slackID, n)
}

func (f *fakeSlack) PostReport(ctx context.Context, channel string, r domain.Report) error {
	return f.PostReportFn(ctx, channel, r)
}

// slackLog is what a recording fakeSlack saw.
type slackLog struct {
	mu         sync.Mutex
	userLists  int
	notices    map[string][]domain.Notice // by Slack id
	reports    []domain.Report
	reportedTo []string
}

// recordingSlack returns a fakeSlack with workspace directory dir
// (email → Slack id) that records what it is asked to send.
func recordingSlack(dir map[string]string) (*fakeSlack, *slackLog) {
	l := &slackLog{notices: map[string][]domain.Notice{}}
	return &fakeSlack{
		SlackUsersByEmailFn: func(context.Context) (map[string]string, error) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.userLists++
			return dir, nil
		},
		SendNoticeFn: func(_ context.Context, id string, n domain.Notice) error {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.notices[id] = append(l.notices[id], n)
			return nil
		},
		PostReportFn: func(_ context.Context, ch string, r domain.Report) error {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.reports = append(l.reports, r)
			l.reportedTo = append(l.reportedTo, ch)
			return nil
		},
	}, l
}

func (l *slackLog) noticesTo(id string) []domain.Notice {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]domain.Notice(nil), l.notices[id]...)
}

func (l *slackLog) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, ns := range l.notices {
		n += len(ns)
	}
	return n
}

// testStore is the real SQLite store; PendingRevocations is a function
// field so the tests do not depend on the revocation requests' tables.
type testStore struct {
	*store.DB
	PendingRevocationsFn func(ctx context.Context) (int, error)
}

func (s testStore) PendingRevocations(ctx context.Context) (int, error) {
	if s.PendingRevocationsFn == nil {
		return 0, nil
	}
	return s.PendingRevocationsFn(ctx)
}

func mustOpenStore(tb testing.TB) *store.DB { return testkit.OpenStore(tb, nil) }

// idle is the background work of a tenant where none is due: the
// hygiene jobs' tests leave credentials and revocations alone.
type idle struct{}

func (idle) Reconcile(context.Context) (domain.Counts, error) { return domain.Counts{}, nil }
func (idle) Expire(context.Context) ([]domain.RevocationRequest, error) {
	return nil, nil
}
func (idle) Told(context.Context, int64, []string) error { return nil }

func (idle) ResumeApprovals(context.Context) ([]domain.RevocationRequest, error) {
	return nil, nil
}

// trustAll takes every application for apppass's, as a tenant where
// apppass made them all.
type trustAll struct{}

func (trustAll) Settled(context.Context, domain.Application) (bool, error) { return true, nil }

func (trustAll) Check(context.Context, domain.Application) (handlers.Verdict, error) {
	return handlers.Trusted, nil
}

// deps are the jobs' collaborators with idle background work.
func deps(entra jobs.Scanner, slack jobs.Slack, db testStore, now func() time.Time) jobs.Deps {
	return jobs.Deps{Entra: entra, Trust: trustAll{}, Slack: slack, Reconciler: idle{}, Revocations: idle{}, Now: now,
		Runs: db, Notices: db, LastUse: db, Reports: db, Findings: db, Prune: db, DeltaLinks: db,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// configWith is testkit.JobsConfig changed by change.
func configWith(change func(c *jobs.Config)) jobs.Config {
	c := testkit.JobsConfig()
	change(&c)
	return c
}

// person i of the tests: Entra id e{i}, Slack U{i}, email p{i}@example.test.
func entraID(i int) string { return fmt.Sprintf("e%d", i) }
func slackID(i int) string { return fmt.Sprintf("U%d", i) }
func email(i int) string   { return fmt.Sprintf("p%d@example.test", i) }

// knownPeople records persons is as having used apppass, and returns the
// workspace directory that has them.
func knownPeople(tb testing.TB, db *store.DB, is ...int) map[string]string {
	tb.Helper()
	dir := map[string]string{}
	for _, i := range is {
		if err := db.SaveUser(context.Background(), slackID(i), domain.User{ID: entraID(i), UserPrincipalName: email(i), Mail: email(i)}); err != nil {
			tb.Fatal(err)
		}
		dir[email(i)] = slackID(i)
	}
	return dir
}

// pw is an app password created at created, expiring two years later.
func pw(name string, created time.Time) domain.Password {
	return domain.Password{KeyID: uuid.NewString(), Name: name, Hint: "abc", Created: created, Expires: created.AddDate(2, 0, 0)}
}

// pws returns n passwords created a day apart, the oldest at oldest.
func pws(n int, oldest time.Time) []domain.Password {
	out := make([]domain.Password, n)
	for i := range out {
		out[i] = pw(fmt.Sprintf("device %d", i), oldest.Add(time.Duration(i)*day))
	}
	return out
}

func app(owner int, ps ...domain.Password) domain.Application {
	return domain.Application{ObjectID: "obj-" + entraID(owner), AppID: "app-" + entraID(owner), OwnerID: entraID(owner), Passwords: ps}
}

// newRunner builds a Runner at clk over entra, slack and db, as instance.
func newRunner(tb testing.TB, instance string, clk *testkit.Clock, entra jobs.Scanner, slack jobs.Slack, db testStore) *jobs.Runner {
	tb.Helper()
	r, err := jobs.New(deps(entra, slack, db, clk.Now),
		configWith(func(c *jobs.Config) { c.ReportChannel, c.Instance = "CREPORT", instance }))
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func mustRun(tb testing.TB, r *jobs.Runner, job string) domain.JobRun {
	tb.Helper()
	res, err := r.RunOnce(context.Background(), job)
	if err != nil {
		tb.Fatalf("run %s: %v", job, err)
	}
	return res
}

func keysOf(ps []domain.Password) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.KeyID)
	}
	return out
}
