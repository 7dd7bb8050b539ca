package gateway_test

// The attacks of issue 15, run against the real gateway with real
// clients from several loopback source addresses (127.0.0.x all reach
// the listener on Linux).

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/gateway"
	"github.com/apppass/apppass/internal/testkit"
)

// eventually is testkit.Eventually, the one way tests here wait.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, d, what, cond)
}

// rawConn is a plain connection to the STARTTLS listener from local
// address from.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

func (r *rig) raw(from string) (*rawConn, error) {
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", r.addr)
	if err != nil {
		return nil, err
	}
	r.t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, r: bufio.NewReader(c)}, nil
}

// line reads one reply line (the last of a multi-line reply), or "EOF".
func (c *rawConn) line(t testing.TB) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			return "EOF"
		}
		if len(l) < 4 || l[3] != '-' {
			return strings.TrimRight(l, "\r\n")
		}
	}
}

func (c *rawConn) cmd(t testing.TB, s string) string {
	t.Helper()
	if _, err := io.WriteString(c, s+"\r\n"); err != nil {
		return "EOF"
	}
	return c.line(t)
}

// dialFrom is r.dial from a source address, without failing the test on
// a refusal: it returns the client after STARTTLS, or the error.
func (r *rig) dialFrom(from string) (*smtp.Client, error) {
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	conn, err := d.Dial("tcp", r.addr)
	if err != nil {
		return nil, err
	}
	c, err := smtp.NewClient(conn, hostname)
	if err != nil {
		conn.Close()
		return nil, err
	}
	r.t.Cleanup(func() { c.Close() })
	if err := c.Hello("scanner.local"); err != nil {
		return nil, err
	}
	if err := c.StartTLS(r.tlsConfig()); err != nil {
		return nil, err
	}
	return c, nil
}

// rawTLS is a raw connection from from, after EHLO and STARTTLS.
func (r *rig) rawTLS(from string) *rawConn {
	r.t.Helper()
	c, err := r.raw(from)
	if err != nil {
		r.t.Fatal(err)
	}
	c.line(r.t)
	c.cmd(r.t, "EHLO junk")
	c.cmd(r.t, "STARTTLS")
	tc := tls.Client(c.Conn, r.tlsConfig())
	tr := &rawConn{Conn: tc, r: bufio.NewReader(tc)}
	tr.cmd(r.t, "EHLO junk")
	return tr
}

// plainResponse is AUTH PLAIN's initial response.
func plainResponse(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
}

// wrongPassword is a wrong password of the shape of a real one, without
// the real one's hint.
func wrongPassword(i int) string { return fmt.Sprintf("Zq%03d~%s", i, strings.Repeat("x", 34)) }

// Row 1: 1,000 idle connections from one address. Twenty are kept (the
// not-logged-in share of an address), the rest are told 421 4.7.0 and
// closed at once, and a device elsewhere sends as usual meanwhile.
func TestConnectionFloodFromOneAddress(t *testing.T) {
	r := newRig(t)
	var kept []*rawConn
	refused := 0
	for range 1000 {
		c, err := r.raw("127.0.0.3")
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		switch l := c.line(t); {
		case strings.HasPrefix(l, "220 "):
			kept = append(kept, c)
		case strings.HasPrefix(l, "421 4.7.0"):
			refused++
			if got := c.line(t); got != "EOF" {
				t.Fatalf("after 421 the connection stays open: %q", got)
			}
			c.Close()
		default:
			t.Fatalf("greeting %q", l)
		}
	}
	if len(kept) != 20 || refused != 980 {
		t.Errorf("1,000 connections from one address: %d kept, %d refused; want 20 and 980", len(kept), refused)
	}
	for _, c := range kept[:3] { // NOOP keeps nothing more alive than the share
		if got := c.cmd(t, "NOOP"); !strings.HasPrefix(got, "250") {
			t.Errorf("NOOP on a kept connection: %q", got)
		}
	}
	c, err := r.dialFrom("127.0.0.2")
	if err != nil {
		t.Fatalf("a device on another address during the flood: %v", err)
	}
	if err := c.Auth(smtp.PlainAuth("", "alice@contoso.test", r.password.SecretText, hostname)); err != nil {
		t.Fatalf("AUTH during the flood: %v", err)
	}
	if err := sendOn(c, "alice@contoso.test", []string{"bob@contoso.test"}, plainMessage("alice@contoso.test", "bob@contoso.test", "flood")); err != nil {
		t.Errorf("send during the flood: %v", err)
	}
	if st := r.gw.Stats().Connections; st.RefusedAddress != 980 {
		t.Errorf("limiter counted %d refusals by address, want 980", st.RefusedAddress)
	}
	// Closing the flood gives the address its share back.
	for _, k := range kept {
		k.Close()
	}
	eventually(t, 10*time.Second, "the address's share given back", func() bool { return r.gw.Stats().Connections.Open == 1 })
	if c, err := r.raw("127.0.0.3"); err != nil || !strings.HasPrefix(c.line(t), "220 ") {
		t.Errorf("a new connection from the flooding address after it stopped: %v", err)
	}
}

