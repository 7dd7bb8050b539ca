package jobs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/apppass/apppass/bot"
	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeslack"
	"github.com/apppass/apppass/graphclient"
	"github.com/apppass/apppass/internal/testkit"
	"github.com/apppass/apppass/jobs"
	"github.com/apppass/apppass/store"
)

// These tests drive the jobs through the real msgraph-sdk-go and slack-go
// clients against fakeentra and fakeslack.

// The real adapters satisfy the jobs' interfaces.
var (
	_ jobs.Scanner        = (*graphclient.Client)(nil)
	_ jobs.Slack          = (*bot.Slack)(nil)
	_ jobs.RunStore       = (*store.DB)(nil)
	_ jobs.NoticeStore    = (*store.DB)(nil)
	_ jobs.LastUseStore   = (*store.DB)(nil)
	_ jobs.ReportStore    = (*store.DB)(nil)
	_ jobs.FindingStore   = (*store.DB)(nil)
	_ jobs.DeltaLinkStore = (*store.DB)(nil)
	_ jobs.Pruner         = (*store.DB)(nil)
)

func mustGraph(tb testing.TB, entra *fakeentra.Server) *graphclient.Client {
	tb.Helper()
	c, err := graphclient.New(graphclient.Options{
		TenantID: fakeentra.TenantID, ClientID: fakeentra.ClientID, ClientSecret: domain.NewSecret(fakeentra.ClientSecret),
		AuthorityHost: entra.AuthorityHost(), GraphBaseURL: entra.GraphBaseURL(), AppNamePrefix: "App passwords – ",
		Transport: entra.Client().Transport, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func mustSlack(tb testing.TB, fake *fakeslack.Server) (*bot.Slack, *testkit.Sleeps) {
	tb.Helper()
	s := bot.NewSlack(bot.Config{BotToken: domain.NewSecret(fakeslack.BotToken), APIURL: fake.APIURL()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w := &testkit.Sleeps{}
	s.Sleep = w.Sleep
	return s, w
}

// graphCalls counts the Graph calls a scan makes (tokens aside).
func graphCalls(entra *fakeentra.Server) int {
	return entra.Count(fakeentra.OpListApplications) + entra.Count(fakeentra.OpSignInActivities)
}

func TestScanOf2500Holders(t *testing.T) {
	const holders = 2500
	maxGraph := (holders+998)/999 + 2
	ctx := context.Background()
	entra := fakeentra.New(t)
	// Even holders have a stale password.
	entra.Seed(holders, 3, func(h, i int) time.Time {
		if h%2 == 0 && i == 0 {
			return t0.Add(-200 * day)
		}
		return t0.Add(-10 * day)
	})
	entra.EnableSignInActivity(true)
	apps := entra.Applications()
	entra.SetLastSignIn(apps[1].Passwords[0].KeyID, t0.Add(-day))

	// Holder h is user{h}@example.test. In Slack, and known to the store,
	// is everyone but h%10 == 8 (never found); h%10 == 6 is known under a
	// Slack account since replaced, so is found by email.
	fake := fakeslack.New(t)
	db := mustOpenStore(t)
	reachable := map[int]bool{}
	for h := range holders {
		upn := fmt.Sprintf("user%d@example.test", h)
		u, ok := entra.LookupUser(upn)
		if !ok {
			t.Fatalf("no seeded user %s", upn)
		}
		if h%10 == 8 {
			continue
		}
		reachable[h] = true
		fake.AddUser(fakeslack.User{ID: fmt.Sprint("U", h), Name: fmt.Sprint("user", h), Email: upn})
		known := fmt.Sprint("U", h)
		if h%10 == 6 {
			known = fmt.Sprint("UOLD", h)
		}
		if err := db.SaveUser(ctx, known, domain.User{ID: u.ID, UserPrincipalName: upn, Mail: upn}); err != nil {
			t.Fatal(err)
		}
	}
	fake.AddChannel("CREPORT")
	fake.RateLimit("chat.postMessage", 3, 1)
	slack, waited := mustSlack(t, fake)
	r := newRunner(t, "a", testkit.NewClock(t0), mustGraph(t, entra), slack, testStore{DB: db})

	entra.ResetCalls()
	res := mustRun(t, r, jobs.StaleWarning)
	if n := graphCalls(entra); n > maxGraph {
		t.Errorf("stale-warning made %d Graph calls for %d holders, want at most %d", n, holders, maxGraph)
	}
	want := 0
	for h := range holders {
		got := len(fake.DMsTo(fmt.Sprint("U", h)))
		if h%2 == 0 && reachable[h] {
			want++
			if got != 1 {
				t.Errorf("holder %d got %d DMs, want 1", h, got)
			}
		} else if got != 0 {
			t.Errorf("holder %d got %d DMs, want none", h, got)
		}
	}
	if res.Counts["holders"] != holders || res.Counts["selected"] != holders/2 || res.Counts["sent"] != want || res.Counts["unreachable"] != holders/2-want {
		t.Errorf("counts = %v; want %d selected, %d sent", res.Counts, holders/2, want)
	}
	// One users.list run and the DMs; no look-up per person.
	perMethod := map[string]int{}
	for _, c := range fake.Calls() {
		perMethod[c.Method]++
	}
	if len(perMethod) != 2 || perMethod["users.list"] != (len(reachable)+1+199)/200 || perMethod["chat.postMessage"] != want+3 {
		t.Errorf("Slack calls = %v; want %d users.list and %d chat.postMessage", perMethod, (len(reachable)+1+199)/200, want+3)
	}
	if !slices.Equal(waited.All(), []time.Duration{time.Second, time.Second, time.Second}) {
		t.Errorf("waits = %v, want three of 1s", waited.All())
	}

	entra.ResetCalls()
	fake.ResetCalls()
	res = mustRun(t, r, jobs.HygieneReport)
	if n := graphCalls(entra); n > maxGraph {
		t.Errorf("hygiene-report made %d Graph calls, want at most %d", n, maxGraph)
	}
	if res.Counts[domain.FigureHolders] != holders || res.Counts[domain.FigurePasswords] != 3*holders ||
		res.Counts[domain.FigureUnreachable] != holders/10 || res.Counts[domain.FigureStale] != holders/2 {
		t.Errorf("report counts = %v", res.Counts)
	}
	if msgs := fake.MessagesIn("CREPORT"); len(msgs) != 1 {
		t.Errorf("%d reports posted, want 1", len(msgs))
	}
}

func TestLastUseComesFromTheSignInReport(t *testing.T) {
	ctx := context.Background()
	entra := fakeentra.New(t)
	entra.Seed(600, 2, func(h, i int) time.Time { return t0.Add(-100 * day) })
	g := mustGraph(t, entra)

	available, err := g.CredentialSignIns(ctx, func(string, time.Time) error { return nil })
	if err != nil || available {
		t.Fatalf("unlicensed tenant: available %v, err %v; want false, nil", available, err)
	}

	entra.EnableSignInActivity(true)
	want := map[string]time.Time{}
	for i, a := range entra.Applications() {
		for j, p := range a.Passwords {
			at := t0.Add(-time.Duration(i*2+j) * time.Minute).Truncate(time.Second)
			entra.SetLastSignIn(p.KeyID, at)
			want[p.KeyID] = at
		}
	}
	entra.ResetCalls()
	got := map[string]time.Time{}
	available, err = g.CredentialSignIns(ctx, func(k string, at time.Time) error { got[k] = at; return nil })
	if err != nil || !available {
		t.Fatalf("licensed tenant: available %v, err %v", available, err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d sign-ins read, want %d", len(got), len(want))
	}
	for k, at := range want {
		if !got[k].Equal(at) {
			t.Fatalf("last sign-in of %s = %v, want %v", k, got[k], at)
		}
	}
	if n := entra.Count(fakeentra.OpSignInActivities); n != 2 {
		t.Errorf("%d calls for 1,200 rows, want 2 pages of 999", n)
	}

	entra.Inject(fakeentra.OpSignInActivities, fakeentra.Fault{Status: 500})
	if _, err := g.CredentialSignIns(ctx, func(string, time.Time) error { return nil }); domain.KindOf(err) != domain.KindUpstream {
		t.Errorf("a Graph failure: err = %v, want an upstream error", err)
	}
}

func TestScanHoldersReadsTheOwnersUPN(t *testing.T) {
	ctx := context.Background()
	entra := fakeentra.New(t)
	entra.Seed(2, 1, nil) // named apppass-user{n}: no UPN to read
	entra.AddUser(fakeentra.User{ID: "u-alice", UserPrincipalName: "alice@example.test", Mail: "alice@example.test", AccountEnabled: true})
	g := mustGraph(t, entra)
	if _, err := g.CreateApplication(ctx, domain.User{ID: "u-alice", UserPrincipalName: "alice@example.test"}); err != nil {
		t.Fatal(err)
	}
	upns := map[string]string{}
	if err := g.ScanHolders(ctx, nil, func(a domain.Application, upn string) error { upns[a.OwnerID] = upn; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(upns) != 3 || upns["u-alice"] != "alice@example.test" {
		t.Errorf("UPNs = %v; want alice's, and empty ones for the seeded", upns)
	}
}
