package gateway_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeexchange"
	"github.com/apppass/apppass/gateway"
)

// line is a raw line-protocol client of the gateway.
type line struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

// dialRead connects to addr (an implicit-TLS listener) and reads the
// greeting.
func (r *rig) dialRead(addr string) *line {
	r.t.Helper()
	c, err := tls.Dial("tcp", addr, r.tlsConfig())
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	l := &line{t: r.t, c: c, r: bufio.NewReader(c)}
	l.next()
	return l
}

func (l *line) next() string {
	l.t.Helper()
	s, err := l.r.ReadString('\n')
	if err != nil {
		l.t.Fatalf("reading: %v (%q)", err, s)
	}
	return strings.TrimRight(s, "\r\n")
}

// do sends cmd and returns the last answer line, the one starting with
// until.
func (l *line) do(cmd, until string) string {
	l.t.Helper()
	fmt.Fprintf(l.c, "%s\r\n", cmd)
	for {
		if s := l.next(); strings.HasPrefix(s, until) {
			return s
		}
	}
}

// closed reports whether the connection ends (EOF or reset) within d.
func (l *line) closed(d time.Duration) bool {
	_ = l.c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, l.r)
	return err == nil || !isTimeout(err)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func (r *rig) imapLogin(password string) (*line, string) {
	l := r.dialRead(r.read.imaps)
	return l, l.do(`a LOGIN "alice@contoso.test" "`+password+`"`, "a ")
}

func TestReadRefusals(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(r *rig)
		pw      func(r *rig) string
		imap    string
		pop3    string
		noEntra bool // refused without a token request at Entra
	}{
		{"wrong password", func(r *rig) { r.allowReading(domain.Scope{Read: true}) }, func(r *rig) string { return r.password.SecretText + "x" },
			"a NO [AUTHENTICATIONFAILED] Authentication failed.", "-ERR [AUTH] Authentication failed.", false},
		{"send-only password", func(*rig) {}, func(r *rig) string { return r.password.SecretText },
			"a NO [AUTHORIZATIONFAILED] this app password is for sending mail only", "-ERR [AUTH] this app password is for sending mail only", true},
		{"other network", func(r *rig) {
			nets, _ := domain.ParseNetworks("192.0.2.0/24")
			r.allowReading(domain.Scope{Read: true, Networks: nets})
		}, func(r *rig) string { return r.password.SecretText },
			"a NO [AUTHORIZATIONFAILED] this app password may not be used from this network", "-ERR [AUTH] this app password may not be used from this network", true},
		{"removed password", func(r *rig) {
			r.allowReading(domain.Scope{Read: true})
			if err := r.db.CredentialRemoved(context.Background(), r.alice.ID, r.app.ID, domain.Password{KeyID: r.password.KeyID, Hint: r.password.Hint}); err != nil {
				t.Fatal(err)
			}
		}, func(r *rig) string { return r.password.SecretText },
			"a NO [AUTHENTICATIONFAILED] Authentication failed.", "-ERR [AUTH] Authentication failed.", true},
		{"mailbox without FullAccess", func(r *rig) {
			r.allowReading(domain.Scope{Read: true})
			r.read.exchange.SetFullAccess(r.alice.Mail, fakeentra.ClientID, false)
		}, func(r *rig) string { return r.password.SecretText },
			"a NO [AUTHORIZATIONFAILED] reading mail is not enabled for this mailbox; the helpdesk has been told how to enable it.",
			"-ERR [AUTH] reading mail is not enabled for this mailbox; the helpdesk has been told how to enable it.", false},
		{"IMAP and POP disabled", func(r *rig) {
			r.allowReading(domain.Scope{Read: true})
			r.read.exchange.SetIMAPEnabled(r.alice.Mail, false)
			r.read.exchange.SetPOPEnabled(r.alice.Mail, false)
		}, func(r *rig) string { return r.password.SecretText },
			"a NO [AUTHORIZATIONFAILED] reading mail is not enabled for this mailbox; the helpdesk has been told how to enable it.",
			"-ERR [AUTH] reading mail is not enabled for this mailbox; the helpdesk has been told how to enable it.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			tt.setup(r)
			// apppass's own Graph token, fetched once at the first Graph call.
			if _, err := r.graph.FindMailbox(context.Background(), r.alice.Mail); err != nil {
				t.Fatal(err)
			}
			tokens := r.entra.Count(fakeentra.OpToken)
			// A bad-credentials refusal ends with the attempt's reference.
			if _, got := r.imapLogin(tt.pw(r)); !strings.HasPrefix(got, tt.imap) {
				t.Errorf("IMAP: %q\nwant %q", got, tt.imap)
			}
			p := r.dialRead(r.read.pop3s)
			p.do("USER alice@contoso.test", "+OK")
			if got := p.do("PASS "+tt.pw(r), ""); !strings.HasPrefix(got, tt.pop3) {
				t.Errorf("POP3: %q\nwant %q", got, tt.pop3)
			}
			if n := r.entra.Count(fakeentra.OpToken) - tokens; tt.noEntra && n != 0 {
				t.Errorf("%d token requests at Entra; an out-of-scope or removed password must not be tried", n)
			}
		})
	}
}

