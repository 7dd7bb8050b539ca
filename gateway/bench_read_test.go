package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/gateway"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
)

// bigMessage is a ~size-byte message with a base64 body, as an archiver
// would pull.
func bigMessage(i, size int) []byte {
	raw := make([]byte, size*3/4)
	rand.Read(raw)
	enc := base64.StdEncoding.EncodeToString(raw)
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: bob@contoso.test\r\nTo: alice@contoso.test\r\nSubject: bulk %d\r\nMessage-ID: <bulk-%d@contoso.test>\r\n", i, i)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	for j := 0; j < len(enc); j += 76 {
		b.WriteString(enc[j:min(j+76, len(enc))] + "\r\n")
	}
	return b.Bytes()
}

// BenchmarkMbsyncPull times mbsync pulling 1,000 messages (50 MB) from
// the fake Exchange Online straight (LOGIN with apppass's token as the
// password: mbsync has no XOAUTH2 without a SASL plugin) and through the
// gateway (LOGIN with an app password), alternately, each into an empty
// maildir. It reports both times and their ratio (target ≤ 1.25).
func BenchmarkMbsyncPull(b *testing.B) {
	mbsync, err := exec.LookPath("mbsync")
	if err != nil {
		b.Skip("mbsync is not installed")
	}
	r := newRig(b, quiet)
	r.allowReading(domain.Scope{Read: true})
	r.read.exchange.AllowTokenAsPassword()
	const n, size = 1000, 50 << 10
	for i := range n {
		if _, err := r.read.exchange.Deliver(r.alice.Mail, bigMessage(i, size)); err != nil {
			b.Fatal(err)
		}
	}
	tok, err := r.read.tokens.ExchangeToken(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	gwCA := filepath.Join(dir, "gw.pem")
	if err := os.WriteFile(gwCA, readFile(b, r.certFile), 0o600); err != nil {
		b.Fatal(err)
	}
	pull := func(name, port, ca, user, pass string) time.Duration {
		d := filepath.Join(dir, fmt.Sprintf("%s-%d", name, time.Now().UnixNano()))
		if err := os.MkdirAll(d, 0o700); err != nil {
			b.Fatal(err)
		}
		rc := filepath.Join(d, "rc")
		if err := os.WriteFile(rc, []byte(mbsyncConfig(d, port, ca, user, pass)), 0o600); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if out, err := exec.Command(mbsync, "-c", rc, "-a").CombinedOutput(); err != nil {
			b.Fatalf("mbsync %s: %v\n%s", name, err, out)
		}
		took := time.Since(start)
		if got := len(maildirFiles(b, d)); got != n {
			b.Fatalf("mbsync %s pulled %d messages, want %d", name, got, n)
		}
		os.RemoveAll(d)
		return took
	}
	var direct, through time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			direct += pull("direct", port(r.read.upIMAP), r.read.exchangeCert, r.alice.Mail, tok.Reveal())
			through += pull("apppass", port(r.read.imaps), gwCA, "alice@contoso.test", r.password.SecretText)
		} else {
			through += pull("apppass", port(r.read.imaps), gwCA, "alice@contoso.test", r.password.SecretText)
			direct += pull("direct", port(r.read.upIMAP), r.read.exchangeCert, r.alice.Mail, tok.Reveal())
		}
	}
	b.ReportMetric(direct.Seconds()/float64(b.N), "direct-s/op")
	b.ReportMetric(through.Seconds()/float64(b.N), "apppass-s/op")
	b.ReportMetric(float64(through)/float64(direct), "ratio")
}

// reader is one reading owner: address and password.
type readOwner struct{ mail, password string }

