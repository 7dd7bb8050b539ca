package graphclient_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
)

func TestVerifyPassword(t *testing.T) {
	s := fakeentra.New(t)
	c := MustClient(t, s)
	app := s.AddEmployeeApp("owner-1", true)
	noSP := s.AddEmployeeApp("owner-2", false)
	good := s.AddSecret(app.ID, "printer", time.Time{})
	spless := s.AddSecret(noSP.ID, "x", time.Time{})
	tests := []struct {
		name     string
		appID    string
		password string
		fault    *fakeentra.Fault
		want     domain.Kind // KindInternal stands for "accepted"
	}{
		{"right password", app.AppID, good.SecretText, nil, domain.KindInternal},
		{"wrong password", app.AppID, "wrong" + good.SecretText, nil, domain.KindForbidden},
		{"unknown application", "00000000-0000-4000-8000-000000000009", good.SecretText, nil, domain.KindForbidden},
		{"no service principal", noSP.AppID, spless.SecretText, nil, domain.KindForbidden},
		{"Entra busy", app.AppID, good.SecretText, &fakeentra.Fault{Status: 503}, domain.KindUpstream},
		{"Entra throttling", app.AppID, good.SecretText, &fakeentra.Fault{Status: 429, RetryAfter: 1}, domain.KindUpstream},
		{"no password", app.AppID, "", nil, domain.KindForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fault != nil {
				s.Inject(fakeentra.OpToken, *tt.fault)
			}
			err := c.VerifyPassword(ctx(t), tt.appID, domain.NewSecret(tt.password))
			if tt.want == domain.KindInternal {
				if err != nil {
					t.Fatalf("VerifyPassword = %v, want nil", err)
				}
				return
			}
			if err == nil || domain.KindOf(err) != tt.want {
				t.Fatalf("VerifyPassword = %v (kind %v), want kind %v", err, domain.KindOf(err), tt.want)
			}
			if tt.password != "" && strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), tt.password) {
				t.Errorf("error mentions the password: %v", err)
			}
		})
	}
	if n := s.Count(fakeentra.OpToken); n > 8 {
		t.Errorf("token requests = %d: something retried", n)
	}
}

func TestFindMailbox(t *testing.T) {
	s := fakeentra.New(t)
	s.AddUser(fakeentra.User{ID: "u1", UserPrincipalName: "alice@corp.test", Mail: "Alice.Smith@contoso.test", AccountEnabled: true,
		ProxyAddresses: []string{"SMTP:Alice.Smith@contoso.test", "smtp:asmith@contoso.test", "X500:/o=ExchangeLabs/cn=alice", "SIP:alice@contoso.test"}})
	c := MustClient(t, s)
	for _, addr := range []string{"ALICE@corp.test", "alice.smith@contoso.test", "ASmith@Contoso.test"} {
		t.Run(addr, func(t *testing.T) {
			m, err := c.FindMailbox(ctx(t), addr)
			if err != nil || m.ID != "u1" {
				t.Fatalf("FindMailbox = %+v, %v", m, err)
			}
			want := "alice@corp.test,alice.smith@contoso.test,asmith@contoso.test"
			if got := strings.Join(m.Addresses, ","); got != want {
				t.Errorf("Addresses = %s, want %s", got, want)
			}
		})
	}
	if _, err := c.FindMailbox(ctx(t), "bob@contoso.test"); domain.KindOf(err) != domain.KindNotFound {
		t.Errorf("unknown address: %v, want not found", err)
	}
}

// message builds a MIME message with a text body and an attachment of n
// random bytes; it returns the message and the attachment.
func message(to string, n int) ([]byte, []byte) {
	att := make([]byte, n)
	rand.Read(att)
	enc := base64.StdEncoding.EncodeToString(att)
	var b strings.Builder
	fmt.Fprintf(&b, "From: alice@contoso.test\r\nTo: %s\r\nSubject: scan\r\nMessage-ID: <scan-1@scanner>\r\nMIME-Version: 1.0\r\n", to)
	b.WriteString("Content-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n--=_b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYour scan.\r\n--=_b\r\n")
	b.WriteString("Content-Type: application/pdf; name=\"scan.pdf\"\r\nContent-Disposition: attachment; filename=\"scan.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	for i := 0; i < len(enc); i += 76 {
		b.WriteString(enc[i:min(i+76, len(enc))] + "\r\n")
	}
	b.WriteString("--=_b--\r\n")
	return []byte(b.String()), att
}