// sendOn sends one message on an authenticated client and keeps it open.
func sendOn(c *smtp.Client, from string, to []string, msg []byte) error {
	return testkit.MailTransaction(c, from, to, msg)
}

// In all: past MaxConnections, every address is refused alike.
func TestConnectionCapInAll(t *testing.T) {
	r := newRig(t, func(o *gateway.Options) { o.Limits.MaxConnections = 6; o.Limits.MaxPerAddress = 3 })
	got := map[string]int{}
	for _, from := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		for range 3 {
			c, err := r.raw(from)
			if err != nil {
				t.Fatal(err)
			}
			got[c.line(t)[:9]]++
		}
	}
	if got["220 smtp."] != 6 || got["421 4.7.0"] != 3 {
		t.Errorf("9 connections past a cap of 6: %v", got)
	}
}

// Before login a connection has little: a time per command and in all, a
// few commands and authentication attempts. After login: an idle limit,
// and per owner a number of sessions.
func TestSessionLimits(t *testing.T) {
	r := newRig(t, func(o *gateway.Options) {
		o.Limits = gateway.Limits{CommandTimeout: 300 * time.Millisecond, LoginTimeout: 1500 * time.Millisecond, MaxCommands: 20,
			MaxAuthAttempts: 3, IdleTimeout: 400 * time.Millisecond, MaxPerOwner: 2}
	})
	t.Run("idle before login", func(t *testing.T) {
		c, _ := r.raw("127.0.0.2")
		c.line(t)
		start := time.Now()
		if got := c.line(t); !strings.HasPrefix(got, "421") {
			t.Errorf("idle connection: %q, want 421", got)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("idle connection closed after %s", d)
		}
	})
	t.Run("busy before login, past the session limit", func(t *testing.T) {
		// Commands back to back, never idle for the command limit and
		// never capped by their number: only the time in all ends it.
		busy := newRig(t, func(o *gateway.Options) {
			o.Limits = gateway.Limits{CommandTimeout: 300 * time.Millisecond, LoginTimeout: 1500 * time.Millisecond, MaxCommands: 1 << 30, MaxAuthAttempts: 3}
		})
		c, _ := busy.raw("127.0.0.2")
		c.line(t)
		start := time.Now()
		got := "250"
		for strings.HasPrefix(got, "250") && time.Since(start) < 10*time.Second {
			got = c.cmd(t, "NOOP")
		}
		if d := time.Since(start); !strings.HasPrefix(got, "421 4.4.2") || d < time.Second {
			t.Errorf("NOOPs back to back: %q after %s, want a 421 4.4.2 once the 1.5 s login limit passed", got, d)
		}
	})
	t.Run("21 commands", func(t *testing.T) {
		c, _ := r.raw("127.0.0.3")
		c.line(t)
		var got string
		n := 0
		for got = "250"; strings.HasPrefix(got, "250") && n < 30; n++ {
			got = c.cmd(t, "NOOP")
		}
		if n != 21 || !strings.HasPrefix(got, "421 4.7.0") {
			t.Errorf("NOOPs: answer %d was %q, want the 21st to be 421 4.7.0", n, got)
		}
	})
	t.Run("fourth authentication attempt", func(t *testing.T) {
		tr := r.rawTLS("127.0.0.4")
		for i := range 3 {
			if got := tr.cmd(t, "AUTH PLAIN "+plainResponse("alice@contoso.test", wrongPassword(i))); !strings.HasPrefix(got, "535 5.7.8") {
				t.Fatalf("attempt %d: %q", i+1, got)
			}
		}
		if got := tr.cmd(t, "AUTH PLAIN "+plainResponse("alice@contoso.test", r.password.SecretText)); !strings.HasPrefix(got, "421 4.7.0") {
			t.Errorf("fourth attempt: %q, want 421 4.7.0", got)
		}
		if got := tr.line(t); got != "EOF" {
			t.Errorf("after the 421: %q, want the connection closed", got)
		}
	})
	t.Run("sessions per owner, idle after login", func(t *testing.T) {
		var cs []*smtp.Client
		for i := range 3 {
			c, err := r.dialFrom("127.0.0.5")
			if err != nil {
				t.Fatal(err)
			}
			err = c.Auth(smtp.PlainAuth("", "alice@contoso.test", r.password.SecretText, hostname))
			if want := map[bool]string{true: "250", false: "421 4.7.0"}[i < 2]; reply(err) != want {
				t.Errorf("login %d of an owner allowed 2: %s, want %s", i+1, reply(err), want)
			}
			cs = append(cs, c)
		}
		eventually(t, 5*time.Second, "idle sessions closed, giving their owner's places back", func() bool { return r.gw.Stats().Connections.Open == 0 })
		if err := cs[0].Noop(); err == nil {
			t.Error("a logged-in session idle past the idle limit still open")
		}
		c, err := r.dialFrom("127.0.0.5")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Auth(smtp.PlainAuth("", "alice@contoso.test", r.password.SecretText, hostname)); err != nil {
			t.Errorf("login after the idle sessions ended: %v", err)
		}
	})
}

