package gateway_test

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/apppass/apppass/gateway"
	"github.com/apppass/apppass/internal/testkit"
)

// BenchmarkUpstream sends 1 MB and 30 MB messages through each upstream,
// a new device connection per message, side by side in one run, and
// reports messages per second and the peak heap above the idle one:
// allocated heap objects, sampled every millisecond under GOGC=10. Garbage
// not yet collected counts too, so the figure is an upper bound on what
// is held. The fakes keep no message content, and the test's own copy of
// the message is in the idle heap.
func BenchmarkUpstream(b *testing.B) {
	for _, size := range []struct {
		name string
		pdf  int
	}{{"1MB", 750 << 10}, {"30MB", 22 << 20}} {
		for _, up := range []string{"smtp", "graph"} {
			b.Run(up+"/"+size.name, func(b *testing.B) { benchmarkUpstream(b, up == "smtp", size.pdf) })
		}
	}
}

func benchmarkUpstream(b *testing.B, smtp bool, pdfBytes int) {
	r := newExchangeRigWith(b, smtp, []rigOption{func(o *gateway.Options) {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		o.Debug = nil
	}})
	r.ex.DiscardBodies(true)
	r.entra.DiscardMailContent(true)
	msg, _ := pdfMessage(pdfBytes)
	send := func() {
		c, err := r.login("alice@contoso.test", r.password.SecretText)
		if err != nil {
			b.Fatal(err)
		}
		if err := testkit.SendMail(c, "alice@contoso.test", []string{"bob@contoso.test"}, msg); err != nil {
			b.Fatal(err)
		}
	}
	send() // warm: the login cache, tokens, the upstream connection
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	idle, cycles := heapObjects(), gcCycles()
	ctx, stop := context.WithCancel(context.Background())
	peak := make(chan uint64)
	go func() {
		top := idle
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				peak <- top
				return
			case <-t.C:
				top = max(top, heapObjects())
			}
		}
	}()
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		send()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	stop()
	top := <-peak
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(top-idle)/(1<<20), "peak-MiB-above-idle")
	b.ReportMetric(float64(gcCycles()-cycles)/float64(b.N), "GCs/msg")
}

// gcCycles counts garbage collections so far.
func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// heapObjects is the heap held by objects now, garbage not yet collected
// included.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
