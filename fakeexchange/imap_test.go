package fakeexchange_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeexchange"
	"github.com/apppass/apppass/internal/testkit"
)

const appID = "a9900000-0000-4000-8000-000000000001"

// fake is a running Store with IMAPS and POP3S listeners.
type fake struct {
	t         *testing.T
	store     *fakeexchange.Store
	imapAddr  string
	pop3Addr  string
	clientTLS *tls.Config
}

func startFake(t *testing.T) *fake {
	t.Helper()
	return startFakeWith(t, fakeexchange.StoreOptions{}, appID)
}

// startFakeWith is startFake with opts (its TLS set here), Alice's
// mailbox granting FullAccess to apps.
func startFakeWith(t *testing.T, opts fakeexchange.StoreOptions, apps ...string) *fake {
	t.Helper()
	certFile, keyFile, cert := testkit.WriteCert(t, t.TempDir(), testkit.Cert{Host: "outlook.office365.test", IPs: []net.IP{net.ParseIP("127.0.0.1")}})
	kp, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	srvTLS := &tls.Config{Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS12}
	opts.TLS = srvTLS
	s := fakeexchange.NewStore(opts)
	t.Cleanup(func() { s.Close() })
	imapLn, err := tls.Listen("tcp", "127.0.0.1:0", srvTLS)
	if err != nil {
		t.Fatal(err)
	}
	popLn, err := tls.Listen("tcp", "127.0.0.1:0", srvTLS)
	if err != nil {
		t.Fatal(err)
	}
	go s.ServeIMAP(imapLn)
	go s.ServePOP3(popLn)
	s.AddMailbox("alice@contoso.test", apps...)
	return &fake{t: t, store: s, imapAddr: imapLn.Addr().String(), pop3Addr: popLn.Addr().String(),
		clientTLS: &tls.Config{RootCAs: pool, ServerName: "outlook.office365.test"}}
}

// token mints a JWT-shaped token with the given claims, as fakeentra does.
func token(aud string, roles []string, exp time.Time) string {
	enc := base64.RawURLEncoding
	claims, _ := json.Marshal(map[string]any{"aud": aud, "appid": appID, "roles": roles, "exp": exp.Unix()})
	return enc.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + enc.EncodeToString(claims) + ".c2ln"
}

func xoauth2(user, tok string) string {
	return base64.StdEncoding.EncodeToString([]byte("user=" + user + "\x01auth=Bearer " + tok + "\x01\x01"))
}

// conn is a line-oriented client.
type conn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func (f *fake) dial(addr string) *conn {
	f.t.Helper()
	c, err := tls.Dial("tcp", addr, f.clientTLS)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	cn := &conn{t: f.t, c: c, r: bufio.NewReader(c)}
	cn.line() // greeting
	return cn
}