func TestReadNotEnabledAlertsOnceADay(t *testing.T) {
	r := newRig(t)
	r.allowReading(domain.Scope{Read: true})
	r.read.exchange.SetFullAccess(r.alice.Mail, fakeentra.ClientID, false)
	for range 2 {
		if _, got := r.imapLogin(r.password.SecretText); !strings.HasPrefix(got, "a NO [AUTHORIZATIONFAILED] reading mail is not enabled") {
			t.Fatalf("login: %q", got)
		}
	}
	alerts := r.read.alerts.all()
	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want one a day", len(alerts))
	}
	want := "Add-MailboxPermission -Identity alice@contoso.test -User " + fakeentra.ClientID + " -AccessRights FullAccess -AutoMapping $false"
	if a := alerts[0]; a.Mailbox != "alice@contoso.test" || a.Protocol != "IMAP" || len(a.Commands) == 0 || a.Commands[0] != want {
		t.Errorf("alert %+v\nwant first command %q", a, want)
	}
	// Another replica does not alert again the same day.
	two := r.replica()
	if _, got := two.imapLogin(r.password.SecretText); !strings.HasPrefix(got, "a NO [AUTHORIZATIONFAILED]") {
		t.Fatalf("login on the second replica: %q", got)
	}
	if n := len(r.read.alerts.all()); n != 1 {
		t.Errorf("%d alerts after a login on another replica, want still 1", n)
	}
	r.clock.advance(25 * time.Hour)
	r.imapLogin(r.password.SecretText)
	if n := len(r.read.alerts.all()); n != 2 {
		t.Errorf("%d alerts after a day, want 2", n)
	}
}

func TestReadTokenExpiryAndReconnect(t *testing.T) {
	r := newRig(t)
	r.allowReading(domain.Scope{Read: true})
	l, got := r.imapLogin(r.password.SecretText)
	if !strings.HasPrefix(got, "a OK") {
		t.Fatalf("login: %q", got)
	}
	l.do("b SELECT INBOX", "b OK")
	tokens := r.entra.Count(fakeentra.OpToken)
	r.read.exchange.ExpireTokens()
	if got := l.next(); got != "* BYE "+fakeexchange.ByeTokenExpired {
		t.Errorf("after the token expired: %q", got)
	}
	if !l.closed(10 * time.Second) {
		t.Error("the session stayed open after Exchange's BYE")
	}
	r.read.tokens.forget()
	if _, got := r.imapLogin(r.password.SecretText); !strings.HasPrefix(got, "a OK") {
		t.Fatalf("login again: %q", got)
	}
	// One token request: apppass's new Exchange token; the password came
	// from the cache.
	if n := r.entra.Count(fakeentra.OpToken) - tokens; n != 1 {
		t.Errorf("%d token requests to reconnect, want 1 (apppass's Exchange token only)", n)
	}
}

