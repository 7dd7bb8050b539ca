package jobs_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/internal/testkit"
	"github.com/apppass/apppass/jobs"
)

// BenchmarkScanAndReport runs the hygiene report — one streaming scan of
// every apppass application plus the sign-in report, resolving every
// holder through the store, and one post — over a synthetic tenant of
// holders × 5 passwords in fakeentra, through the real msgraph-sdk-go
// client. Every holder is known to the store and to Slack's directory
// (an in-process fake: this measures the scan, not users.list), and 10%
// of the passwords have a sign-in on record.
//
// It reports Graph calls per run and two memory figures, both growth over
// the heap before the run (after a GC), which holds fakeentra's tenant:
// peak-live-MB, the most memory found live by any GC during the run (what
// the run holds on to), and peak-heap-MB, the largest heap including
// garbage not yet collected (which GOGC lets grow with the baseline). The
// fake's own per-request allocations count in both.
//
//	go test -run '^$' -bench ScanAndReport -benchtime 3x -timeout 60m ./jobs/
func BenchmarkScanAndReport(b *testing.B) {
	for _, holders := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("holders=%d", holders), func(b *testing.B) { benchScanAndReport(b, holders, 5) })
	}
}

func benchScanAndReport(b *testing.B, holders, perHolder int) {
	ctx := context.Background()
	entra := fakeentra.New(b)
	entra.Seed(holders, perHolder, func(h, i int) time.Time { return t0.Add(-time.Duration((h+i*37)%400) * day) })
	entra.EnableSignInActivity(true)
	db := mustOpenStore(b)
	dir := make(map[string]string, holders)
	for i, a := range entra.Applications() {
		if i%10 == 0 {
			for _, p := range a.Passwords {
				entra.SetLastSignIn(p.KeyID, t0.Add(-time.Duration(i%200)*day))
			}
		}
		upn := fmt.Sprintf("user%d@example.test", i)
		if err := db.SaveUser(ctx, fmt.Sprint("U", i), domain.User{ID: ownerOf(a), UserPrincipalName: upn, Mail: upn}); err != nil {
			b.Fatal(err)
		}
		dir[upn] = fmt.Sprint("U", i)
	}
	slack, sent := recordingSlack(dir)
	r := newRunner(b, "bench", testkit.NewClock(t0), mustGraph(b, entra), slack, testStore{DB: db})

	var peak heapPeak
	b.ReportAllocs()
	b.ResetTimer()
	runs := 0
	for b.Loop() {
		entra.ResetCalls()
		stop := peak.watch()
		res, err := r.RunOnce(ctx, jobs.HygieneReport)
		stop()
		if err != nil {
			b.Fatal(err)
		}
		if res.Counts[domain.FigureHolders] != holders || res.Counts[domain.FigureUnreachable] != 0 {
			b.Fatalf("counts = %v", res.Counts)
		}
		runs++
	}
	b.ReportMetric(float64(entra.Count(fakeentra.OpListApplications)), "list-calls/op")
	b.ReportMetric(float64(entra.Count(fakeentra.OpSignInActivities)), "signin-calls/op")
	b.ReportMetric(float64(peak.heap)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(peak.live)/(1<<20), "peak-live-MB")
	if len(sent.reports) != runs {
		b.Fatalf("%d reports for %d runs", len(sent.reports), runs)
	}
}

func ownerOf(a fakeentra.Application) string {
	for _, t := range a.Tags {
		if len(t) > len(fakeentra.OwnerTagPrefix) && t[:len(fakeentra.OwnerTagPrefix)] == fakeentra.OwnerTagPrefix {
			return t[len(fakeentra.OwnerTagPrefix):]
		}
	}
	return ""
}

// heapPeak samples the heap every millisecond while a run lasts and
// keeps the largest growth over its start (after a GC): of the heap with
// garbage, and of the bytes the latest GC found live.
type heapPeak struct{ heap, live uint64 }

func (p *heapPeak) watch() (stop func()) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	read := func() (uint64, uint64) {
		metrics.Read(sample)
		return sample[0].Value.Uint64(), sample[1].Value.Uint64()
	}
	baseHeap, baseLive := read()
	grow := func(max *uint64, v, base uint64) {
		if v > base && v-base > *max {
			*max = v - base
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			heap, live := read()
			grow(&p.heap, heap, baseHeap)
			grow(&p.live, live, baseLive)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// heapBytes returns the heap's object bytes (garbage included) and the
// bytes the latest GC found live.
func heapBytes() (heap, live uint64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// BenchmarkReportMemory measures what the hygiene report holds on to while
// it scans, with nothing else in the heap: a hand-written Scanner makes up
// holders × 5 passwords as it streams them (no tenant in memory) and, every
// 10,000 holders, stops to collect garbage and read the live heap. Nobody
// is near the limit, the store knows nobody and Slack's directory is
// empty, so what is left is the scan itself: retained-MB should not grow
// with the tenant.
func BenchmarkReportMemory(b *testing.B) {
	for _, holders := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("holders=%d", holders), func(b *testing.B) {
			var retained uint64
			var base uint64
			entra := scanning(func(ctx context.Context, fn func(domain.Application, string) error) error {
				for h := range holders {
					ps := make([]domain.Password, 5)
					for i := range ps {
						ps[i] = domain.Password{KeyID: fmt.Sprintf("%08d-0000-4000-8000-%012d", h, i), Name: "seed", Created: t0.Add(-time.Duration(h%400) * day), Expires: t0.Add(time.Duration(h%30) * day)}
					}
					if err := fn(domain.Application{ObjectID: fmt.Sprint("obj", h), OwnerID: fmt.Sprint("owner", h), Passwords: ps}, ""); err != nil {
						return err
					}
					if h%10_000 == 9_999 {
						runtime.GC()
						_, live := heapBytes()
						retained = max(retained, sub(live, base))
					}
				}
				return nil
			})
			slack, _ := recordingSlack(map[string]string{})
			r := newRunner(b, "bench", testkit.NewClock(t0), entra, slack, testStore{DB: mustOpenStore(b)})
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				runtime.GC()
				_, base = heapBytes()
				if _, err := r.RunOnce(context.Background(), jobs.HygieneReport); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(retained)/(1<<20), "retained-MB")
		})
	}
}