func (c *conn) line() string {
	c.t.Helper()
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("reading: %v (so far %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

// cmd sends line and returns the answer lines up to the one starting
// with until.
func (c *conn) cmd(line, until string) []string {
	c.t.Helper()
	fmt.Fprintf(c.c, "%s\r\n", line)
	return c.until(until)
}

func (c *conn) until(prefix string) []string {
	c.t.Helper()
	var out []string
	for {
		l := c.line()
		out = append(out, l)
		if strings.HasPrefix(l, prefix) && (prefix != "." || l == ".") {
			return out
		}
	}
}

func last(lines []string) string { return lines[len(lines)-1] }

var imapRoles = []string{fakeexchange.RoleIMAP, fakeexchange.RolePOP}

func TestIMAPLoginAndRead(t *testing.T) {
	f := startFake(t)
	msg := "From: bob@contoso.test\r\nSubject: hi\r\n\r\nHello.\r\n"
	if _, err := f.store.Deliver("alice@contoso.test", []byte(msg)); err != nil {
		t.Fatal(err)
	}
	c := f.dial(f.imapAddr)
	caps := c.cmd("a CAPABILITY", "a ")
	for _, want := range []string{"AUTH=XOAUTH2", "SASL-IR", "IMAP4rev1"} {
		if !strings.Contains(caps[0], want) {
			t.Errorf("capabilities %q lack %s", caps[0], want)
		}
	}
	if got := last(c.cmd("b LOGIN alice@contoso.test secret", "b ")); got != "b NO LOGIN failed." {
		t.Errorf("LOGIN: %q", got)
	}
	tok := token(fakeexchange.DefaultAudience, imapRoles, time.Now().Add(time.Hour))
	if got := last(c.cmd("c AUTHENTICATE XOAUTH2 "+xoauth2("alice@contoso.test", tok), "c ")); !strings.HasPrefix(got, "c OK") {
		t.Fatalf("AUTHENTICATE: %q", got)
	}
	c.cmd("d SELECT INBOX", "d OK")
	got := strings.Join(c.cmd("e UID FETCH 1 (BODY.PEEK[])", "e OK"), "\r\n")
	if !strings.Contains(got, msg) {
		t.Errorf("fetch: %q", got)
	}
	f.store.ExpireTokens()
	if got := c.line(); got != "* BYE "+fakeexchange.ByeTokenExpired {
		t.Errorf("after expiry: %q", got)
	}
}

func TestIMAPRefusals(t *testing.T) {
	f := startFake(t)
	f.store.AddMailbox("nogrant@contoso.test")
	f.store.AddMailbox("off@contoso.test", appID)
	f.store.SetIMAPEnabled("off@contoso.test", false)
	good := token(fakeexchange.DefaultAudience, imapRoles, time.Now().Add(time.Hour))
	for name, tc := range map[string]struct{ user, tok, reason string }{
		"wrong audience": {"alice@contoso.test", token("https://graph.microsoft.com", imapRoles, time.Now().Add(time.Hour)), fakeexchange.RefusedAudience},
		"no role":        {"alice@contoso.test", token(fakeexchange.DefaultAudience, []string{fakeexchange.RolePOP}, time.Now().Add(time.Hour)), fakeexchange.RefusedRole},
		"expired":        {"alice@contoso.test", token(fakeexchange.DefaultAudience, imapRoles, time.Now().Add(-time.Minute)), fakeexchange.RefusedExpired},
		"imap disabled":  {"off@contoso.test", good, fakeexchange.RefusedDisabled},
		"no mailbox":     {"nobody@contoso.test", good, fakeexchange.RefusedNoMailbox},
	} {
		t.Run(name, func(t *testing.T) {
			c := f.dial(f.imapAddr)
			if got := last(c.cmd("a AUTHENTICATE XOAUTH2 "+xoauth2(tc.user, tc.tok), "a ")); got != "a NO AUTHENTICATE failed." {
				t.Errorf("answer %q", got)
			}
			rs := f.store.Refusals()
			if r := rs[len(rs)-1]; r.Reason != tc.reason {
				t.Errorf("reason %q, want %q", r.Reason, tc.reason)
			}
		})
	}
	t.Run("no FullAccess", func(t *testing.T) {
		c := f.dial(f.imapAddr)
		if got := last(c.cmd("a AUTHENTICATE XOAUTH2 "+xoauth2("nogrant@contoso.test", good), "a ")); !strings.HasPrefix(got, "a OK") {
			t.Fatalf("answer %q", got)
		}
		if got := last(c.cmd("b SELECT INBOX", "b ")); got != "b BAD User is authenticated but not connected." {
			t.Errorf("SELECT: %q", got)
		}
	})
}

func TestIMAPSessionLimit(t *testing.T) {
	f := startFake(t)
	tok := token(fakeexchange.DefaultAudience, imapRoles, time.Now().Add(time.Hour))
	for i := range 20 {
		c := f.dial(f.imapAddr)
		if got := last(c.cmd("a AUTHENTICATE XOAUTH2 "+xoauth2("alice@contoso.test", tok), "a ")); !strings.HasPrefix(got, "a OK") {
			t.Fatalf("session %d: %q", i+1, got)
		}
	}
	c := f.dial(f.imapAddr)
	if got := last(c.cmd("a AUTHENTICATE XOAUTH2 "+xoauth2("alice@contoso.test", tok), "a ")); got != "a NO AUTHENTICATE failed." {
		t.Errorf("21st session: %q", got)
	}
	if n, _ := f.store.Sessions("alice@contoso.test"); n != 20 {
		t.Errorf("sessions = %d", n)
	}
}

func TestPOP3(t *testing.T) {
	f := startFake(t)
	for i := range 3 {
		if _, err := f.store.Deliver("alice@contoso.test", []byte(fmt.Sprintf("Subject: %d\r\n\r\n.dot line\r\nbody %d\r\n", i, i))); err != nil {
			t.Fatal(err)
		}
	}
	c := f.dial(f.pop3Addr)
	if got := c.cmd("CAPA", "."); !strings.Contains(strings.Join(got, " "), "SASL PLAIN XOAUTH2") {
		t.Errorf("CAPA: %q", got)
	}
	c.cmd("USER alice@contoso.test", "+OK")
	if got := c.cmd("PASS secret", "-ERR"); got[0] != "-ERR Logon failure: unknown user name or bad password." {
		t.Errorf("PASS: %q", got)
	}
	if got := c.cmd("AUTH XOAUTH2", "+"); got[0] != "+ " {
		t.Fatalf("AUTH: %q", got)
	}
	tok := token(fakeexchange.DefaultAudience, imapRoles, time.Now().Add(time.Hour))
	if got := c.cmd(xoauth2("alice@contoso.test", tok), ""); got[0] != "+OK User successfully authenticated." {
		t.Fatalf("AUTH: %q", got)
	}
	if got := c.cmd("STAT", ""); !strings.HasPrefix(got[0], "+OK 3 ") {
		t.Errorf("STAT: %q", got)
	}
	uidl := c.cmd("UIDL", ".")
	if len(uidl) != 5 {
		t.Errorf("UIDL: %q", uidl)
	}
	if got := strings.Join(c.cmd("RETR 2", "."), "\n"); !strings.Contains(got, "\n..dot line\nbody 1") {
		t.Errorf("RETR: %q", got)
	}
	c.cmd("DELE 1", "+OK")
	c.cmd("QUIT", "+OK")
	msgs, err := f.store.Messages(context.Background(), "alice@contoso.test")
	if err != nil || len(msgs) != 2 || msgs[0].UID != 2 {
		t.Errorf("after DELE: %d messages, %v", len(msgs), err)
	}
	c2 := f.dial(f.pop3Addr)
	c2.cmd("AUTH XOAUTH2 "+xoauth2("alice@contoso.test", tok), "+OK")
	if got := c2.cmd("UIDL", "."); got[1] != "1 "+strings.Fields(uidl[2])[1] {
		t.Errorf("UIDL after DELE: %q, before %q", got, uidl)
	}
}

// With IssuedBy, the store takes only the tokens the fake Entra issued and
// has not revoked, refusing the others as Exchange refuses any bad token;
// a token issued after a revocation works.
func TestRevokedTokensRefusedOnIMAPAndPOP3(t *testing.T) {
	entra := fakeentra.New(t)
	f := startFakeWith(t, fakeexchange.StoreOptions{ReadToken: fakeexchange.IssuedBy(entra)}, fakeentra.ClientID)
	login := func(tok string) (imap, pop3 string) {
		c := f.dial(f.imapAddr)
		imap = last(c.cmd("a AUTHENTICATE XOAUTH2 "+xoauth2("alice@contoso.test", tok), "a "))
		p := f.dial(f.pop3Addr)
		p.cmd("AUTH XOAUTH2", "+")
		pop3 = last(p.cmd(xoauth2("alice@contoso.test", tok), ""))
		return imap, pop3
	}
	old := appToken(t, entra, fakeexchange.DefaultAudience)
	if imap, pop3 := login(old); !strings.HasPrefix(imap, "a OK") || !strings.HasPrefix(pop3, "+OK") {
		t.Fatalf("before the revocation: %q, %q", imap, pop3)
	}
	// A token of the right shape that Entra never issued.
	forged := token(fakeexchange.DefaultAudience, imapRoles, time.Now().Add(time.Hour))
	if imap, pop3 := login(forged); imap != "a NO AUTHENTICATE failed." || !strings.HasPrefix(pop3, "-ERR Authentication failure") {
		t.Errorf("forged token: %q, %q", imap, pop3)
	}
	if n := entra.RevokeTokens(fakeexchange.DefaultAudience); n != 1 {
		t.Fatalf("%d tokens revoked, want 1", n)
	}
	if imap, pop3 := login(old); imap != "a NO AUTHENTICATE failed." || !strings.HasPrefix(pop3, "-ERR Authentication failure") {
		t.Errorf("revoked token: %q, %q", imap, pop3)
	}
	revoked := 0
	for _, r := range f.store.Refusals() {
		if r.Reason == fakeexchange.RefusedRevoked {
			revoked++
		}
	}
	if revoked != 2 {
		t.Errorf("%d refusals as revoked, want 2 (IMAP, POP3): %+v", revoked, f.store.Refusals())
	}
	if imap, pop3 := login(appToken(t, entra, fakeexchange.DefaultAudience)); !strings.HasPrefix(imap, "a OK") || !strings.HasPrefix(pop3, "+OK") {
		t.Errorf("a token issued after the revocation: %q, %q", imap, pop3)
	}
}