func TestReadSessionsCut(t *testing.T) {
	for name, end := range map[string]func(r *rig){
		"password removed": func(r *rig) {
			if err := r.db.CredentialRemoved(context.Background(), r.alice.ID, r.app.ID, domain.Password{KeyID: r.password.KeyID, Hint: r.password.Hint}); err != nil {
				t.Fatal(err)
			}
		},
		"owner disabled": func(r *rig) { r.entra.DisableUser(r.alice.ID) },
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, func(o *gateway.Options) { o.RemovalPoll, o.ReadCheck = 50*time.Millisecond, 100*time.Millisecond })
			r.allowReading(domain.Scope{Read: true})
			l, got := r.imapLogin(r.password.SecretText)
			if !strings.HasPrefix(got, "a OK") {
				t.Fatalf("login: %q", got)
			}
			l.do("b SELECT INBOX", "b OK")
			fmt.Fprintf(l.c, "c IDLE\r\n")
			if got := l.next(); !strings.HasPrefix(got, "+") {
				t.Fatalf("IDLE: %q", got)
			}
			p := r.dialRead(r.read.pop3s)
			p.do("USER alice@contoso.test", "+OK")
			if got := p.do("PASS "+r.password.SecretText, ""); !strings.HasPrefix(got, "+OK") {
				t.Fatalf("POP3 login: %q", got)
			}
			end(r)
			r.clock.advance(10 * time.Second) // the removal poll is due
			start := time.Now()
			if !l.closed(60*time.Second) || !p.closed(60*time.Second) {
				t.Fatal("a live session outlived the removal by 60 s")
			}
			t.Logf("cut after %v", time.Since(start))
			eventually(t, 10*time.Second, "Exchange's sessions to end", func() bool {
				i, p := r.read.exchange.Sessions(r.alice.Mail)
				return i == 0 && p == 0
			})
		})
	}
}

func TestReadSessionsPerOwner(t *testing.T) {
	r := newRig(t, func(o *gateway.Options) { o.Limits.MaxPerOwner = 3 })
	r.allowReading(domain.Scope{Read: true})
	for i := range 3 {
		if _, got := r.imapLogin(r.password.SecretText); !strings.HasPrefix(got, "a OK") {
			t.Fatalf("session %d: %q", i+1, got)
		}
	}
	l := r.dialRead(r.read.imaps)
	if got := l.do(`a LOGIN "alice@contoso.test" "`+r.password.SecretText+`"`, ""); got != "* BYE Too many sessions for this mailbox; try again later." {
		t.Errorf("4th session: %q", got)
	}
}

func TestIMAPLiteralLogin(t *testing.T) {
	r := newRig(t)
	r.allowReading(domain.Scope{Read: true})
	l := r.dialRead(r.read.imaps)
	user := "alice@contoso.test"
	// A synchronising literal for the user name, a non-synchronising one
	// (LITERAL+) for the password.
	fmt.Fprintf(l.c, "a LOGIN {%d}\r\n", len(user))
	if got := l.next(); !strings.HasPrefix(got, "+ ") {
		t.Fatalf("continuation: %q", got)
	}
	fmt.Fprintf(l.c, "%s {%d+}\r\n%s\r\n", user, len(r.password.SecretText), r.password.SecretText)
	for {
		got := l.next()
		if strings.HasPrefix(got, "a ") {
			if !strings.HasPrefix(got, "a OK") {
				t.Errorf("LOGIN with literals: %q", got)
			}
			break
		}
	}
	l.do("b NOOP", "b OK")
}

func TestIMAPBeforeLogin(t *testing.T) {
	r := newRig(t)
	l := r.dialRead(r.read.imaps)
	for cmd, want := range map[string]string{
		"a ID (\"name\" \"printer\")": "a OK ID completed.",
		"b NOOP":                      "b OK NOOP completed.",
		"c SELECT INBOX":              "c BAD Command received in Invalid state.",
		"d LOGIN \"unterminated":      "d BAD Command Error. 10",
		"e AUTHENTICATE CRAM-MD5":     "e NO The specified authentication mechanism is not supported.",
	} {
		if got := l.do(cmd, strings.Fields(cmd)[0]+" "); got != want {
			t.Errorf("%s: %q, want %q", cmd, got, want)
		}
	}
	if got := l.do("f LOGOUT", "f "); got != "f OK LOGOUT completed." {
		t.Errorf("LOGOUT: %q", got)
	}
}

func TestSMTPScope(t *testing.T) {
	r := newRig(t)
	msg := plainMessage("alice@contoso.test", "bob@contoso.test", "scoped")
	if err := r.send("alice@contoso.test", r.password.SecretText, "alice@contoso.test", []string{"bob@contoso.test"}, msg); err != nil {
		t.Fatalf("a password made before scopes must still send: %v", err)
	}
	// Narrowed to reading: applies once the cached login (60 s at most)
	// is gone.
	r.allowReading(domain.Scope{Read: true})
	r.clock.advance(61 * time.Second)
	_, err := r.login("alice@contoso.test", r.password.SecretText)
	if got := reply(err); got != "535 5.7.8" || !strings.Contains(err.Error(), "this app password is for reading mail only") {
		t.Errorf("a read-only password sending: %v", err)
	}
}