func TestSendMail(t *testing.T) {
	s := fakeentra.New(t)
	s.AddUser(fakeentra.User{ID: "u1", UserPrincipalName: "alice@contoso.test", Mail: "alice@contoso.test", AccountEnabled: true})
	sl := new(sleeper)
	c := mustClientSleeping(t, s, sl)
	small, _ := message("bob@example.test", 1<<20)
	large, pdf := message("bob@example.test", 9<<20)
	tests := []struct {
		name     string
		msg      []byte
		faults   map[string]fakeentra.Fault
		restrict []string
		timeout  time.Duration
		wantKind domain.Kind // KindInternal: delivered
		wantVia  string
		waits    int // retries' waits, each of Retry-After (1 s) plus at most a tenth
	}{
		{name: "1 MB through sendMail", msg: small, wantVia: fakeentra.ViaSendMail},
		{name: "9 MB through a draft and an upload session", msg: large, wantVia: fakeentra.ViaDraft},
		{name: "429 retried after Retry-After", msg: small, wantVia: fakeentra.ViaSendMail,
			faults: map[string]fakeentra.Fault{fakeentra.OpSendMail: {Status: 429, RetryAfter: 1, Times: 2}}, waits: 2},
		{name: "503 on a chunk retried", msg: large, wantVia: fakeentra.ViaDraft,
			faults: map[string]fakeentra.Fault{fakeentra.OpUploadChunk: {Status: 503, RetryAfter: 1}}, waits: 1},
		{name: "503 persisting is transient", msg: small, timeout: 30 * time.Second, wantKind: domain.KindUpstream,
			faults: map[string]fakeentra.Fault{fakeentra.OpSendMail: {Status: 503, RetryAfter: 1, Times: 100}}},
		{name: "Retry-After beyond the deadline gives up at once", msg: small, timeout: 3 * time.Second, wantKind: domain.KindUpstream,
			faults: map[string]fakeentra.Fault{fakeentra.OpSendMail: {Status: 429, RetryAfter: 30}}},
		{name: "outside the Exchange scope is permanent", msg: small, restrict: []string{"someone-else"}, wantKind: domain.KindForbidden},
		{name: "bad request is permanent", msg: small, wantKind: domain.KindInvalid,
			faults: map[string]fakeentra.Fault{fakeentra.OpSendMail: {Status: 400, Code: "ErrorInvalidRecipients"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.ClearFaults()
			for op, f := range tt.faults {
				s.Inject(op, f)
			}
			s.RestrictMailSend(tt.restrict)
			defer s.RestrictMailSend(nil)
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 60 * time.Second
			}
			cx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			before, waitsBefore := len(s.Mailbox("u1")), len(sl.waits())
			start := time.Now()
			_, err := c.SendMail(cx, "u1", tt.msg)
			if time.Since(start) > timeout+2*time.Second {
				t.Errorf("SendMail took %v, well past its deadline %v", time.Since(start), timeout)
			}
			box := s.Mailbox("u1")
			if tt.wantKind != domain.KindInternal {
				if err == nil || domain.KindOf(err) != tt.wantKind {
					t.Fatalf("SendMail = %v (kind %v), want kind %v", err, domain.KindOf(err), tt.wantKind)
				}
				if len(box) != before {
					t.Errorf("a refused message was delivered")
				}
				return
			}
			if err != nil {
				t.Fatalf("SendMail = %v", err)
			}
			if w := sl.waits()[waitsBefore:]; len(w) != tt.waits {
				t.Errorf("waited %v, want %d waits", w, tt.waits)
			} else {
				for _, d := range w {
					if d < time.Second || d > 1100*time.Millisecond {
						t.Errorf("waited %v, want Retry-After (1 s) plus at most a tenth", d)
					}
				}
			}
			if len(box) != before+1 {
				t.Fatalf("delivered %d messages, want 1", len(box)-before)
			}
			got := box[len(box)-1]
			if got.Via != tt.wantVia {
				t.Errorf("via %s, want %s", got.Via, tt.wantVia)
			}
			if tt.wantVia == fakeentra.ViaSendMail && !bytes.Equal(got.MIME, tt.msg) {
				t.Errorf("sendMail MIME differs from the message")
			}
			if tt.wantVia == fakeentra.ViaDraft {
				if len(got.Attachments) != 1 || !bytes.Equal(got.Attachments[0].Data, pdf) || got.Attachments[0].Name != "scan.pdf" {
					t.Fatalf("attachments: %d", len(got.Attachments))
				}
				i := bytes.Index(tt.msg, []byte("\r\n--=_b\r\nContent-Type: application/pdf"))
				if !bytes.HasPrefix(got.MIME, tt.msg[:i]) {
					t.Errorf("the draft's headers and body changed")
				}
			}
		})
	}
}
