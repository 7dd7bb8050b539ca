package gateway_test

import (
	"context"
	"fmt"
	"net/smtp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/gateway"
)

// The gateway under attack (issue 15): the figures of BENCHMARKS.md.

// BenchmarkSendDuringFlood times one legitimate send (new connection,
// STARTTLS, AUTH, one message) from 127.0.0.2 while 1,000 idle
// connections come from 127.0.0.3.
func BenchmarkSendDuringFlood(b *testing.B) {
	r := newRig(b, quiet)
	kept := 0
	for range 1000 {
		c, err := r.raw("127.0.0.3")
		if err != nil {
			b.Fatal(err)
		}
		if strings.HasPrefix(c.line(b), "220 ") {
			kept++
		} else {
			c.Close()
		}
	}
	b.ReportMetric(float64(kept), "flood-conns-kept")
	msg := plainMessage("alice@contoso.test", "bob@contoso.test", "flood")
	b.ResetTimer()
	for range b.N {
		c, err := r.dialFrom("127.0.0.2")
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Auth(smtp.PlainAuth("", "alice@contoso.test", r.password.SecretText, hostname)); err != nil {
			b.Fatal(err)
		}
		if err := sendOn(c, "alice@contoso.test", []string{"bob@contoso.test"}, msg); err != nil {
			b.Fatal(err)
		}
		c.Quit()
	}
}

// BenchmarkParallelWrongPasswords counts the token requests at Entra
// caused by 40 parallel wrong passwords for one person, over three of
// their addresses and two replicas.
func BenchmarkParallelWrongPasswords(b *testing.B) {
	for range b.N {
		one := newRig(b, quiet, func(o *gateway.Options) { o.Limits.MaxPerAddress = 100; o.FailureFloor = time.Nanosecond })
		two := one.replica()
		if _, err := one.graph.FindMailbox(context.Background(), "bob@contoso.test"); err != nil { // apppass's own token first
			b.Fatal(err)
		}
		one.entra.ResetCalls()
		users := []string{"alice@contoso.test", "a.smith@contoso.test", "ALICE@contoso.test"}
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() {
				c, err := []*rig{one, two}[i%2].dialFrom("127.0.0.6")
				if err == nil {
					c.Auth(smtp.PlainAuth("", users[i%3], wrongPassword(i), hostname))
				}
			})
		}
		wg.Wait()
		b.ReportMetric(float64(one.entra.Count(fakeentra.OpToken)), "token-requests/40-guesses")
	}
}

// BenchmarkJunkAttempts measures the database's growth (SQLite file and
// write-ahead log) per 10,000 unauthenticated attempts with junk user
// names, from four connections on four addresses.
func BenchmarkJunkAttempts(b *testing.B) {
	for range b.N {
		r := newRig(b, quiet, func(o *gateway.Options) { o.Limits.MaxAuthAttempts = 1 << 20; o.Limits.MaxCommands = 1 << 20 })
		before := dbSize(b, r.dsn)
		var wg sync.WaitGroup
		for w, from := range []string{"127.0.0.8", "127.0.0.9", "127.0.0.10", "127.0.0.11"} {
			wg.Go(func() {
				tr := r.rawTLS(from)
				for i := range 2500 {
					tr.cmd(b, "AUTH PLAIN "+plainResponse(fmt.Sprintf("junk-%d-%d", w, i), "whatever"))
				}
			})
		}
		wg.Wait()
		b.ReportMetric(float64(dbSize(b, r.dsn)-before), "db-bytes/10k-attempts")

	}
}

// BenchmarkConcurrentLargeMessages sends 50 messages of 30 MiB at once
// from 25 owners (two each) and reports the process's peak heap (client,
// gateway and fake Graph together, over the messages prepared before)
// and the gateway's peak of body bytes held, which APPPASS_GATEWAY_MEMORY
// bounds.
func BenchmarkConcurrentLargeMessages(b *testing.B) {
	r := newRig(b, quiet, func(o *gateway.Options) { o.MaxBytes = 35 << 20; o.Limits.MaxPerAddress = 100 })
	devs := r.addDevices(25)
	msg, _ := pdfMessage(22 << 20)    // 30 MiB once base64-encoded
	msgs := make([][]byte, len(devs)) // one copy per owner, made before measuring
	for i, d := range devs {
		msgs[i] = []byte(strings.Replace(string(msg), "alice@contoso.test", d.user, 1))
	}
	for range b.N {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak atomic.Uint64
		stop := make(chan struct{})
		var sampler sync.WaitGroup
		sampler.Go(func() {
			var m runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		})
		var ok, busy atomic.Int64
		var wg sync.WaitGroup
		for i := range 50 {
			d, m := devs[i/2], msgs[i/2]
			wg.Go(func() {
				err := r.send(d.user, d.password, d.user, []string{"bob@contoso.test"}, m)
				switch reply(err) {
				case "250":
					ok.Add(1)
				case "451 4.3.0":
					busy.Add(1)
				default:
					b.Error(err)
				}
			})
		}
		wg.Wait()
		close(stop)
		sampler.Wait()
		b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/(1<<20), "peak-heap-growth-MiB")
		b.ReportMetric(float64(r.gw.Stats().MemoryPeak)/(1<<20), "peak-held-MiB")
		b.ReportMetric(float64(ok.Load()), "sent")
		b.ReportMetric(float64(busy.Load()), "451s")
	}
}
