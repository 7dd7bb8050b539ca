package app_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/app"

	"github.com/apppass/apppass/config"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/internal/testkit"
)

const smtpHost = "localhost"

// withGateway turns the mail gateway on, on a loopback port, with a
// certificate made for the test, and returns the pool that trusts it.
func (h *harness) withGateway() *x509.CertPool {
	h.T.Helper()
	certFile, keyFile, cert := testkit.WriteCert(h.T, h.T.TempDir(), testkit.Cert{Host: smtpHost, IPs: []net.IP{net.ParseIP("127.0.0.1")}})
	h.Env["APPPASS_SMTP_ADDR"] = "127.0.0.1:0"
	h.Env["APPPASS_SMTPS_ADDR"] = "localhost:0" // another spelling of loopback: the two must differ
	h.Env["APPPASS_SMTP_TLS_CERT"] = certFile
	h.Env["APPPASS_SMTP_TLS_KEY"] = keyFile
	h.Env["APPPASS_SMTP_HOSTNAME"] = smtpHost
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// sendMail sends msg from from to to through the gateway at addr with
// the standard library's SMTP client, after STARTTLS, signing in as user
// with password.
func sendMail(addr string, pool *x509.CertPool, user, password, from string, to []string, msg []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.StartTLS(&tls.Config{RootCAs: pool, ServerName: smtpHost, MinVersion: tls.VersionTLS12}); err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(addr) // net/smtp's PlainAuth wants the dialled host
	if err := c.Auth(smtp.PlainAuth("", user, password, host)); err != nil {
		return err
	}
	return testkit.SendMail(c, from, to, msg)
}

// smtpCode is the reply code of an SMTP error, or 0.
func smtpCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func scan(subject string) []byte {
	return []byte("From: alice@example.test\r\nTo: bob@example.test\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + subject + "@scanner.example.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nScanned page.\r\n")
}

// A password made in Slack opens the gateway; deleted in Slack, it stops
// working there within the minute.
func TestGatewayUsesPasswordsMadeInSlack(t *testing.T) {
	h := newHarness(t)
	pool := h.withGateway()
	h.Start()
	if h.App.Gateway == nil || h.App.SMTPAddr == "" || h.App.SMTPSAddr == "" {
		t.Fatalf("apppass serve runs no gateway: %+v", h.App)
	}

	secret := h.SecretIn(h.Ask(alice, "create Scanner 3rd floor"))
	if secret == "" {
		t.Fatal("no password was shown")
	}
	msg := scan("first")
	if err := sendMail(h.App.SMTPAddr, pool, "alice@example.test", secret, "alice@example.test", []string{"bob@example.test"}, msg); err != nil {
		t.Fatalf("sending with the new password: %v", err)
	}
	sent := h.Entra.Mailbox(entraID(alice))
	if len(sent) != 1 || !bytes.Equal(sent[0].MIME, msg) {
		t.Fatalf("alice's sent mail = %+v, want the message byte for byte", sent)
	}
	// The implicit-TLS listener takes the same password.
	if err := sendImplicit(h.App.SMTPSAddr, pool, secret); err != nil {
		t.Fatalf("sending over implicit TLS: %v", err)
	}

	// Deleted through Slack: refused at the gateway within 60 s of the
	// clock, although the login was cached a moment ago.
	list := h.Reply(h.Command(alice, "list"))
	h.Reply(h.Click(alice, "delete_confirm", buttons(list)["delete_ask"][0]))
	h.WaitFor("the delete", func() bool { return h.CountOf(alice) == 0 })
	h.Clock.Add(10 * time.Second)
	err := sendMail(h.App.SMTPAddr, pool, "alice@example.test", secret, "alice@example.test", []string{"bob@example.test"}, scan("second"))
	if smtpCode(err) != 535 {
		t.Fatalf("after the delete the gateway answered %v, want 535", err)
	}
	if n := len(h.Entra.Mailbox(entraID(alice))); n != 2 {
		t.Errorf("alice's sent mail holds %d messages, want 2", n)
	}
	scrape := httpGet(t, "http://"+h.App.HTTPAddr+"/metrics", http.StatusOK)
	for _, want := range []string{`apppass_gateway_messages_total{outcome="sent"} 2`, `apppass_gateway_logins_total{outcome="refused"} 1`} {
		if !strings.Contains(scrape, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	h.AssertNoLeaks(nil)
}

func sendImplicit(addr string, pool *x509.CertPool, secret string) error {
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: smtpHost, MinVersion: tls.VersionTLS12})
	if err != nil {
		return err
	}
	c, err := smtp.NewClient(conn, smtpHost)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Auth(smtp.PlainAuth("", "alice@example.test", secret, smtpHost)); err != nil {
		return err
	}
	return testkit.SendMail(c, "alice@example.test", []string{"bob@example.test"}, scan("implicit"))
}

// Guessing is told to the helpdesk channel once, with the typed user name
// made inert.
func TestGatewayGuessingAlertsTheHelpdesk(t *testing.T) {
	h := newHarness(t)
	pool := h.withGateway()
	h.Start()
	// A junk name (not an address) is counted against the client address
	// only, and never shown.
	junk := "<!channel> `*x*`"
	if err := sendMail(h.App.SMTPAddr, pool, junk, "wrong-password", "alice@example.test", []string{"bob@example.test"}, scan("junk")); smtpCode(err) != 535 {
		t.Fatalf("a junk user name answered %v, want 535", err)
	}
	for range 6 {
		err := sendMail(h.App.SMTPAddr, pool, "Alice@example.test", "wrong-password", "alice@example.test", []string{"bob@example.test"}, scan("guess"))
		if code := smtpCode(err); code != 535 && code != 454 {
			t.Fatalf("a wrong password answered %v, want 535 or 454", err)
		}
	}
	h.WaitFor("the guessing alert", func() bool { return len(h.Slack.MessagesIn(helpdesk)) > 0 })
	alerts := h.Slack.MessagesIn(helpdesk)
	if len(alerts) != 1 {
		t.Fatalf("%d helpdesk messages, want one alert", len(alerts))
	}
	text := messageText(alerts[0])
	if !strings.Contains(text, "password guessing") || !strings.Contains(text, "alice@example.test") || strings.Contains(text, "channel") {
		t.Errorf("alert (naming Alice by her directory name, never the junk):\n%s", text)
	}
}

// `apppass gateway` runs the gateway alone, without any Slack setting, on
// the store that `apppass serve` filled.
func TestGatewayAloneWithoutSlack(t *testing.T) {
	h := newHarness(t)
	pool := h.withGateway()
	h.Start()
	secret := h.SecretIn(h.Ask(alice, "create Printer"))
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	slackCalls := len(h.Slack.Calls())

	env := map[string]string{}
	for k, v := range h.Env {
		if !strings.HasPrefix(k, "SLACK_") {
			env[k] = v
		}
	}
	env["APPPASS_SMTPS_ADDR"] = ""
	m, err := app.NewMain(func(k string) string { return env[k] }, slog.New(slog.NewJSONHandler(h.Logs, nil)), config.ForGateway())
	if err != nil {
		t.Fatalf("gateway configuration without Slack: %v", err)
	}
	m.GraphTransport = h.Entra.Client().Transport
	m.Now = h.Clock.Now
	ready := make(chan *app.App, 1)
	m.Ready = func(a *app.App) { ready <- a }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.RunGateway(ctx) }()
	var app *app.App
	select {
	case app = <-ready:
	case err := <-done:
		t.Fatalf("apppass gateway did not start: %v", err)
	}
	if app.SMTPAddr == "" || app.SMTPSAddr != "" || app.Bot != nil {
		t.Errorf("gateway alone: %+v", app)
	}
	if err := sendMail(app.SMTPAddr, pool, "alice@example.test", secret, "alice@example.test", []string{"bob@example.test"}, scan("alone")); err != nil {
		t.Errorf("sending through apppass gateway: %v", err)
	}
	if n := len(h.Entra.Mailbox(entraID(alice))); n != 1 {
		t.Errorf("alice's sent mail holds %d messages, want 1", n)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("apppass gateway stopped with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("apppass gateway did not stop")
	}
	if n := len(h.Slack.Calls()); n != slackCalls {
		t.Errorf("apppass gateway made %d Slack calls, want none", n-slackCalls)
	}
}

// The verb reads its configuration without Slack: what it misses is named.
func TestGatewayVerbNeedsNoSlack(t *testing.T) {
	env := map[string]string{"AZURE_TENANT_ID": fakeentra.TenantID, "AZURE_CLIENT_ID": fakeentra.ClientID}
	var out, errb bytes.Buffer
	err := app.Run(context.Background(), []string{"gateway"}, func(k string) string { return env[k] }, &out, &errb)
	if err == nil || strings.Contains(err.Error(), "SLACK_") || !strings.Contains(err.Error(), "APPPASS_SMTP_ADDR") {
		t.Errorf("apppass gateway without a listener: %v, want an error naming APPPASS_SMTP_ADDR, not Slack", err)
	}
}

// A flood of 1,000 idle connections from one address leaves apppass
// serving: /readyz answers, Slack commands work, and a device elsewhere
// sends (issue 15).
func TestGatewayFloodLeavesTheRestServed(t *testing.T) {
	h := newHarness(t)
	pool := h.withGateway()
	h.Start()
	secret := h.SecretIn(h.Ask(alice, "create Scanner"))
	kept := 0
	for range 1000 {
		d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.3")}}
		c, err := d.Dial("tcp", h.App.SMTPAddr)
		if err != nil {
			t.Fatalf("flood connection: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		greeting, _ := bufio.NewReader(c).ReadString('\n')
		switch {
		case strings.HasPrefix(greeting, "220 "):
			kept++
		case strings.HasPrefix(greeting, "421 4.7.0"):
			c.Close() // a low open-file limit must not end the test
		default:
			t.Fatalf("flood connection answered %q", greeting)
		}
	}
	if kept != config.DefaultGatewayMaxPerAddress {
		t.Errorf("%d of 1,000 idle connections from one address kept, want %d", kept, config.DefaultGatewayMaxPerAddress)
	}
	if body, status := httpGetStatus(t, "http://"+h.App.HTTPAddr+"/readyz"); status != http.StatusOK {
		t.Errorf("/readyz during the flood: %d %s", status, body)
	}
	if got := h.Ask(alice, "list"); !strings.Contains(got, "Scanner") {
		t.Errorf("/apppass list during the flood: %q", got)
	}
	if err := sendMail(h.App.SMTPAddr, pool, "alice@example.test", secret, "alice@example.test", []string{"bob@example.test"}, scan("flood")); err != nil {
		t.Errorf("a device on another address during the flood: %v", err)
	}
}
