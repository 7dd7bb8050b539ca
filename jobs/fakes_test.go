package jobs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/jobs"
	"github.com/apppass/apppass/store"
)

// t0 is a Monday, 09:00 UTC: every job's default schedule fires then.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// fakeEntra is a jobs.Scanner whose behaviour is its function fields.
type fakeEntra struct {
	ScanHoldersFn       func(ctx context.Context, fn func(domain.Application, string) error) error
	CredentialSignInsFn func(ctx context.Context, fn func(string, time.Time) error) (bool, error)
}

func (f *fakeEntra) ScanHolders(ctx context.Context, fn func(domain.Application, string) error) error {
	return f.ScanHoldersFn(ctx, fn)
}

func (f *fakeEntra) CredentialSignIns(ctx context.Context, fn func(string, time.Time) error) (bool, error) {
	if f.CredentialSignInsFn == nil {
		return false, nil
	}
	return f.CredentialSignInsFn(ctx, fn)
}

// tenant serves apps (and no sign-in data). upns gives owners' UPNs as
// Entra's displayName would.
func tenant(apps []domain.Application, upns map[string]string) *fakeEntra {
	return &fakeEntra{ScanHoldersFn: func(ctx context.Context, fn func(domain.Application, string) error) error {
		for _, a := range apps {
			a.Passwords = append([]domain.Password(nil), a.Passwords...)
			if err := fn(a, upns[a.OwnerID]); err != nil {
				return err
			}
		}
		return nil
	}}
}

// withSignIns makes f report last sign-ins.
func (f *fakeEntra) withSignIns(last map[string]time.Time) *fakeEntra {
	f.CredentialSignInsFn = func(ctx context.Context, fn func(string, time.Time) error) (bool, error) {
		for k, t := range last {
			if err := fn(k, t); err != nil {
				return true, err
			}
		}
		return true, nil
	}
	return f
}

// fakeSlack is a jobs.Slack whose behaviour is its function fields.
type fakeSlack struct {
	SlackUsersByEmailFn func(ctx context.Context) (map[string]string, error)
	SendNoticeFn        func(ctx context.Context, slackID string, n domain.Notice) error
	PostReportFn        func(ctx context.Context, channel string, r domain.Report) error
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

func mustOpenStore(tb testing.TB) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "apppass.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// clock is a settable time for the jobs and the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
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
func newRunner(tb testing.TB, instance string, clk *clock, entra jobs.Scanner, slack jobs.Slack, db jobs.Store) *jobs.Runner {
	tb.Helper()
	r, err := jobs.New(jobs.Deps{Entra: entra, Slack: slack, Store: db, Now: clk.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))},
		jobs.Config{ReportChannel: "CREPORT", Instance: instance})
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