// addReaders gives n more employees an application, a read password and
// a mailbox at the fake Exchange.
func (r *rig) addReaders(n int) []readOwner {
	out := make([]readOwner, n)
	for i := range out {
		u := fakeentra.User{ID: fmt.Sprintf("e0000000-0000-4000-8000-%012d", i), UserPrincipalName: fmt.Sprintf("reader%d@contoso.test", i),
			Mail: fmt.Sprintf("reader%d@contoso.test", i), AccountEnabled: true}
		r.entra.AddUser(u)
		app := r.entra.AddEmployeeApp(u.ID, true)
		ctx := context.Background()
		if err := r.db.SaveApplication(ctx, domain.Application{OwnerID: u.ID, ObjectID: app.ID, AppID: app.AppID}); err != nil {
			r.t.Fatal(err)
		}
		cred := r.entra.AddSecret(app.ID, "archiver", time.Time{})
		if err := r.db.SavePasswordScope(ctx, u.ID, cred.KeyID, domain.Scope{Read: true}); err != nil {
			r.t.Fatal(err)
		}
		r.read.exchange.AddMailbox(u.Mail, fakeentra.ClientID)
		out[i] = readOwner{u.Mail, cred.SecretText}
	}
	return out
}

// heapAndStacks is the memory in use after a collection.
func heapAndStacks() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// BenchmarkIdleIMAPSessions holds 1,000 IMAP sessions in IDLE through one
// gateway process and reports the gateway's memory per idle session: the
// same 1,000 sessions held straight against the fake Exchange (in the
// same process) are the baseline subtracted, so what remains is the
// gateway's two TLS connections, goroutines and buffers per session.
func BenchmarkIdleIMAPSessions(b *testing.B) {
	const n = 1000
	r := newRig(b, quiet, func(o *gateway.Options) { o.Limits.MaxConnections = 5 * n; o.Limits.MaxPerAddress = 5 * n })
	owners := r.addReaders(60)
	tok, err := r.read.tokens.ExchangeToken(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	upTLS := &tls.Config{RootCAs: r.read.exchangePool, ServerName: exchangeHost}
	open := func(through bool) []*line {
		ls := make([]*line, 0, n)
		for i := range n {
			o := owners[i%len(owners)]
			var l *line
			if through {
				l = r.dialRead(r.read.imaps)
				if got := l.do(`a LOGIN "`+o.mail+`" "`+o.password+`"`, "a "); !strings.HasPrefix(got, "a OK") {
					b.Fatalf("session %d: %q", i, got)
				}
			} else {
				c, err := tls.Dial("tcp", r.read.upIMAP, upTLS)
				if err != nil {
					b.Fatal(err)
				}
				l = &line{t: b, c: c, r: bufio.NewReader(c)}
				_ = c.SetDeadline(time.Now().Add(time.Minute))
				l.next()
				resp := base64.StdEncoding.EncodeToString([]byte("user=" + o.mail + "\x01auth=Bearer " + tok.Reveal() + "\x01\x01"))
				if got := l.do("a AUTHENTICATE XOAUTH2 "+resp, "a "); !strings.HasPrefix(got, "a OK") {
					b.Fatalf("direct session %d: %q", i, got)
				}
			}
			l.do("b SELECT INBOX", "b OK")
			fmt.Fprintf(l.c, "c IDLE\r\n")
			if got := l.next(); !strings.HasPrefix(got, "+") {
				b.Fatalf("IDLE: %q", got)
			}
			_ = l.c.SetDeadline(time.Time{})
			ls = append(ls, l)
		}
		return ls
	}
	closeAll := func(ls []*line) {
		for _, l := range ls {
			l.c.Close()
		}
		eventually(b, time.Minute, "the fake's sessions to end", func() bool {
			for _, o := range owners {
				if i, _ := r.read.exchange.Sessions(o.mail); i != 0 {
					return false
				}
			}
			return true
		})
	}
	for i := 0; i < b.N; i++ {
		before := heapAndStacks()
		direct := open(false)
		directBytes := int64(heapAndStacks()) - int64(before)
		closeAll(direct)
		before = heapAndStacks()
		start := time.Now()
		through := open(true)
		openTime := time.Since(start)
		throughBytes := int64(heapAndStacks()) - int64(before)
		if got := r.gw.Stats(); got.LoginsOK < n {
			b.Fatalf("%d logins, want %d", got.LoginsOK, n)
		}
		b.ReportMetric(float64(throughBytes-directBytes)/n/1024, "gateway-KiB/session")
		b.ReportMetric(float64(directBytes)/n/1024, "baseline-KiB/session")
		b.ReportMetric(openTime.Seconds(), "open-1000-s")
		closeAll(through)
	}
}
