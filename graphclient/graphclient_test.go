package graphclient_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/graphclient"
)

func MustClient(tb testing.TB, s *fakeentra.Server) *graphclient.Client {
	tb.Helper()
	return mustClientSleeping(tb, s, new(sleeper))
}

// mustClientSleeping is MustClient whose retries sleep with sl.
func mustClientSleeping(tb testing.TB, s *fakeentra.Server, sl *sleeper) *graphclient.Client {
	tb.Helper()
	c, err := graphclient.New(graphclient.Options{
		TenantID: fakeentra.TenantID, ClientID: fakeentra.ClientID, ClientSecret: domain.NewSecret(fakeentra.ClientSecret),
		AuthorityHost: s.AuthorityHost(), GraphBaseURL: s.GraphBaseURL(), AppNamePrefix: "App passwords – ",
		Transport: s.Client().Transport, Sleep: sl.sleep,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// sleeper is the retries' sleep in tests: it returns at once, records the
// wait, and moves a fake clock (the fake Entra's, when it is given one)
// by it, so nothing sleeps for real.
type sleeper struct {
	mu    sync.Mutex
	at    time.Time // the fake clock; zero: not used
	slept []time.Duration
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slept = append(s.slept, d)
	s.at = s.at.Add(d)
	return nil
}

func (s *sleeper) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.at
}

func (s *sleeper) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.slept...)
}

func ctx(tb testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return c
}

func graphOps(s *fakeentra.Server) []string {
	var ops []string
	for _, c := range s.Calls() {
		if c.Op != "token" {
			ops = append(ops, c.Op)
		}
	}
	return ops
}

func TestFindUserByUPNThenMailAndCache(t *testing.T) {
	s := fakeentra.New(t)
	s.AddUser(fakeentra.User{ID: "u1", DisplayName: "Alice", UserPrincipalName: "alice@corp.test", Mail: "alice@mail.test", AccountEnabled: true})
	c := MustClient(t, s)

	u, err := c.FindUser(ctx(t), "Alice@Corp.test")
	if err != nil || u.ID != "u1" || !u.AccountEnabled {
		t.Fatalf("FindUser by UPN = %+v, %v", u, err)
	}
	s.ResetCalls()
	u, err = c.FindUser(ctx(t), "alice@mail.test")
	if err != nil || u.ID != "u1" {
		t.Fatalf("FindUser by mail = %+v, %v", u, err)
	}
	if got := graphOps(s); len(got) != 2 || got[0] != "getUser" || got[1] != "filterUsers" {
		t.Errorf("mail lookup ops = %v, want [getUser filterUsers]", got)
	}
	s.ResetCalls()
	if _, err := c.FindUser(ctx(t), "alice@mail.test"); err != nil {
		t.Fatal(err)
	}
	if got := graphOps(s); len(got) != 0 {
		t.Errorf("cached lookup made calls %v", got)
	}
	if _, err := c.FindUser(ctx(t), "nobody@corp.test"); domain.KindOf(err) != domain.KindNotFound {
		t.Errorf("unknown user: err = %v, want not found", err)
	}
}

func TestMemberGroups(t *testing.T) {
	s := fakeentra.New(t)
	s.AddUser(fakeentra.User{ID: "u1", UserPrincipalName: "a@x.test", AccountEnabled: true})
	s.AddGroupMember("g-help", "u1")
	c := MustClient(t, s)
	got, err := c.MemberGroups(ctx(t), "u1", []string{"g-admin", "g-help", ""})
	if err != nil || len(got) != 1 || got[0] != "g-help" {
		t.Fatalf("MemberGroups = %v, %v; want [g-help]", got, err)
	}
}

func TestApplicationLifecycle(t *testing.T) {
	s := fakeentra.New(t)
	owner := domain.User{ID: "u1", UserPrincipalName: "a@x.test", AccountEnabled: true}
	s.AddUser(fakeentra.User{ID: owner.ID, UserPrincipalName: owner.UserPrincipalName, AccountEnabled: true})
	c := MustClient(t, s)
	if apps, err := c.FindApplications(ctx(t), owner.ID); err != nil || len(apps) != 0 {
		t.Fatalf("FindApplications before create: %v, err=%v", apps, err)
	}
	app, err := c.CreateApplication(ctx(t), owner)
	if err != nil {
		t.Fatal(err)
	}
	apps := s.Applications()
	if len(apps) != 1 || apps[0].DisplayName != "App passwords – a@x.test" || !apps[0].HasServicePrincipal || apps[0].AppID != app.AppID {
		t.Fatalf("Entra holds %+v", apps)
	}
	if tags := apps[0].Tags; len(tags) != 2 || tags[0] != "apppass" || tags[1] != "apppass:owner:u1" {
		t.Errorf("tags = %v", tags)
	}
	p, secret, err := c.AddPassword(ctx(t), app, "Phone", time.Time{})
	if err != nil || secret.IsZero() || p.Name != "Phone" || p.KeyID == "" {
		t.Fatalf("AddPassword = %+v, %v", p, err)
	}
	s.ResetCalls()
	if _, err := c.FindApplications(ctx(t), owner.ID); err != nil {
		t.Fatal(err)
	}
	s.ResetCalls()
	got, err := c.FindApplications(ctx(t), owner.ID)
	if err != nil || len(got) != 1 || len(got[0].Passwords) != 1 {
		t.Fatalf("cached applications = %+v, %v", got, err)
	}
	if ops := graphOps(s); len(ops) != 0 {
		t.Errorf("warm FindApplications made calls %v", ops)
	}
	if err := c.RemovePassword(ctx(t), app, p.KeyID); err != nil {
		t.Fatal(err)
	}
	if err := c.RemovePassword(ctx(t), app, p.KeyID); domain.KindOf(err) != domain.KindNotFound {
		t.Errorf("removing twice: err = %v, want not found", err)
	}
}

func TestThrottledReadsAreRetriedAfterRetryAfter(t *testing.T) {
	s := fakeentra.New(t)
	s.AddUser(fakeentra.User{ID: "u1", UserPrincipalName: "a@x.test", AccountEnabled: true})
	sl := new(sleeper)
	c := mustClientSleeping(t, s, sl)
	s.Inject("listApplications", fakeentra.Fault{Status: 429, RetryAfter: 1})
	if _, err := c.FreshApplications(ctx(t), "u1"); err != nil {
		t.Fatalf("throttled read failed: %v", err)
	}
	if w := sl.waits(); len(w) != 1 || w[0] < time.Second || w[0] > 1100*time.Millisecond {
		t.Errorf("waits %v, want one of Retry-After (1 s) plus at most a tenth", w)
	}
	if n := s.Count("listApplications"); n != 2 {
		t.Errorf("listApplications calls = %d, want 2", n)
	}
}

func TestScanHoldersPages(t *testing.T) {
	s := fakeentra.New(t)
	now := time.Now()
	s.Seed(2100, 2, func(holder, i int) time.Time { return now.Add(-time.Duration(holder) * time.Hour) })
	c := MustClient(t, s)
	seen, creds := 0, 0
	err := c.ScanHolders(ctx(t), nil, func(a domain.Application, upn string) error {
		seen++
		creds += len(a.Passwords)
		return nil
	})
	if err != nil || seen != 2100 || creds != 4200 {
		t.Fatalf("scan saw %d apps, %d credentials, err %v", seen, creds, err)
	}
	if n := s.Count("listApplications"); n != 3 {
		t.Errorf("listApplications calls = %d, want 3 pages of 999", n)
	}
}
