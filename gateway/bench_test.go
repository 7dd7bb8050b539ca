package gateway_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/smtp"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/gateway"
)

// quiet turns logging and the protocol trace off for benchmarks.
func quiet(o *gateway.Options) {
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	o.Debug = nil
	o.MaxBytes = 30 << 20
}

// device is one owner's device: address and password.
type device struct{ user, password string }

// addDevices gives n more employees an application and a password.
func (r *rig) addDevices(n int) []device {
	out := make([]device, n)
	for i := range out {
		u := fakeentra.User{ID: fmt.Sprintf("d0000000-0000-4000-8000-%012d", i), UserPrincipalName: fmt.Sprintf("dev%d@contoso.test", i),
			Mail: fmt.Sprintf("dev%d@contoso.test", i), AccountEnabled: true}
		r.entra.AddUser(u)
		app := r.entra.AddEmployeeApp(u.ID, true)
		if err := r.db.SaveApplication(context.Background(), domain.Application{OwnerID: u.ID, ObjectID: app.ID, AppID: app.AppID}); err != nil {
			r.t.Fatal(err)
		}
		out[i] = device{u.UserPrincipalName, r.entra.AddSecret(app.ID, "device", time.Time{}).SecretText}
	}
	return out
}

// BenchmarkManyDevices sends small messages from 50 devices (one owner
// each), a new connection per message as scanners do, 8 at a time.
func BenchmarkManyDevices(b *testing.B) {
	r := newRig(b, quiet)
	devs := r.addDevices(50)
	if _, err := r.graph.FindMailbox(context.Background(), "bob@contoso.test"); err != nil {
		b.Fatal(err)
	}
	r.entra.ResetCalls()
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.SetParallelism(4) // 4 × GOMAXPROCS senders
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d := devs[next.Add(1)%int64(len(devs))]
			msg := plainMessage(d.user, "bob@contoso.test", "bench")
			if err := r.send(d.user, d.password, d.user, []string{"bob@contoso.test"}, msg); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(r.entra.Count(fakeentra.OpToken))/float64(b.N), "tokens/msg")
}

// BenchmarkIdleConnection measures the memory one authenticated, idle
// connection holds (client and server side together, in one process).
func BenchmarkIdleConnection(b *testing.B) {
	r := newRig(b, quiet, func(o *gateway.Options) { o.Limits.MaxPerOwner = 1000 })
	const n = 200
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		clients := make([]*smtp.Client, n)
		for i := range clients {
			c, err := r.login("alice@contoso.test", r.password.SecretText)
			if err != nil {
				b.Fatal(err)
			}
			clients[i] = c
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/n, "heap-bytes/conn")
		b.ReportMetric(float64(runtime.NumGoroutine())/n, "goroutines/conn")
		for _, c := range clients {
			c.Close()
		}
	}
}

func benchmarkMessage(b *testing.B, pdfBytes int) {
	r := newRig(b, quiet)
	msg, _ := pdfMessage(pdfBytes)
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for range b.N {
		if err := r.send("alice@contoso.test", r.password.SecretText, "alice@contoso.test", []string{"bob@contoso.test"}, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMessage1MB sends a 1 MB message (one sendMail).
func BenchmarkMessage1MB(b *testing.B) { benchmarkMessage(b, 750<<10) }

// BenchmarkMessage20MB sends a 20 MB PDF (draft, upload session, send).
func BenchmarkMessage20MB(b *testing.B) { benchmarkMessage(b, 20<<20) }