// Row 4: 40 parallel wrong passwords for one person, across aliases and
// on two replicas: the attempts wait for each other's outcome, so Entra
// hears at most a handful of them.
func TestParallelGuessesAreBounded(t *testing.T) {
	one := newRig(t, func(o *gateway.Options) { o.Limits.MaxPerAddress = 100; o.Limits.MaxAuthAttempts = 100 })
	two := one.replica()
	if _, err := one.graph.FindMailbox(context.Background(), "bob@contoso.test"); err != nil {
		t.Fatal(err)
	}
	one.entra.ResetCalls()
	users := []string{"alice@contoso.test", "A.Smith@contoso.test", "ALICE@contoso.test"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	replies := map[string]int{}
	for i := range 40 {
		wg.Go(func() {
			r := []*rig{one, two}[i%2]
			c, err := r.dialFrom("127.0.0.6")
			if err != nil {
				t.Error(err)
				return
			}
			err = c.Auth(smtp.PlainAuth("", users[i%3], wrongPassword(i), hostname))
			mu.Lock()
			replies[reply(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	tokens := one.entra.Count(fakeentra.OpToken)
	t.Logf("40 parallel wrong passwords: %d token requests at Entra; answers %v", tokens, replies)
	if tokens > 8 {
		t.Errorf("40 parallel wrong passwords cost Entra %d token requests, want at most 8", tokens)
	}
	if replies["535 5.7.8"]+replies["454 4.7.0"] != 40 {
		t.Errorf("answers %v, want only 535 and 454", replies)
	}
	if n := one.alerts.count(); n != 1 {
		t.Errorf("helpdesk alerted %d times, want once", n)
	}
	if a := one.alerts.list[0]; a.OwnerID != one.alice.ID || a.UserName != "alice@contoso.test" {
		t.Errorf("alert names %q / %q, want Alice by her directory name", a.OwnerID, a.UserName)
	}
}

// Lockouts on two replicas share one alert quota: AlertBurst alerts per
// window from all of them, not from each.
func TestGuessingAlertsShareOneQuotaAcrossReplicas(t *testing.T) {
	one := newRig(t, func(o *gateway.Options) { o.MaxFailures = 1; o.AlertBurst = 2; o.Limits.MaxPerAddress = 100 })
	two := one.replica()
	var wg sync.WaitGroup
	for i, from := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"} {
		wg.Go(func() {
			c, err := []*rig{one, two}[i%2].dialFrom(from)
			if err != nil {
				t.Error(err)
				return
			}
			// One wrong password is a lockout of alice at that address.
			if err := c.Auth(smtp.PlainAuth("", "alice@contoso.test", wrongPassword(i), hostname)); reply(err) != "535 5.7.8" {
				t.Errorf("from %s: %v", from, err)
			}
		})
	}
	wg.Wait()
	if n := one.alerts.count(); n != 2 {
		t.Errorf("4 lockouts on 2 replicas alerted the helpdesk %d times, want 2 (AlertBurst of all replicas)", n)
	}
	if logs := one.logs.String(); strings.Count(logs, "too many failed logins") != 4 { // the replicas share the log
		t.Errorf("want each of the 4 lockouts logged:\n%s", logs)
	}
}

// Row 9: a device with a dead password after the owner's earlier
// failures gets 535, not a lock-out: a cached login from the owner's
// good device at the address clears the failures.
func TestCachedLoginClearsFailures(t *testing.T) {
	r := newRig(t)
	c, err := r.dialFrom("127.0.0.7")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", "alice@contoso.test", r.password.SecretText, hostname)); err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		for i := range 4 {
			c, err := r.dialFrom("127.0.0.7")
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Auth(smtp.PlainAuth("", "alice@contoso.test", wrongPassword(i), hostname)); reply(err) != "535 5.7.8" {
				t.Fatalf("round %d, dead password %d: %s, want 535 5.7.8", round+1, i+1, reply(err))
			}
		}
		c, err := r.dialFrom("127.0.0.7")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Auth(smtp.PlainAuth("", "alice@contoso.test", r.password.SecretText, hostname)); err != nil {
			t.Fatalf("round %d, the good device (cached): %v", round+1, err)
		}
	}
}

// Row 3: a password deleted in apppass while Entra's token service still
// honours it is refused at every replica within a poll, and ten minutes
// later, without asking Entra.
func TestRemovedPasswordRefusedWhatEverEntraSays(t *testing.T) {
	one := newRig(t)
	two := one.replica()
	one.entra.SetHonourRemovedSecrets(true)
	ctx := context.Background()
	for _, r := range []*rig{one, two} {
		if _, err := r.login("alice@contoso.test", r.password.SecretText); err != nil {
			t.Fatalf("before the removal: %v", err)
		}
	}
	removeInEntra(one)
	if err := one.db.CredentialRemoved(ctx, one.alice.ID, one.app.ID, domain.Password{KeyID: one.password.KeyID, Hint: one.password.Hint}); err != nil {
		t.Fatal(err)
	}
	one.entra.ResetCalls()
	one.clock.advance(6 * time.Second) // past a removal poll
	for i, r := range []*rig{one, two} {
		if _, err := r.login("alice@contoso.test", r.password.SecretText); reply(err) != "535 5.7.8" {
			t.Errorf("replica %d, 6 s after the removal (cached there): %s, want 535 5.7.8", i+1, reply(err))
		}
	}
	one.clock.advance(10 * time.Minute) // caches long gone
	for i, r := range []*rig{one, two} {
		if _, err := r.login("a.smith@contoso.test", r.password.SecretText); reply(err) != "535 5.7.8" {
			t.Errorf("replica %d, 10 min after the removal: %s, want 535 5.7.8", i+1, reply(err))
		}
	}
	if n := one.entra.Count(fakeentra.OpToken); n != 0 {
		t.Errorf("a removed password cost Entra %d token requests, want 0", n)
	}
	// Entra still takes it: the gateway's refusal is all that stands.
	if err := one.graph.VerifyPassword(ctx, one.app.AppID, domain.NewSecret(one.password.SecretText)); err != nil {
		t.Errorf("the fake no longer honours the removed secret: %v", err)
	}
	// Not counted as guessing: the owner's other devices at the address
	// are not locked out by a dead one.
	for range 6 {
		one.login("alice@contoso.test", one.password.SecretText)
	}
	fresh := one.entra.AddSecret(one.app.ID, "new scanner", time.Time{})
	if fresh.Hint == one.password.Hint {
		t.Skip("the new password happens to share the removed one's hint")
	}
	if _, err := one.login("alice@contoso.test", fresh.SecretText); err != nil {
		t.Errorf("another password after 6 dead-password attempts: %s, want 235", reply(err))
	}
}

// Rows 2 and 5: junk user names (no '@', binary, a password typed in the
// user-name box, 2 KB) are neither logged, stored nor posted, and 10,000
// of them grow the database by less than 1 MB.
func TestJunkNamesAreNotWrittenDown(t *testing.T) {
	r := newRig(t, func(o *gateway.Options) { o.Limits.MaxAuthAttempts = 1 << 20; o.Limits.MaxCommands = 1 << 20 })
	before := dbSize(t, r.dsn)
	typedPassword := r.password.SecretText
	junk := []string{typedPassword, "scanner", "\x00\x01\xfe binary", strings.Repeat("J", 700), "two@at@signs", "@contoso.test"}
	var wg sync.WaitGroup
	for w, from := range []string{"127.0.0.8", "127.0.0.9", "127.0.0.10", "127.0.0.11"} {
		wg.Go(func() {
			tr := r.rawTLS(from)
			for i := range 2500 {
				name := junk[(i+w)%len(junk)] + fmt.Sprint(i%7)
				if got := tr.cmd(t, "AUTH PLAIN "+plainResponse(name, "whatever-password")); !strings.HasPrefix(got, "535") && !strings.HasPrefix(got, "454") && !strings.HasPrefix(got, "500") {
					t.Errorf("junk attempt %d from %s: %q", i, from, got)
					return
				}
			}
		})
	}
	wg.Wait()
	growth := dbSize(t, r.dsn) - before
	t.Logf("10,000 junk attempts grew the database by %d bytes", growth)
	if growth >= 1<<20 {
		t.Errorf("10,000 junk attempts grew the database by %d bytes, want < 1 MB", growth)
	}
	logs := r.logs.String()
	db := dbBytes(t, r.dsn)
	for _, s := range []string{typedPassword, "scanner", strings.Repeat("J", 50), "two@at@signs"} {
		if strings.Contains(logs, s) || strings.Contains(r.trace.String(), s) {
			t.Errorf("%.20q… is in the logs", s)
		}
		if strings.Contains(db, s) || strings.Contains(strings.ToLower(db), strings.ToLower(s)) {
			t.Errorf("%.20q… is in the database", s)
		}
	}
	for _, a := range r.alerts.list {
		if a.UserName != "" {
			t.Errorf("an alert for junk names names %q", a.UserName)
		}
	}
	// An unknown but address-shaped name is stored only as a keyed hash.
	r.login("nobody.known@contoso.test", "whatever")
	if db := dbBytes(t, r.dsn); strings.Contains(db, "nobody.known") {
		t.Error("an unknown user name is in the database as typed")
	}
}

// dbSize is the SQLite database's size with its write-ahead log.
func dbSize(t testing.TB, path string) int64 {
	t.Helper()
	var n int64
	for _, f := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(f); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// dbBytes is the database's files' content.
func dbBytes(t testing.TB, path string) string {
	t.Helper()
	var b strings.Builder
	for _, f := range []string{path, path + "-wal"} {
		if c, err := os.ReadFile(f); err == nil {
			b.Write(c)
		}
	}
	return b.String()
}

// Rows 6 and 7: forged and doubled headers, control characters in the
// envelope, and header recipients the envelope does not name.
func TestHeaderRules(t *testing.T) {
	r := newRig(t)
	pw := r.password.SecretText
	hdr := func(lines ...string) []byte {
		return []byte(strings.Join(lines, "\r\n") + "\r\nSubject: t\r\n\r\nbody\r\n")
	}
	many := make([]string, 2000)
	for i := range many {
		many[i] = fmt.Sprintf("r%04d@example.test", i)
	}
	tests := []struct {
		name string
		to   []string
		msg  []byte
		want string
	}{
		{"two From headers", []string{"bob@contoso.test"}, hdr("From: alice@contoso.test", "From: adam@contoso.test", "To: bob@contoso.test"), "550 5.6.0"},
		{"no From", []string{"bob@contoso.test"}, hdr("To: bob@contoso.test"), "550 5.6.0"},
		{"two Sender headers", []string{"bob@contoso.test"}, hdr("From: alice@contoso.test", "Sender: alice@contoso.test", "Sender: a.smith@contoso.test", "To: bob@contoso.test"), "550 5.6.0"},
		{"someone else's Sender", []string{"bob@contoso.test"}, hdr("From: alice@contoso.test", "Sender: bob@contoso.test", "To: bob@contoso.test"), "550 5.7.1"},
		{"someone else's Resent-From", []string{"bob@contoso.test"}, hdr("From: alice@contoso.test", "Resent-From: bob@contoso.test", "To: bob@contoso.test"), "550 5.7.1"},
		{"someone else's Resent-Sender", []string{"bob@contoso.test"}, hdr("From: alice@contoso.test", "Resent-Sender: <ceo@contoso.test>", "To: bob@contoso.test"), "550 5.7.1"},
		{"2,000 folded To with 1 RCPT", []string{"bob@contoso.test"}, hdr("From: alice@contoso.test", "To: bob@contoso.test,\r\n "+strings.Join(many, ",\r\n ")), "550 5.5.3"},
		{"a header recipient not in the envelope", []string{"bob@contoso.test"}, hdr("From: alice@contoso.test", "To: bob@contoso.test", "Cc: carol@example.test"), "550 5.7.1"},
		{"the owner's own headers", []string{"bob@contoso.test", "hidden@example.test"}, hdr("From: Alice <alice@contoso.test>", "Sender: a.smith@contoso.test", "Resent-From: alice@contoso.test", "To: bob@contoso.test", "Reply-To: helpdesk@contoso.test"), "250"},
	}
	r.entra.ResetCalls()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reply(r.send("alice@contoso.test", pw, "alice@contoso.test", tt.to, tt.msg)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	if n := r.entra.Count(fakeentra.OpSendMail); n != 1 {
		t.Errorf("Graph's sendMail called %d times, want once (the good message)", n)
	}
	t.Run("CR in RCPT TO", func(t *testing.T) {
		c, err := r.login("alice@contoso.test", pw)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Mail("alice@contoso.test"); err != nil {
			t.Fatal(err)
		}
		// net/smtp refuses to send a CR; write the command as an attacker
		// would, through the client's text connection.
		id, err := c.Text.Cmd("RCPT TO:<x@example.test\rX-Injected:1>")
		if err != nil {
			t.Fatal(err)
		}
		c.Text.StartResponse(id)
		code, msg, _ := c.Text.ReadResponse(0)
		c.Text.EndResponse(id)
		if code != 501 || !strings.HasPrefix(msg, "5.1.3") {
			t.Errorf("RCPT with a CR: %d %s, want 501 5.1.3", code, msg)
		}
	})
}

// Row 8: message bodies in flight are bounded per owner and in all.
func TestMemoryBounds(t *testing.T) {
	r := newRig(t, func(o *gateway.Options) { o.MaxMemory = 3 << 20; o.MaxMessagesPerOwner = 2 })
	pw := r.password.SecretText
	head := "From: alice@contoso.test\r\nTo: bob@contoso.test\r\nSubject: big\r\n\r\n"
	line := strings.Repeat("A", 998) + "\r\n"
	// open starts a message and writes n bytes of its body, leaving it
	// in flight.
	open := func(n int) io.WriteCloser {
		c, err := r.login("alice@contoso.test", pw)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Mail("alice@contoso.test"); err != nil {
			t.Fatal(err)
		}
		if err := c.Rcpt("bob@contoso.test"); err != nil {
			t.Fatal(err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, head)
		for range n / len(line) {
			io.WriteString(w, line)
		}
		return w
	}
	first := open(2 << 20)
	// What the sockets still buffer is not held yet: wait for most of it.
	eventually(t, 10*time.Second, "most of the first message held", func() bool { return r.gw.Stats().MemoryInUse >= 3<<19 })
	second := open(1 << 19)
	eventually(t, 10*time.Second, "two messages held", func() bool { return r.gw.Stats().MemoryInUse >= 3<<19+1<<18 })
	// A third message of the owner: 451 however small.
	if err := r.send("alice@contoso.test", pw, "alice@contoso.test", []string{"bob@contoso.test"}, plainMessage("alice@contoso.test", "bob@contoso.test", "third")); reply(err) != "451 4.3.0" {
		t.Errorf("a third message in flight for one owner: %s, want 451 4.3.0", reply(err))
	}
	// Past the budget in all: the second message's next megabytes.
	for range (1 << 20) / len(line) {
		io.WriteString(second, line)
	}
	if err := second.Close(); reply(err) != "451 4.3.0" {
		t.Errorf("a message past the memory budget: %s, want 451 4.3.0", reply(err))
	}
	if err := first.Close(); err != nil {
		t.Errorf("the first message: %v", err)
	}
	if st := r.gw.Stats(); st.MemoryInUse != 0 || st.MemoryPeak > 3<<20 {
		t.Errorf("memory after: %d in use, peak %d; want 0 and at most 3 MiB", st.MemoryInUse, st.MemoryPeak)
	}
}

// TLS 1.2 offers AEAD suites only.
func TestTLSSuites(t *testing.T) {
	r := newRig(t)
	cbc := r.tlsConfig()
	cbc.MaxVersion = tls.VersionTLS12
	cbc.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256}
	if c, err := tls.Dial("tcp", r.tlsAddr, cbc); err == nil {
		t.Errorf("TLS 1.2 with CBC suites only: %s accepted", tls.CipherSuiteName(c.ConnectionState().CipherSuite))
		c.Close()
	}
	gcm := r.tlsConfig()
	gcm.MaxVersion = tls.VersionTLS12
	c, err := tls.Dial("tcp", r.tlsAddr, gcm)
	if err != nil {
		t.Fatalf("TLS 1.2: %v", err)
	}
	defer c.Close()
	if s := tls.CipherSuiteName(c.ConnectionState().CipherSuite); !strings.Contains(s, "GCM") && !strings.Contains(s, "CHACHA20") {
		t.Errorf("TLS 1.2 suite %s", s)
	}
}

// Equal answers: an unknown user, a user without an application and a
// wrong password all wait for the failure floor, measured on the
// injected clock, before their 535.
func TestRefusalsWaitForTheFloor(t *testing.T) {
	var mu sync.Mutex
	var waits []time.Duration
	r := newRig(t, func(o *gateway.Options) {
		o.FailureFloor = 2 * time.Second
		o.Sleep = func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			waits = append(waits, d)
			mu.Unlock()
			return nil
		}
	})
	noApp := fakeentra.User{ID: "c0000000-0000-4000-8000-0000000000c0", UserPrincipalName: "carol@contoso.test", Mail: "carol@contoso.test", AccountEnabled: true}
	r.entra.AddUser(noApp)
	for _, u := range []struct{ user, pw string }{{"nobody@contoso.test", "x"}, {"carol@contoso.test", "x"}, {"alice@contoso.test", wrongPassword(1)}} {
		mu.Lock()
		waits = nil
		mu.Unlock()
		if _, err := r.login(u.user, u.pw); reply(err) != "535 5.7.8" {
			t.Fatalf("%s: %s", u.user, reply(err))
		}
		mu.Lock()
		if len(waits) != 1 || waits[0] != 2*time.Second { // the clock stood still: all of the floor
			t.Errorf("%s waited %v before 535, want the 2 s floor once", u.user, waits)
		}
		mu.Unlock()
	}
}
