package app_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeslack"
)

// BenchmarkCommands measures commands served per second by one and by two
// replicas against the fakes with every Graph call taking 100 ms, and the
// ack latency under that load (Slack wants the ack within 3 s). Each
// operation is one `/apppass list` from one of 50 employees, 64 in flight
// at once. The PostgreSQL variants need APPPASS_TEST_POSTGRES
// (`. .ci/postgres.sh`). Results are in BENCHMARKS.md:
//
//	go test -run '^$' -bench BenchmarkCommands -benchtime 400x .
func BenchmarkCommands(b *testing.B) {
	for _, tc := range []struct {
		name     string
		postgres bool
		replicas int
	}{
		{"sqlite/replicas=1", false, 1},
		{"postgres/replicas=1", true, 1},
		{"postgres/replicas=2", true, 2},
	} {
		b.Run(tc.name, func(b *testing.B) { benchCommands(b, tc.postgres, tc.replicas) })
	}
}

func benchCommands(b *testing.B, postgres bool, replicas int) {
	h := newHarness(b)
	if postgres {
		h.usePostgres()
	}
	const people, inFlight = 50, 64
	var users []string
	for i := range people {
		slackID, entraID := fmt.Sprintf("UBENCH%02d", i), fmt.Sprintf("22222222-0000-0000-0000-0000000000%02d", i)
		email := fmt.Sprintf("bench%02d@example.test", i)
		h.Slack.AddUser(fakeslack.User{ID: slackID, Name: fmt.Sprintf("bench%02d", i), Email: email})
		h.Entra.AddUser(fakeentra.User{ID: entraID, DisplayName: email, UserPrincipalName: email, Mail: email, AccountEnabled: true})
		users = append(users, slackID)
	}
	for range replicas {
		h.startReplica(nil)
	}
	for _, u := range users { // warm: pins, caches
		h.Ask(u, "list")
	}
	h.Entra.SetLatency("", 100*time.Millisecond)

	acks := make([]time.Duration, b.N)
	replies := make([]time.Duration, b.N)
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			sent := time.Now()
			ix := h.Command(users[i%people], "list")
			h.Reply(ix)
			acks[i], replies[i] = ix.AckLatency(), time.Since(sent)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "commands/s")
	b.ReportMetric(ms(percentile(acks, 50)), "ack-p50-ms")
	b.ReportMetric(ms(percentile(acks, 99)), "ack-p99-ms")
	b.ReportMetric(ms(percentile(acks, 100)), "ack-max-ms")
	b.ReportMetric(ms(percentile(replies, 50)), "reply-p50-ms")
	b.ReportMetric(ms(percentile(replies, 99)), "reply-p99-ms")
	b.ReportMetric(0, "ns/op") // the per-command figures above say more
}

func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
