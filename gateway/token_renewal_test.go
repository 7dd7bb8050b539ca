package gateway_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/smtp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeexchange"
	"github.com/apppass/apppass/gateway"
	"github.com/apppass/apppass/graphclient"
)

// renewalRig is the exchange rig whose gateway, for sending through the
// smtp upstream and for reading, has apppass's Exchange token from the
// real graphclient (its cache and its renewal), on a clock of its own.
type renewalRig struct {
	*exchangeRig
	tokens     *graphclient.Client
	tokenClock *clock
}

func newRenewalRig(t *testing.T) *renewalRig {
	t.Helper()
	// Three messages of Alice's at once, as Exchange allows.
	base := newExchangeRigWith(t, false, []rigOption{func(o *gateway.Options) { o.MaxMessagesPerOwner = 3 }})
	tc := &clock{t: time.Now()}
	g, err := graphclient.New(graphclient.Options{
		TenantID: fakeentra.TenantID, ClientID: fakeentra.ClientID, ClientSecret: domain.NewSecret(fakeentra.ClientSecret),
		AuthorityHost: base.entra.AuthorityHost(), GraphBaseURL: base.entra.GraphBaseURL(), AppNamePrefix: "App passwords – ",
		Transport: base.entra.Client().Transport, Now: tc.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Every message its own connection, so every message logs in.
	u, err := gateway.NewSMTPUpstream(gateway.SMTPUpstreamOptions{Addr: base.ex.SMTPAddr(), TLS: &tls.Config{RootCAs: base.ex.CertPool()},
		Tokens: g, Hostname: hostname, IdleTimeout: -1, Logger: slog.New(slog.NewJSONHandler(base.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.Close)
	c := *base.rig
	c.upstream, c.read.source = u, g
	c.serve()
	base.rig, base.upstream = &c, u
	c.allowReading(domain.Scope{Send: true, Read: true})
	return &renewalRig{exchangeRig: base, tokens: g, tokenClock: tc}
}

// issued counts apppass's Exchange tokens Entra has issued.
func (r *renewalRig) issued() int {
	return r.entra.TokensIssued(fakeentra.ClientID, fakeexchange.Resource)
}

// try sends cmd and returns the answer line starting with until; unlike
// do it may run in a goroutine of its own.
func (l *line) try(cmd, until string) (string, error) {
	if _, err := fmt.Fprintf(l.c, "%s\r\n", cmd); err != nil {
		return "", err
	}
	for {
		s, err := l.r.ReadString('\n')
		if err != nil {
			return s, err
		}
		if s = strings.TrimRight(s, "\r\n"); strings.HasPrefix(s, until) {
			return s, nil
		}
	}
}

// logins are n sessions of each protocol, connected and ready to log in
// (SMTP: authenticated with the gateway, which asks Exchange at the
// message).
type logins struct {
	smtp       []*smtp.Client
	imap, pop3 []*line
}

// openLogins connects n sessions of each protocol of protos ("smtp",
// "imap", "pop3").
func (r *renewalRig) openLogins(n int, protos ...string) logins {
	r.t.Helper()
	var ls logins
	for range n {
		for _, proto := range protos {
			switch proto {
			case "smtp":
				c, err := r.login("alice@contoso.test", r.password.SecretText)
				if err != nil {
					r.t.Fatal(err)
				}
				ls.smtp = append(ls.smtp, c)
			case "imap":
				ls.imap = append(ls.imap, r.dialRead(r.read.imaps))
			case "pop3":
				p := r.dialRead(r.read.pop3s)
				p.do("USER alice@contoso.test", "+OK")
				ls.pop3 = append(ls.pop3, p)
			}
		}
	}
	return ls
}

// run has every session of ls log in to Exchange at once (SMTP: send a
// message) and returns each one's answer by protocol.
func (r *renewalRig) run(ls logins) map[string][]string {
	var (
		mu  sync.Mutex
		got = map[string][]string{}
		wg  sync.WaitGroup
	)
	add := func(proto, s string) { mu.Lock(); got[proto] = append(got[proto], s); mu.Unlock() }
	for i, c := range ls.smtp {
		wg.Go(func() {
			err := sendOn(c, "alice@contoso.test", []string{"bob@contoso.test"}, plainMessage("alice@contoso.test", "bob@contoso.test", fmt.Sprintf("renewal-%d-%d", i, time.Now().UnixNano())))
			if err != nil {
				add("smtp", reply(err)+": "+err.Error())
				return
			}
			add("smtp", "250")
		})
	}
	for _, l := range ls.imap {
		wg.Go(func() {
			s, err := l.try(`a LOGIN "alice@contoso.test" "`+r.password.SecretText+`"`, "a ")
			if err != nil {
				s = "error: " + err.Error()
			}
			add("imap", s)
		})
	}
	for _, p := range ls.pop3 {
		wg.Go(func() {
			s, err := p.try("PASS "+r.password.SecretText, "")
			if err != nil {
				s = "error: " + err.Error()
			}
			add("pop3", s)
		})
	}
	wg.Wait()
	return got
}

// When Exchange stops taking apppass's cached token (revoked early, its
// roles changed), the next sends and logins replace it once and succeed:
// one token request at Entra however many sessions were refused at once,
// and the token in no log.
func TestExchangeTokenRenewedWhenRevoked(t *testing.T) {
	r := newRenewalRig(t)
	ctx := context.Background()
	for proto, answers := range r.run(r.openLogins(1, "smtp", "imap", "pop3")) {
		for _, a := range answers {
			if !strings.HasPrefix(a, "250") && !strings.HasPrefix(a, "a OK") && !strings.HasPrefix(a, "+OK") {
				t.Fatalf("%s before the revocation: %q", proto, a)
			}
		}
	}
	if n := r.issued(); n != 1 {
		t.Fatalf("%d Exchange tokens for three logins, want 1 (cached)", n)
	}
	seen := []domain.Secret{}
	const sessions = 3 // Exchange's SMTP allows three connections per mailbox
	for i, proto := range []string{"smtp", "imap", "pop3"} {
		old, err := r.tokens.ExchangeToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, old)
		r.tokenClock.advance(10 * time.Minute) // the cached token is well into its life
		if n := r.entra.RevokeTokens(fakeexchange.Resource); n != 1 {
			t.Fatalf("%s: %d tokens revoked, want 1", proto, n)
		}
		smtpRefused, readRefused := r.ex.SMTPCounts().AuthRefused, len(r.read.exchange.Refusals())
		got := r.run(r.openLogins(sessions, proto))[proto]
		want := map[string]string{"smtp": "250", "imap": "a OK", "pop3": "+OK"}[proto]
		if len(got) != sessions {
			t.Errorf("%s: %d answers, want %d", proto, len(got), sessions)
		}
		for _, a := range got {
			if !strings.HasPrefix(a, want) {
				t.Errorf("%s after the revocation: %q, want %s", proto, a, want)
			}
		}
		if n := r.issued(); n != 2+i {
			t.Errorf("%s: %d new Exchange tokens for %d sessions refused at once, want 1", proto, n-1-i, sessions)
		}
		// The retry was needed: Exchange did refuse the revoked token.
		refused := r.ex.SMTPCounts().AuthRefused - smtpRefused
		if proto != "smtp" {
			refused = 0
			for _, x := range r.read.exchange.Refusals()[readRefused:] {
				if x.Reason == fakeexchange.RefusedRevoked && strings.EqualFold(x.Protocol, proto) {
					refused++
				}
			}
		}
		if refused == 0 {
			t.Errorf("%s: Exchange never refused the revoked token", proto)
		}
	}
	if n := len(r.ex.SMTPMessages()); n != 1+sessions {
		t.Errorf("Exchange has %d messages, want %d", n, 1+sessions)
	}
	fresh, err := r.tokens.ExchangeToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range append(seen, fresh) {
		if strings.Contains(r.logs.String(), tok.Reveal()) || strings.Contains(r.trace.String(), tok.Reveal()) {
			t.Error("a log carries apppass's Exchange token")
		}
	}
}

// A refusal that a new token does not lift reaches the device as before,
// after one retry: one token request, and none for the next login while
// that token is new.
func TestExchangeTokenRefusalStands(t *testing.T) {
	t.Run("smtp", func(t *testing.T) {
		r := newRenewalRig(t)
		msg := plainMessage("alice@contoso.test", "bob@contoso.test", "stands")
		if err := r.send("alice@contoso.test", r.password.SecretText, "alice@contoso.test", []string{"bob@contoso.test"}, msg); err != nil {
			t.Fatal(err)
		}
		r.tokenClock.advance(10 * time.Minute)
		r.ex.RemoveRole(fakeentra.ClientID, fakeexchange.RoleSMTPSendAsApp)
		for i, wantIssued := range []int{2, 2} {
			refused := r.ex.SMTPCounts().AuthRefused
			err := r.send("alice@contoso.test", r.password.SecretText, "alice@contoso.test", []string{"bob@contoso.test"}, msg)
			if got := reply(err); got != "554 5.7.3" || !strings.Contains(err.Error(), "SMTP.SendAsApp") {
				t.Errorf("send %d: answer %s (%v), want 554 5.7.3 naming the role", i+1, got, err)
			}
			if n := r.issued(); n != wantIssued {
				t.Errorf("send %d: %d Exchange tokens, want %d", i+1, n, wantIssued)
			}
			// The first send is refused with the old token, then the new
			// one; the second only once, its token being new.
			if n, want := r.ex.SMTPCounts().AuthRefused-refused, 2-i; n != want {
				t.Errorf("send %d: Exchange refused %d logins, want %d", i+1, n, want)
			}
		}
	})
	// A tenant that does not take the renewal's claims challenge: the
	// refusal stands as it did before renewals, not "try again later".
	t.Run("smtp, claims challenges refused", func(t *testing.T) {
		r := newRenewalRig(t)
		msg := plainMessage("alice@contoso.test", "bob@contoso.test", "stands")
		if err := r.send("alice@contoso.test", r.password.SecretText, "alice@contoso.test", []string{"bob@contoso.test"}, msg); err != nil {
			t.Fatal(err)
		}
		r.tokenClock.advance(10 * time.Minute)
		r.entra.RefuseClaimsChallenges(true)
		r.ex.RemoveRole(fakeentra.ClientID, fakeexchange.RoleSMTPSendAsApp)
		for i := range 2 {
			err := r.send("alice@contoso.test", r.password.SecretText, "alice@contoso.test", []string{"bob@contoso.test"}, msg)
			if got := reply(err); got != "554 5.7.3" || !strings.Contains(err.Error(), "SMTP.SendAsApp") {
				t.Errorf("send %d: answer %s (%v), want 554 5.7.3 naming the role", i+1, got, err)
			}
		}
		if n := r.issued(); n != 1 {
			t.Errorf("%d Exchange tokens, want 1 (the challenge refused, the cached token kept)", n)
		}
	})
	t.Run("reading", func(t *testing.T) {
		r := newRenewalRig(t)
		if _, got := r.imapLogin(r.password.SecretText); !strings.HasPrefix(got, "a OK") {
			t.Fatalf("login: %q", got)
		}
		r.tokenClock.advance(10 * time.Minute)
		r.read.exchange.SetIMAPEnabled(r.alice.Mail, false)
		r.read.exchange.SetPOPEnabled(r.alice.Mail, false)
		const notEnabled = "reading mail is not enabled for this mailbox; the helpdesk has been told how to enable it."
		for i := range 2 {
			refusals := len(r.read.exchange.Refusals())
			if _, got := r.imapLogin(r.password.SecretText); got != "a NO [AUTHORIZATIONFAILED] "+notEnabled {
				t.Errorf("IMAP login %d: %q", i+1, got)
			}
			if n := len(r.read.exchange.Refusals()) - refusals; n != 2-i {
				t.Errorf("IMAP login %d: Exchange refused %d logins, want %d", i+1, n, 2-i)
			}
			if n := r.issued(); n != 2 {
				t.Errorf("IMAP login %d: %d Exchange tokens, want 2 (one retry, then the new token kept)", i+1, n)
			}
		}
		p := r.dialRead(r.read.pop3s)
		p.do("USER alice@contoso.test", "+OK")
		if got := p.do("PASS "+r.password.SecretText, ""); got != "-ERR [AUTH] "+notEnabled {
			t.Errorf("POP3 login: %q", got)
		}
		if n := r.issued(); n != 2 {
			t.Errorf("%d Exchange tokens after the POP3 login, want 2", n)
		}
		if alerts := r.read.alerts.all(); len(alerts) == 0 || alerts[0].Protocol != "IMAP" {
			t.Errorf("helpdesk alerts %+v, want the daily one", alerts)
		}
	})
}

// The gateway renews the token of the graphclient that app/ wires in.
var _ gateway.ExchangeTokenRenewer = (*graphclient.Client)(nil)

// When Exchange refuses the token and Entra gives no new one, the device
// is told to try again later, not that it is refused for good; once Entra
// answers again, the next login renews the token and passes.
func TestExchangeTokenRenewalWithoutEntra(t *testing.T) {
	r := newRenewalRig(t)
	msg := plainMessage("alice@contoso.test", "bob@contoso.test", "no-entra")
	if err := r.send("alice@contoso.test", r.password.SecretText, "alice@contoso.test", []string{"bob@contoso.test"}, msg); err != nil {
		t.Fatal(err)
	}
	// The device signs in while Entra answers (its password is then
	// cached); Entra then refuses apppass (a refusal is not retried by
	// the credential, so the test waits for nothing).
	c, err := r.login("alice@contoso.test", r.password.SecretText)
	if err != nil {
		t.Fatal(err)
	}
	l := r.dialRead(r.read.imaps)
	r.tokenClock.advance(10 * time.Minute)
	r.entra.RevokeTokens(fakeexchange.Resource)
	r.entra.Inject(fakeentra.OpToken, fakeentra.Fault{Status: 401, Code: "invalid_client", Times: 1000})
	if err := sendOn(c, "alice@contoso.test", []string{"bob@contoso.test"}, msg); reply(err) != "451 4.3.0" {
		t.Errorf("send: %s (%v), want 451 4.3.0", reply(err), err)
	}
	if got := l.do(`a LOGIN "alice@contoso.test" "`+r.password.SecretText+`"`, "a "); !strings.HasPrefix(got, "a NO [UNAVAILABLE]") {
		t.Errorf("IMAP login: %q, want NO [UNAVAILABLE]", got)
	}
	if n := len(r.read.alerts.all()); n != 0 {
		t.Errorf("%d helpdesk alerts for a token Entra would not renew, want none", n)
	}
	r.entra.ClearFaults()
	if err := r.send("alice@contoso.test", r.password.SecretText, "alice@contoso.test", []string{"bob@contoso.test"}, msg); err != nil {
		t.Errorf("send once Entra answers: %v", err)
	}
	if _, got := r.imapLogin(r.password.SecretText); !strings.HasPrefix(got, "a OK") {
		t.Errorf("IMAP login once Entra answers: %q", got)
	}
	if n := r.issued(); n != 2 {
		t.Errorf("%d Exchange tokens, want 2", n)
	}
}
