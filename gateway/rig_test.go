package gateway_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/smtp"
	"net/textproto"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/config"
	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/gateway"
	"github.com/apppass/apppass/graphclient"
	"github.com/apppass/apppass/internal/testkit"
	"github.com/apppass/apppass/store"
)

const hostname = "smtp.contoso.test"

// clock is the gateway's injected clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// alerts records guessing alerts.
type alerts struct {
	mu   sync.Mutex
	list []gateway.GuessingAlert
}

func (a *alerts) AlertGuessing(_ context.Context, x gateway.GuessingAlert) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.list = append(a.list, x)
	return nil
}

func (a *alerts) count() int { a.mu.Lock(); defer a.mu.Unlock(); return len(a.list) }

// rig is a real gateway, over TLS, with the real graphclient against
// fakeentra and a real SQLite store, and one employee, Alice, holding one
// app password.
type rig struct {
	t        testing.TB
	dsn      string
	opts     []rigOption
	entra    *fakeentra.Server
	db       *store.DB
	graph    *graphclient.Client
	gw       *gateway.Gateway
	clock    *clock
	alerts   *alerts
	logs     *syncBuffer
	trace    *syncBuffer
	pool     *x509.CertPool
	certDir  string
	certFile string
	keyFile  string
	addr     string // STARTTLS listener
	tlsAddr  string // implicit-TLS listener

	read readRig // the IMAP and POP3 side (read_rig_test.go)

	alice    fakeentra.User
	app      fakeentra.Application
	password fakeentra.Credential

	upstream gateway.Upstream // nil: Graph (upstream_e2e_test.go)
}

type rigOption func(*gateway.Options)

func newRig(t testing.TB, opts ...rigOption) *rig {
	t.Helper()
	return newRigOn(t, filepath.Join(t.TempDir(), "apppass.db"), opts...)
}

// newRigOn is newRig with its store at dsn (a SQLite file or a PostgreSQL
// URL), which replica opens again.
func newRigOn(t testing.TB, dsn string, opts ...rigOption) *rig {
	t.Helper()
	r := &rig{t: t, dsn: dsn, entra: fakeentra.New(t), clock: &clock{t: time.Now()}, alerts: &alerts{}, logs: &syncBuffer{}, trace: &syncBuffer{}, opts: opts}
	r.db = r.openStore()
	var err error
	r.graph, err = graphclient.New(graphclient.Options{
		TenantID: fakeentra.TenantID, ClientID: fakeentra.ClientID, ClientSecret: domain.NewSecret(fakeentra.ClientSecret),
		AuthorityHost: r.entra.AuthorityHost(), GraphBaseURL: r.entra.GraphBaseURL(), AppNamePrefix: "App passwords – ",
		Transport: r.entra.Client().Transport,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.alice = fakeentra.User{ID: "a11ce000-0000-4000-8000-0000000000a1", DisplayName: "Alice", UserPrincipalName: "alice@contoso.test",
		Mail: "alice@contoso.test", AccountEnabled: true, ProxyAddresses: []string{"SMTP:alice@contoso.test", "smtp:a.smith@contoso.test"}}
	r.entra.AddUser(r.alice)
	r.entra.AddUser(fakeentra.User{ID: "b0b00000-0000-4000-8000-0000000000b0", UserPrincipalName: "bob@contoso.test", Mail: "bob@contoso.test", AccountEnabled: true})
	r.app = r.entra.AddEmployeeApp(r.alice.ID, true)
	if err := r.db.SaveApplication(context.Background(), domain.Application{OwnerID: r.alice.ID, ObjectID: r.app.ID, AppID: r.app.AppID}); err != nil {
		t.Fatal(err)
	}
	// Made an hour ago: past the replication window, where a wrong
	// password is a plain 535 even when it starts with the hint.
	hourAgo := time.Now().Add(-time.Hour)
	r.entra.SetNow(func() time.Time { return hourAgo })
	r.password = r.entra.AddSecret(r.app.ID, "scanner", time.Time{})
	r.entra.SetNow(nil)

	r.certDir, r.pool = t.TempDir(), x509.NewCertPool()
	r.writeCert(1)
	r.startExchange()
	r.serve()
	return r
}

// openStore opens the rig's database once more, as another process would.
func (r *rig) openStore() *store.DB {
	r.t.Helper()
	db, err := store.Open(context.Background(), r.dsn)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { db.Close() })
	return db
}

// serve starts a gateway on r.db, with r's options, and sets r.gw and its
// listeners' addresses.
func (r *rig) serve() {
	r.t.Helper()
	o := gateway.Options{
		Hostname: hostname, CertFile: r.certFile, KeyFile: r.keyFile, Now: r.clock.now, CertCheck: time.Nanosecond,
		// The size limit apppass runs with unless told otherwise.
		MaxBytes: config.DefaultSMTPMaxBytes,
		// Refusals answer at once unless a test is about their timing.
		FailureFloor: time.Nanosecond,
		Logger:       slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Debug: r.trace,
	}
	r.readOptions(&o)
	for _, f := range r.opts {
		f(&o)
	}
	var err error
	r.gw, err = gateway.New(o, gateway.Deps{
		Mailboxes: r.graph, Applications: r.graph, Verifier: r.graph, Sender: r.graph, Upstream: r.upstream, Records: r.db, Failures: r.db, Alerter: r.alerts,
		Scopes: r.db, ExchangeTokens: r.read.exchangeTokenSource(), ReadingAlerter: r.read.alerts, AlertClaims: r.db,
	})
	if err != nil {
		r.t.Fatal(err)
	}
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		r.t.Fatal(err)
	}
	implicit, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		r.t.Fatal(err)
	}
	r.addr, r.tlsAddr = plain.Addr().String(), implicit.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	gw := r.gw
	go func() { done <- gw.Serve(ctx, plain, implicit) }()
	r.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			r.t.Errorf("Serve: %v", err)
		}
	})
	r.serveRead(ctx)
}

