package jobs_test

import (
	"context"
	"testing"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/handlers"
	"github.com/apppass/apppass/internal/testkit"
	"github.com/apppass/apppass/jobs"
)

// allGraphCalls counts every call to Entra and Graph: tokens, owners and
// apppass's own service principal included.
func allGraphCalls(entra *fakeentra.Server) int {
	n := 0
	for _, c := range entra.Calls() {
		if c.Op != fakeentra.OpDiscovery {
			n++
		}
	}
	return n
}

// A new store over a tenant of 2,500 existing holders: the first scan
// (at most 30 Graph calls)
// brings owners with the listing (100 a page) instead of asking for each
// application's owners, and records every application as apppass's;
// later scans list 999 a page again.
func TestFirstScanOverUnrecordedHoldersBringsOwnersWithThePage(t *testing.T) {
	first, later := scanOverNewStore(t, 2500)
	t.Logf("2,500 unrecorded holders: first scan %d Graph calls, later scans %v", first, later)
}

// BenchmarkScanOverNewStore counts the Graph calls of the first and later
// hygiene reports over 100,000 holders the store has no record of:
//
//	go test -run '^$' -bench ScanOverNewStore -benchtime 1x -timeout 60m ./jobs/
func BenchmarkScanOverNewStore(b *testing.B) {
	for b.Loop() {
		first, later := scanOverNewStore(b, 100_000)
		b.ReportMetric(float64(first), "first-scan-calls")
		b.ReportMetric(float64(later[0]), "later-scan-calls")
	}
}

// scanOverNewStore runs three hygiene reports over holders unrecorded
// holders and a look-alike, checks the bounds, and returns the Graph
// calls of the first run and of the later ones.
func scanOverNewStore(t testing.TB, holders int) (int, []int) {
	ctx := context.Background()
	entra := fakeentra.New(t)
	entra.Seed(holders, 2, nil)
	lookalike := entra.AddLookalikeApplication("e-victim", "e-mallory")

	db := mustOpenStore(t)
	graph := mustGraph(t, entra)
	d := deps(graph, recordingSlackOnly(), testStore{DB: db}, testkit.NewClock(t0).Now)
	d.Trust = handlers.NewTrust(graph, db)
	r, err := jobs.New(d, configWith(func(c *jobs.Config) { c.ReportChannel, c.Instance = "CREPORT", "owners" }))
	if err != nil {
		t.Fatal(err)
	}

	entra.ResetCalls()
	res := mustRun(t, r, jobs.HygieneReport)
	first := allGraphCalls(entra)
	if bound := (holders+99)/100 + 5; first > bound {
		t.Errorf("first scan over %d unrecorded holders made %d Graph calls, want at most %d:\n%v", holders, first, bound, opCounts(entra))
	}
	if n := entra.Count(fakeentra.OpListOwners); n != 0 {
		t.Errorf("first scan asked for owners %d times, one application at a time", n)
	}
	if res.Counts[domain.FigureHolders] != holders {
		t.Errorf("holders = %d, want %d", res.Counts[domain.FigureHolders], holders)
	}
	if _, ok, err := db.Finding(ctx, lookalike.ID); err != nil || !ok {
		t.Errorf("the look-alike was not recorded as a finding (ok %v, err %v)", ok, err)
	}
	apps := entra.Applications()
	if a, err := db.Application(ctx, ownerOf(apps[0])); err != nil || a.ObjectID != apps[0].ID {
		t.Errorf("holder 0's application not recorded: %+v, %v", a, err)
	}

	bound := (holders+998)/999 + 2
	var later []int
	for run := 2; run <= 3; run++ {
		entra.ResetCalls()
		mustRun(t, r, jobs.HygieneReport)
		n := allGraphCalls(entra)
		later = append(later, n)
		if n > bound {
			t.Errorf("scan %d made %d Graph calls, want at most ⌈N/999⌉+2 = %d:\n%v", run, n, bound, opCounts(entra))
		}
	}
	return first, later
}

func opCounts(entra *fakeentra.Server) map[string]int {
	m := map[string]int{}
	for _, c := range entra.Calls() {
		m[c.Op]++
	}
	return m
}

// recordingSlackOnly is a Slack that accepts every post and knows nobody.
func recordingSlackOnly() jobs.Slack {
	s, _ := recordingSlack(map[string]string{})
	return s
}
