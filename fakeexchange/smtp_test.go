package fakeexchange_test

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeexchange"
	"github.com/apppass/apppass/internal/testkit"
	xo "github.com/apppass/apppass/xoauth2"
)

const alice = "alice@contoso.test"

// tenant is a fake Entra and a fake Exchange with Alice's mailbox, which
// apppass's application may send as.
func tenant(t *testing.T) (*fakeentra.Server, *fakeexchange.Server) {
	t.Helper()
	entra := fakeentra.New(t)
	ex := fakeexchange.NewTest(t, entra)
	ex.AddMailbox(fakeexchange.Mailbox{ID: "a1", Address: alice, Aliases: []string{"a.smith@contoso.test"}})
	ex.AddMailbox(fakeexchange.Mailbox{ID: "b2", Address: "bob@contoso.test"})
	ex.AssignRole(fakeentra.ClientID, fakeexchange.RoleSMTPSendAsApp, []string{"a1"})
	return entra, ex
}

// appToken gets apppass's app-only token for resource from the fake Entra.
func appToken(t *testing.T, entra *fakeentra.Server, resource string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {fakeentra.ClientID},
		"client_secret": {fakeentra.ClientSecret}, "scope": {resource + "/.default"}}
	resp, err := entra.Client().PostForm(entra.URL()+"/"+fakeentra.TenantID+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.AccessToken == "" {
		t.Fatalf("token: %v %v", resp.Status, err)
	}
	return v.AccessToken
}