// replica is a second gateway process beside r's: its own gateway and
// its own handle on r's database, sharing r's Entra, clock, certificate,
// logs and helpdesk alerts.
func (r *rig) replica() *rig {
	r.t.Helper()
	c := *r
	c.db = c.openStore()
	c.serve()
	return &c
}

// writeCert writes a new self-signed certificate for hostname with the
// given serial and trusts it.
func (r *rig) writeCert(serial int64) {
	r.t.Helper()
	var c *x509.Certificate
	r.certFile, r.keyFile, c = testkit.WriteCert(r.t, r.certDir, testkit.Cert{Host: hostname, Serial: serial,
		IPs: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("127.0.0.2")}})
	r.pool.AddCert(c)
}

func (r *rig) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: hostname, RootCAs: r.pool, MinVersion: tls.VersionTLS12}
}

// dial connects to the STARTTLS listener from local address from ("" for
// any), says EHLO and upgrades to TLS.
func (r *rig) dial(from string) *smtp.Client {
	r.t.Helper()
	d := net.Dialer{Timeout: 10 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	conn, err := d.Dial("tcp", r.addr)
	if err != nil {
		r.t.Fatal(err)
	}
	c, err := smtp.NewClient(conn, hostname)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { c.Close() })
	if err := c.Hello("scanner.local"); err != nil {
		r.t.Fatal(err)
	}
	if err := c.StartTLS(r.tlsConfig()); err != nil {
		r.t.Fatal(err)
	}
	return c
}

// login dials and authenticates with PLAIN, returning the client and the
// outcome.
func (r *rig) login(user, password string) (*smtp.Client, error) {
	r.t.Helper()
	c := r.dial("")
	return c, c.Auth(smtp.PlainAuth("", user, password, hostname))
}

// send delivers msg in a new authenticated session.
func (r *rig) send(user, password, from string, to []string, msg []byte) error {
	r.t.Helper()
	c, err := r.login(user, password)
	if err != nil {
		return err
	}
	return testkit.SendMail(c, from, to, msg)
}

// reply is an SMTP reply's code and enhanced status code, "250" for
// success and "none" for a non-protocol failure.
func reply(err error) string {
	if err == nil {
		return "250"
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		enh, _, _ := strings.Cut(te.Msg, " ")
		return fmt.Sprintf("%d %s", te.Code, enh)
	}
	return "none: " + err.Error()
}

// plainMessage is a small message from Alice with CRLF line ends.
func plainMessage(from, to, subject string) []byte {
	return []byte("From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\nMessage-ID: <" + subject + "@scanner.local>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello from the scanner.\r\n")
}

// pdfMessage is a scan-to-email message with a PDF attachment of n random
// bytes; it returns the message and the PDF.
func pdfMessage(n int) ([]byte, []byte) {
	pdf := make([]byte, n)
	rand.Read(pdf)
	copy(pdf, "%PDF-1.7\n")
	enc := make([]byte, 0, n*4/3+n/38+16)
	b64 := []byte(base64.StdEncoding.EncodeToString(pdf))
	for i := 0; i < len(b64); i += 76 {
		enc = append(enc, b64[i:min(i+76, len(b64))]...)
		enc = append(enc, '\r', '\n')
	}
	var b bytes.Buffer
	b.WriteString("From: Alice <alice@contoso.test>\r\nTo: bob@contoso.test\r\nSubject: Scan\r\nMessage-ID: <scan-20@scanner.local>\r\n")
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"----=_scan\"\r\n\r\n")
	b.WriteString("------=_scan\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nScanned document attached.\r\n")
	b.WriteString("------=_scan\r\nContent-Type: application/pdf; name=\"scan.pdf\"\r\nContent-Disposition: attachment; filename=\"scan.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	b.Write(enc)
	b.WriteString("------=_scan--\r\n")
	return b.Bytes(), pdf
}

// graphToken gets apppass's own Graph token from the fake, for test calls
// made behind apppass's back.
func graphToken(r *rig) string {
	r.t.Helper()
	form := "grant_type=client_credentials&client_id=" + fakeentra.ClientID + "&client_secret=" + fakeentra.ClientSecret +
		"&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
	resp, err := r.entra.Client().Post(r.entra.URL()+"/"+fakeentra.TenantID+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.AccessToken == "" {
		r.t.Fatalf("token: %v", err)
	}
	return v.AccessToken
}

// newJSONRequest builds an authenticated POST with a JSON body.
func newJSONRequest(url, token, body string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}
