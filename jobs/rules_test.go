package jobs_test

import (
	"slices"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/internal/testkit"
	"github.com/apppass/apppass/jobs"
)

func TestLimitWarningAtItsEdges(t *testing.T) {
	db := mustOpenStore(t)
	clk := testkit.NewClock(t0)
	dir := knownPeople(t, db, 34, 35, 40)
	oldest := t0.AddDate(-1, 0, 0)
	entra := tenant([]domain.Application{app(34, pws(34, oldest)...), app(35, pws(35, oldest)...), app(40, pws(40, oldest)...)}, nil)
	slack, sent := recordingSlack(dir)
	res := mustRun(t, newRunner(t, "a", clk, entra, slack, testStore{DB: db}), jobs.LimitWarning)

	if n := sent.noticesTo(slackID(34)); len(n) != 0 {
		t.Errorf("34 of 40 was warned: %+v", n)
	}
	for _, held := range []int{35, 40} {
		ns := sent.noticesTo(slackID(held))
		if len(ns) != 1 {
			t.Fatalf("%d of 40: %d notices, want 1", held, len(ns))
		}
		n := ns[0]
		if n.Kind != domain.NoticeLimit || n.Held != held || n.Max != 40 {
			t.Errorf("%d of 40: notice %s %d of %d", held, n.Kind, n.Held, n.Max)
		}
		if len(n.Passwords) != 10 || n.More != held-10 {
			t.Errorf("%d of 40: names %d and %d more, want 10 and %d more", held, len(n.Passwords), n.More, held-10)
		}
		if !slices.IsSortedFunc(n.Passwords, func(a, b domain.Password) int { return a.Created.Compare(b.Created) }) || !n.Passwords[0].Created.Equal(oldest) {
			t.Errorf("%d of 40: not the oldest first: %v", held, n.Passwords[0].Created)
		}
	}
	if res.Counts["holders"] != 3 || res.Counts["selected"] != 2 || res.Counts["sent"] != 2 {
		t.Errorf("counts = %v", res.Counts)
	}
}

func TestStaleWarningAtItsEdges(t *testing.T) {
	young, p179, p180 := pw("young", t0.Add(-10*day)), pw("179 days", t0.Add(-179*day)), pw("180 days", t0.Add(-180*day))
	used89, used90 := pw("used 89 days ago", t0.Add(-150*day)), pw("used 90 days ago", t0.Add(-150*day))
	never89, never90 := pw("never used, 89 days old", t0.Add(-89*day)), pw("never used, 90 days old", t0.Add(-90*day))
	lastUse := map[string]time.Time{
		young.KeyID: t0.Add(-day), p179.KeyID: t0.Add(-day), p180.KeyID: t0.Add(-day),
		used89.KeyID: t0.Add(-89 * day), used90.KeyID: t0.Add(-90 * day),
	}
	apps := []domain.Application{app(1, young, p179, p180, used89, used90, never89, never90)}
	tests := []struct {
		name      string
		entra     *testkit.Entra
		wantStale []domain.Password
	}{
		{"by age only without sign-in data", tenant(apps, nil), []domain.Password{p180}},
		{"by age or by disuse with sign-in data", tenant(apps, nil).SetSignIns(lastUse), []domain.Password{p180, used90, never90}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := mustOpenStore(t)
			slack, sent := recordingSlack(knownPeople(t, db, 1))
			mustRun(t, newRunner(t, "a", testkit.NewClock(t0), tt.entra, slack, testStore{DB: db}), jobs.StaleWarning)
			ns := sent.noticesTo(slackID(1))
			if len(ns) != 1 {
				t.Fatalf("%d notices, want 1", len(ns))
			}
			got, want := keysOf(ns[0].Passwords), keysOf(tt.wantStale)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("named %v, want %v", names(ns[0].Passwords), names(tt.wantStale))
			}
			for _, p := range ns[0].Passwords {
				if lu, ok := lastUse[p.KeyID]; ok && ns[0].LastUseKnown && (p.LastUsed == nil || !p.LastUsed.Equal(lu)) {
					t.Errorf("%s: LastUsed = %v, want %v", p.Name, p.LastUsed, lu)
				}
			}
		})
	}
}

func TestExpiryWarningAtItsEdges(t *testing.T) {
	created := t0.AddDate(-1, 0, 0)
	expiring := func(name string, in time.Duration) domain.Password {
		p := pw(name, created)
		p.Expires = t0.Add(in)
		return p
	}
	d13, d14, d14s, d15, gone := expiring("13 days", 13*day), expiring("14 days", 14*day), expiring("14 days and a second", 14*day+time.Second),
		expiring("15 days", 15*day), expiring("expired", -day)
	forever := pw("never expires", created)
	forever.Expires = time.Time{}
	db := mustOpenStore(t)
	slack, sent := recordingSlack(knownPeople(t, db, 1, 2))
	entra := tenant([]domain.Application{app(1, d15, d14, gone, d14s, d13, forever), app(2, d15)}, nil)
	mustRun(t, newRunner(t, "a", testkit.NewClock(t0), entra, slack, testStore{DB: db}), jobs.ExpiryWarning)

	ns := sent.noticesTo(slackID(1))
	if len(ns) != 1 {
		t.Fatalf("%d notices, want 1", len(ns))
	}
	if got, want := names(ns[0].Passwords), []string{"13 days", "14 days"}; !slices.Equal(got, want) {
		t.Errorf("named %v, want %v (soonest first; 14 days inclusive)", got, want)
	}
	if n := sent.noticesTo(slackID(2)); len(n) != 0 {
		t.Errorf("15 days out was warned: %+v", n)
	}
}

func names(ps []domain.Password) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}