func dial(t *testing.T, ex *fakeexchange.Server) *smtp.Client {
	t.Helper()
	c, err := smtp.DialStartTLS(ex.SMTPAddr(), &tls.Config{RootCAs: ex.CertPool(), ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func code(err error) string {
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		return fmt.Sprintf("no SMTP error: %v", err)
	}
	e := se.EnhancedCode
	return fmt.Sprintf("%d %d.%d.%d", se.Code, e[0], e[1], e[2])
}

func TestSendRecordsBytesAndEnvelope(t *testing.T) {
	entra, ex := tenant(t)
	c := dial(t, ex)
	if ok, _ := c.Extension("AUTH"); !ok {
		t.Fatal("no AUTH after STARTTLS")
	}
	if !c.SupportsAuth("XOAUTH2") || c.SupportsAuth("PLAIN") || c.SupportsAuth("LOGIN") {
		t.Error("AUTH must offer XOAUTH2 only")
	}
	if err := c.Auth(xo.NewClient(alice, appToken(t, entra, fakeexchange.Resource))); err != nil {
		t.Fatal(err)
	}
	msg := "From: a.smith@contoso.test\r\nTo: bob@contoso.test\r\nSubject: x\r\n\r\n.leading dot\r\nbody  \r\n"
	if err := c.SendMail("a.smith@contoso.test", []string{"bob@contoso.test", "hidden@fabrikam.test"}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	got := ex.SMTPMessages()
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	m := got[0]
	if string(m.Data) != msg || m.From != "a.smith@contoso.test" || strings.Join(m.To, ",") != "bob@contoso.test,hidden@fabrikam.test" || m.MailboxID != "a1" {
		t.Errorf("recorded %+v", m)
	}
}

func TestNoAuthBeforeTLS(t *testing.T) {
	_, ex := tenant(t)
	c, err := smtp.Dial(ex.SMTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("gw"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("AUTH offered before STARTTLS")
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Error("no STARTTLS")
	}
}

func TestRefusals(t *testing.T) {
	entra, ex := tenant(t)
	ex.AddMailbox(fakeexchange.Mailbox{ID: "c3", Address: "carol@contoso.test", SMTPAuthDisabled: true})
	ex.AssignRole(fakeentra.ClientID, fakeexchange.RoleSMTPSendAsApp, []string{"a1", "c3"})
	good := appToken(t, entra, fakeexchange.Resource)
	for _, tc := range []struct {
		name, user, token, want string
	}{
		{"outside the scope", "bob@contoso.test", good, "535 5.7.3"},
		{"unknown mailbox", "nobody@contoso.test", good, "535 5.7.3"},
		{"graph audience", alice, appToken(t, entra, "https://graph.microsoft.com"), "535 5.7.3"},
		{"forged token", alice, good[:len(good)-4] + "AAAA", "535 5.7.3"},
		{"smtp auth disabled", "carol@contoso.test", good, "535 5.7.139"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := dial(t, ex).Auth(xo.NewClient(tc.user, tc.token))
			if got := code(err); got != tc.want {
				t.Errorf("AUTH = %s (%v), want %s", got, err, tc.want)
			}
		})
	}
	t.Run("another's sender", func(t *testing.T) {
		c := dial(t, ex)
		if err := c.Auth(xo.NewClient(alice, good)); err != nil {
			t.Fatal(err)
		}
		if got := code(c.Mail("bob@contoso.test", nil)); got != "550 5.7.60" {
			t.Errorf("MAIL FROM bob = %s", got)
		}
	})
	t.Run("role removed", func(t *testing.T) {
		ex.RemoveRole(fakeentra.ClientID, fakeexchange.RoleSMTPSendAsApp)
		if got := code(dial(t, ex).Auth(xo.NewClient(alice, good))); got != "535 5.7.3" {
			t.Errorf("AUTH = %s", got)
		}
	})
	if len(ex.SMTPMessages()) != 0 {
		t.Error("a refused session delivered")
	}
}

func TestLimits(t *testing.T) {
	entra, ex := tenant(t)
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	ex.SetNow(func() time.Time { return now })
	tok := appToken(t, entra, fakeexchange.Resource)
	var open []*smtp.Client
	for range 3 {
		c := dial(t, ex)
		if err := c.Auth(xo.NewClient(alice, tok)); err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
	}
	if got := code(dial(t, ex).Auth(xo.NewClient(alice, tok))); got != "432 4.3.2" {
		t.Errorf("4th connection: %s", got)
	}
	open[2].Quit()
	c := open[0]
	for i := range 30 {
		if err := c.SendMail(alice, []string{"bob@contoso.test"}, strings.NewReader("Subject: n\r\n\r\nx\r\n")); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if got := code(c.Mail(alice, nil)); got != "421 4.7.66" {
		t.Errorf("31st message: %s", got)
	}
	c.Reset()
	// The 4th connection may come now that one closed (eventually: the
	// server sees the QUIT asynchronously).
	testkit.Eventually(t, 5*time.Second, "a closed connection to stop counting", func() bool {
		return dial(t, ex).Auth(xo.NewClient(alice, tok)) == nil
	})
	now = now.Add(time.Minute)
	if err := c.SendMail(alice, []string{"bob@contoso.test"}, strings.NewReader("Subject: n\r\n\r\nx\r\n")); err != nil {
		t.Errorf("a minute later: %v", err)
	}
}

func TestFaults(t *testing.T) {
	entra, ex := tenant(t)
	tok := appToken(t, entra, fakeexchange.Resource)
	ex.InjectSMTP(fakeexchange.StageData, fakeexchange.Fault{DropAfter: 10})
	c := dial(t, ex)
	if err := c.Auth(xo.NewClient(alice, tok)); err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail(alice, []string{"bob@contoso.test"}, strings.NewReader("Subject: dropped\r\n\r\n"+strings.Repeat("x", 100000)+"\r\n")); err == nil {
		t.Error("a dropped connection succeeded")
	}
	ex.InjectSMTP(fakeexchange.StageMail, fakeexchange.Throttled)
	c = dial(t, ex)
	if err := c.Auth(xo.NewClient(alice, tok)); err != nil {
		t.Fatal(err)
	}
	if got := code(c.Mail(alice, nil)); got != "432 4.3.2" {
		t.Errorf("throttled MAIL: %s", got)
	}
	if n := len(ex.SMTPMessages()); n != 0 || ex.SMTPCounts().Dropped != 1 {
		t.Errorf("%d messages, counts %+v", n, ex.SMTPCounts())
	}
}

// A token revoked at Entra is refused with Exchange's own answer; one
// issued afterwards works, and tokens of other resources stay good.
func TestRevokedTokenRefused(t *testing.T) {
	entra, ex := tenant(t)
	old := appToken(t, entra, fakeexchange.Resource)
	graph := appToken(t, entra, "https://graph.microsoft.com")
	if err := dial(t, ex).Auth(xo.NewClient(alice, old)); err != nil {
		t.Fatalf("before the revocation: %v", err)
	}
	if n := entra.RevokeTokens(fakeexchange.Resource + "/"); n != 1 {
		t.Fatalf("%d tokens revoked, want 1", n)
	}
	err := dial(t, ex).Auth(xo.NewClient(alice, old))
	if got := code(err); got != "535 5.7.3" || !strings.Contains(err.Error(), "Authentication unsuccessful") {
		t.Errorf("revoked token: %v, want 535 5.7.3 Authentication unsuccessful", err)
	}
	if _, err := ex.CheckToken(old); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("CheckToken of a revoked token: %v", err)
	}
	if c, ok := entra.Introspect(graph); !ok || c.Revoked {
		t.Error("a Graph token was revoked with Exchange's")
	}
	if err := dial(t, ex).Auth(xo.NewClient(alice, appToken(t, entra, fakeexchange.Resource))); err != nil {
		t.Errorf("a token issued after the revocation: %v", err)
	}
	if n := entra.TokensIssued(fakeentra.ClientID, fakeexchange.Resource); n != 2 {
		t.Errorf("TokensIssued = %d, want 2", n)
	}
}
