package gateway_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"net/smtp"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gosasl "github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/gateway"
)

// refPattern finds the reference in an answer: the session's
// correlation id.
var refPattern = regexp.MustCompile(`\(ref ([0-9a-f]{6})\)`)

func TestAuthOnlyAfterTLS(t *testing.T) {
	r := newRig(t)
	conn, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := smtp.NewClient(conn, hostname)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("scanner.local"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("AUTH offered before STARTTLS")
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Error("STARTTLS not offered")
	}
	if err := c.Mail("alice@contoso.test"); reply(err) != "530 5.7.0" {
		t.Errorf("MAIL before AUTH: %s, want 530 5.7.0", reply(err))
	}
	if err := c.StartTLS(r.tlsConfig()); err != nil {
		t.Fatal(err)
	}
	if ok, mechs := c.Extension("AUTH"); !ok || !strings.Contains(mechs, "PLAIN") || !strings.Contains(mechs, "LOGIN") {
		t.Errorf("after STARTTLS: AUTH %v %q, want PLAIN and LOGIN", ok, mechs)
	}

	tc, err := tls.Dial("tcp", r.tlsAddr, r.tlsConfig())
	if err != nil {
		t.Fatal(err)
	}
	ic, err := smtp.NewClient(tc, hostname)
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	if err := ic.Hello("scanner.local"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := ic.Extension("AUTH"); !ok {
		t.Error("implicit TLS listener does not offer AUTH")
	}
	if err := ic.Auth(smtp.PlainAuth("", "alice@contoso.test", r.password.SecretText, hostname)); err != nil {
		t.Errorf("AUTH on the implicit-TLS listener: %v", err)
	}

	old := r.tlsConfig()
	old.MinVersion, old.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	if _, err := tls.Dial("tcp", r.tlsAddr, old); err == nil {
		t.Error("TLS 1.1 accepted")
	}
}

func TestLoginAnswers(t *testing.T) {
	r := newRig(t)
	noApp := fakeentra.User{ID: "c0000000-0000-4000-8000-0000000000c0", UserPrincipalName: "carol@contoso.test", Mail: "carol@contoso.test", AccountEnabled: true}
	r.entra.AddUser(noApp)
	lookalike := r.entra.AddEmployeeApp(noApp.ID, true) // not recorded in the store: not apppass's
	carolSecret := r.entra.AddSecret(lookalike.ID, "x", time.Time{})
	good := r.password.SecretText
	// One character changed: "x", unless the password already ends in one.
	last := "x"
	if strings.HasSuffix(good, "x") {
		last = "y"
	}
	wrong := good[:len(good)-1] + last
	tests := []struct {
		name, user, password, want string
	}{
		{"right password", "alice@contoso.test", good, "235"},
		{"user name in capitals", "ALICE@Contoso.TEST", good, "235"},
		{"proxy address", "a.smith@contoso.test", good, "235"},
		{"wrong password", "alice@contoso.test", wrong, "535 5.7.8"},
		{"unknown user", "nobody@contoso.test", good, "535 5.7.8"},
		{"someone else's password", "bob@contoso.test", good, "535 5.7.8"},
		{"look-alike application", "carol@contoso.test", carolSecret.SecretText, "535 5.7.8"},
	}
	var msgs []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.login(tt.user, tt.password)
			got := reply(err)
			if got == "250" {
				got = "235"
			}
			if got != tt.want {
				t.Fatalf("AUTH PLAIN: %s, want %s", got, tt.want)
			}
			if err != nil {
				msgs = append(msgs, refPattern.ReplaceAllString(err.Error(), "(ref …)"))
			}
		})
	}
	for _, m := range msgs[1:] {
		if m != msgs[0] {
			t.Errorf("refusals differ: %q vs %q", m, msgs[0])
		}
	}

	// LOGIN, through go-smtp's client.
	c, err := gosmtp.DialStartTLS(r.addr, r.tlsConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(gosasl.NewLoginClient("alice@contoso.test", good)); err != nil {
		t.Errorf("AUTH LOGIN: %v", err)
	}
}

func TestCacheSparesEntra(t *testing.T) {
	r := newRig(t)
	if _, err := r.graph.FindMailbox(context.Background(), "bob@contoso.test"); err != nil { // apppass's own token
		t.Fatal(err)
	}
	r.entra.ResetCalls()
	for i := range 20 {
		msg := plainMessage("alice@contoso.test", "bob@contoso.test", fmt.Sprintf("m%d", i))
		if err := r.send("alice@contoso.test", r.password.SecretText, "alice@contoso.test", []string{"bob@contoso.test"}, msg); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		r.clock.advance(3 * time.Second) // 20 messages in a minute
	}
	if n := r.entra.Count(fakeentra.OpToken); n > 2 {
		t.Errorf("20 messages cost %d token requests, want at most 2", n)
	}
	if n := len(r.entra.Mailbox(r.alice.ID)); n != 20 {
		t.Errorf("delivered %d, want 20", n)
	}
}

func TestRemovalAndDisablement(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// act removes access; recorded reports whether the store learns of
		// it (then the gateway must stop at once, else within 60 s).
		act      func(r *rig)
		recorded bool
	}{
		{"deleted through apppass", func(r *rig) {
			removeInEntra(r)
			if err := r.db.CredentialRemoved(ctx, r.alice.ID, r.app.ID, domain.Password{KeyID: r.password.KeyID, Hint: r.password.Hint}); err != nil {
				r.t.Fatal(err)
			}
		}, true},
		{"removed in Entra behind apppass's back", removeInEntra, false},
		{"owner disabled, recorded by offboarding", func(r *rig) {
			disable(r)
			if err := r.db.RecordRemoval(ctx, domain.Removal{OwnerID: r.alice.ID, Reason: "disabled"}); err != nil {
				r.t.Fatal(err)
			}
		}, true},
		{"owner disabled, not yet seen by offboarding", disable, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			if _, err := r.login("alice@contoso.test", r.password.SecretText); err != nil {
				t.Fatal(err)
			}
			tt.act(r)
			r.clock.advance(6 * time.Second) // one removal poll
			_, err := r.login("alice@contoso.test", r.password.SecretText)
			if tt.recorded && reply(err) != "535 5.7.8" {
				t.Fatalf("right after a recorded removal: %s, want 535 5.7.8", reply(err))
			}
			r.clock.advance(55 * time.Second) // 61 s after the login
			if _, err := r.login("alice@contoso.test", r.password.SecretText); reply(err) != "535 5.7.8" {
				t.Fatalf("61 s after: %s, want 535 5.7.8", reply(err))
			}
		})
	}
}

func removeInEntra(r *rig) {
	r.t.Helper()
	req := fmt.Sprintf(`{"keyId":%q}`, r.password.KeyID)
	tok := graphToken(r)
	httpReq, _ := newJSONRequest(r.entra.GraphBaseURL()+"/applications/"+r.app.ID+"/removePassword", tok, req)
	resp, err := r.entra.Client().Do(httpReq)
	if err != nil || resp.StatusCode != 204 {
		r.t.Fatalf("removePassword: %v %v", resp, err)
	}
	resp.Body.Close()
}

func disable(r *rig) {
	u := r.alice
	u.AccountEnabled = false
	r.entra.AddUser(u)
}

func TestGuessingIsBounded(t *testing.T) {
	r := newRig(t)
	if _, err := r.graph.FindMailbox(context.Background(), "bob@contoso.test"); err != nil {
		t.Fatal(err)
	}
	r.entra.ResetCalls()
	var replies []string
	for i := range 30 {
		_, err := r.login("alice@contoso.test", fmt.Sprintf("guess-%02d-%s", i, strings.Repeat("x", 30)))
		replies = append(replies, reply(err))
	}
	for i, got := range replies {
		want := "535 5.7.8"
		if i >= 5 {
			want = "454 4.7.0"
		}
		if got != want {
			t.Errorf("attempt %d: %s, want %s", i+1, got, want)
		}
	}
	if n := r.entra.Count(fakeentra.OpToken); n > 5 {
		t.Errorf("30 wrong attempts cost Entra %d token requests, want at most 5", n)
	}
	if n := r.alerts.count(); n != 1 {
		t.Errorf("helpdesk alerted %d times, want once", n)
	}
	if _, err := r.login("alice@contoso.test", r.password.SecretText); reply(err) != "454 4.7.0" {
		t.Errorf("right password from the locked-out address: %s, want 454 4.7.0", reply(err))
	}
	c := r.dial("127.0.0.2")
	if err := c.Auth(smtp.PlainAuth("", "alice@contoso.test", r.password.SecretText, hostname)); err != nil {
		t.Errorf("right password from another address: %v", err)
	}
	r.clock.advance(16 * time.Minute)
	if _, err := r.login("alice@contoso.test", r.password.SecretText); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

// A password apppass just made that Entra's token service does not take
// yet is asked about again while the AUTH waits, and gets in once Entra
// takes it; a wrong password with the same hint gets the same 535 as any
// wrong password: no "not active yet" answer tells that a hint exists.
func TestNewPasswordReplication(t *testing.T) {
	var (
		mu       sync.Mutex
		entraNow = time.Now()
		slept    time.Duration
	)
	r := newRig(t, func(o *gateway.Options) {
		o.ReplicationRetry, o.ReplicationWait = 5*time.Second, 20*time.Second
		o.Sleep = func(ctx context.Context, d time.Duration) error { // Entra's clock moves while the gateway waits
			mu.Lock()
			defer mu.Unlock()
			entraNow, slept = entraNow.Add(d), slept+d
			return nil
		}
	})
	ctx := context.Background()
	r.entra.SetNow(func() time.Time { mu.Lock(); defer mu.Unlock(); return entraNow })
	r.entra.SetSecretLag(12 * time.Second)
	fresh := r.entra.AddSecret(r.app.ID, "printer", time.Time{})
	id, err := r.db.BeginCredential(ctx, r.alice.ID, r.app.ID, "printer", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.db.CredentialIssued(ctx, id, domain.Password{KeyID: fresh.KeyID, Hint: fresh.Hint, Created: time.Now(), Name: "printer"}, domain.CredentialDelivered); err != nil {
		t.Fatal(err)
	}
	r.entra.ResetCalls()
	if _, err := r.login("alice@contoso.test", fresh.SecretText); err != nil {
		t.Errorf("new password, replicated while the AUTH waited: %s, want 235", reply(err))
	}
	if n := r.entra.Count(fakeentra.OpToken); n < 2 || slept < 12*time.Second {
		t.Errorf("Entra asked %d times over %s, want again after the lag", n, slept)
	}
	// Same hint, wrong rest: asked until the wait is over, then 535.
	wrong := fresh.Hint + strings.Repeat("q", len(fresh.SecretText)-len(fresh.Hint))
	if _, err := r.login("alice@contoso.test", wrong); reply(err) != "535 5.7.8" {
		t.Errorf("a wrong password with a new password's hint: %s, want 535 5.7.8", reply(err))
	}
	other := "zz" + fresh.SecretText[2:]
	if fresh.SecretText[:2] == "zz" {
		other = "yy" + fresh.SecretText[2:]
	}
	if _, err := r.login("alice@contoso.test", other); reply(err) != "535 5.7.8" {
		t.Errorf("a wrong password with another hint: %s, want 535 5.7.8", reply(err))
	}
}

func TestSenderAndSizeRules(t *testing.T) {
	r := newRig(t, func(o *gateway.Options) { o.MaxBytes = 1 << 20 })
	pw := r.password.SecretText
	c := r.dial("")
	if ok, size := c.Extension("SIZE"); !ok || size != "1048576" {
		t.Errorf("EHLO SIZE = %v %q, want 1048576", ok, size)
	}
	big := append(plainMessage("alice@contoso.test", "bob@contoso.test", "big"), bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\r\n"), 20000)...)
	many := make([]string, 501)
	for i := range many {
		many[i] = fmt.Sprintf("r%d@example.test", i)
	}
	tests := []struct {
		name, from string
		to         []string
		msg        []byte
		want       string
	}{
		{"own address", "alice@contoso.test", []string{"bob@contoso.test"}, plainMessage("alice@contoso.test", "bob@contoso.test", "ok"), "250"},
		{"own proxy address", "A.Smith@contoso.test", []string{"bob@contoso.test"}, plainMessage("a.smith@contoso.test", "bob@contoso.test", "alias"), "250"},
		{"someone else's envelope sender", "bob@contoso.test", []string{"bob@contoso.test"}, plainMessage("alice@contoso.test", "bob@contoso.test", "x"), "550 5.7.1"},
		{"someone else's From", "alice@contoso.test", []string{"bob@contoso.test"}, plainMessage("ceo@contoso.test", "bob@contoso.test", "x"), "550 5.7.1"},
		{"too big", "alice@contoso.test", []string{"bob@contoso.test"}, big, "552 5.3.4"},
		{"501 recipients", "alice@contoso.test", many, plainMessage("alice@contoso.test", "list@example.test", "many"), "452 4.5.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reply(r.send("alice@contoso.test", pw, tt.from, tt.to, tt.msg)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	// A blind copy is in the envelope only: Graph must learn of it.
	msg := plainMessage("alice@contoso.test", "bob@contoso.test", "bcc")
	if err := r.send("alice@contoso.test", pw, "alice@contoso.test", []string{"bob@contoso.test", "hidden@example.test"}, msg); err != nil {
		t.Fatal(err)
	}
	box := r.entra.Mailbox(r.alice.ID)
	last := box[len(box)-1]
	if got := strings.Join(last.Recipients, ","); got != "bob@contoso.test,hidden@example.test" {
		t.Errorf("recipients Graph saw: %s", got)
	}
	if !bytes.HasSuffix(last.MIME, msg) {
		t.Errorf("the message changed beyond a prepended Bcc")
	}
}

func TestDelivery(t *testing.T) {
	// A 20 MB PDF is a 27.7 MB message in base64: within the default
	// limit (35 MiB). A 503 that persists is given up after 6 attempts (5 s
	// of Retry-After).
	r := newRig(t)
	pw := r.password.SecretText
	oneMB, _ := pdfMessage(700 << 10)
	twentyMB, pdf := pdfMessage(20 << 20)

	t.Run("1 MB through sendMail, byte-identical", func(t *testing.T) {
		if err := r.send("alice@contoso.test", pw, "alice@contoso.test", []string{"bob@contoso.test"}, oneMB); err != nil {
			t.Fatal(err)
		}
		box := r.entra.Mailbox(r.alice.ID)
		got := box[len(box)-1]
		if got.Via != fakeentra.ViaSendMail || !bytes.Equal(got.MIME, oneMB) {
			t.Errorf("via %s, identical %v (%d vs %d bytes)", got.Via, bytes.Equal(got.MIME, oneMB), len(got.MIME), len(oneMB))
		}
	})
	t.Run("20 MB PDF through an upload session, PDF byte-identical", func(t *testing.T) {
		if err := r.send("alice@contoso.test", pw, "alice@contoso.test", []string{"bob@contoso.test"}, twentyMB); err != nil {
			t.Fatal(err)
		}
		box := r.entra.Mailbox(r.alice.ID)
		got := box[len(box)-1]
		if got.Via != fakeentra.ViaDraft || len(got.Attachments) != 1 {
			t.Fatalf("via %s with %d attachments", got.Via, len(got.Attachments))
		}
		if a := got.Attachments[0]; !bytes.Equal(a.Data, pdf) || a.Name != "scan.pdf" || a.ContentType != "application/pdf" {
			t.Errorf("PDF: %d bytes %q %s, identical %v", len(a.Data), a.Name, a.ContentType, bytes.Equal(a.Data, pdf))
		}
		cut := bytes.Index(twentyMB, []byte("\r\n------=_scan\r\nContent-Type: application/pdf"))
		if !bytes.HasPrefix(got.MIME, twentyMB[:cut]) {
			t.Errorf("headers and body text changed")
		}
		if n := r.entra.Count(fakeentra.OpUploadChunk); n < 7 {
			t.Errorf("%d chunks for 20 MB, want several of at most 4 MB", n)
		}
	})
	t.Run("429 retried after Retry-After", func(t *testing.T) {
		r.entra.Inject(fakeentra.OpSendMail, fakeentra.Fault{Status: 429, RetryAfter: 1})
		before := len(r.entra.Mailbox(r.alice.ID))
		if err := r.send("alice@contoso.test", pw, "alice@contoso.test", []string{"bob@contoso.test"}, plainMessage("alice@contoso.test", "bob@contoso.test", "t429")); err != nil {
			t.Fatalf("got %s, want 250", reply(err))
		}
		if n := len(r.entra.Mailbox(r.alice.ID)) - before; n != 1 {
			t.Errorf("delivered %d, want 1", n)
		}
	})
	t.Run("503 persisting gives 451", func(t *testing.T) {
		r.entra.Inject(fakeentra.OpSendMail, fakeentra.Fault{Status: 503, RetryAfter: 1, Times: 50})
		defer r.entra.ClearFaults()
		err := r.send("alice@contoso.test", pw, "alice@contoso.test", []string{"bob@contoso.test"}, plainMessage("alice@contoso.test", "bob@contoso.test", "t503"))
		if reply(err) != "451 4.3.0" {
			t.Errorf("got %s, want 451 4.3.0", reply(err))
		}
	})
	t.Run("permanent refusal gives 554 with a reference", func(t *testing.T) {
		r.entra.RestrictMailSend([]string{"someone-else"})
		defer r.entra.RestrictMailSend(nil)
		err := r.send("alice@contoso.test", pw, "alice@contoso.test", []string{"bob@contoso.test"}, plainMessage("alice@contoso.test", "bob@contoso.test", "t403"))
		m := refPattern.FindStringSubmatch(fmt.Sprint(err))
		if reply(err) != "554 5.0.0" || m == nil {
			t.Fatalf("got %v, want 554 5.0.0 with a reference", err)
		}
		// The reference is the session's correlation id, on its log lines.
		if !strings.Contains(r.logs.String(), `"ref":"`+m[1]+`"`) {
			t.Errorf("reference %s is on no log line:\n%s", m[1], r.logs.String())
		}
	})
}

func TestRecordsAndLastUse(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	msg := plainMessage("alice@contoso.test", "bob@contoso.test", "audit-me")
	if err := r.send("alice@contoso.test", r.password.SecretText, "alice@contoso.test", []string{"bob@contoso.test"}, msg); err != nil {
		t.Fatal(err)
	}
	used, err := r.db.PasswordsLastUsed(ctx, r.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if at, ok := used[r.password.KeyID]; !ok || !at.Equal(r.clock.now().Truncate(time.Millisecond)) {
		t.Errorf("last used = %v, want %v for the password's key", used, r.clock.now())
	}
	events, err := r.db.AuditFor(ctx, r.alice.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	var login, send *domain.AuditEvent
	for i := range events {
		switch events[i].Action {
		case "smtp-login":
			login = &events[i]
		case "smtp-send":
			send = &events[i]
		}
	}
	if login == nil || login.KeyID != r.password.KeyID || !strings.Contains(login.Name, "127.0.0.1") || login.Outcome != "ok" {
		t.Errorf("login event: %+v", login)
	}
	if send == nil || send.KeyID != r.password.KeyID || send.Outcome != "ok" || send.Ref == "" ||
		!strings.Contains(send.Name, "1 recipients") || !strings.Contains(send.Name, fmt.Sprintf("%d bytes", len(msg))) ||
		!strings.Contains(send.Name, "<audit-me@scanner.local>") {
		t.Errorf("send event: %+v", send)
	}
	for _, e := range events {
		if strings.Contains(fmt.Sprintf("%+v", e), r.password.SecretText) || strings.Contains(fmt.Sprintf("%+v", e), "Hello from the scanner") {
			t.Errorf("audit event holds the password or content: %+v", e)
		}
	}
}

func TestPasswordNeverLogged(t *testing.T) {
	r := newRig(t)
	pw := r.password.SecretText
	wrong := pw[:len(pw)-4] + "WXYZ"
	_ = r.send("alice@contoso.test", pw, "alice@contoso.test", []string{"bob@contoso.test"}, plainMessage("alice@contoso.test", "bob@contoso.test", "leak"))
	_, _ = r.login("alice@contoso.test", wrong)
	_, _ = r.login("nobody@contoso.test", wrong)
	c, err := gosmtp.DialStartTLS(r.addr, r.tlsConfig())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Auth(gosasl.NewLoginClient("alice@contoso.test", pw))
	c.Close()
	for i := 0; i < 7; i++ { // into the guessing limit, and its log line
		_, _ = r.login("alice@contoso.test", wrong)
	}
	if !strings.Contains(r.trace.String(), "AUTH PLAIN [redacted]") {
		t.Fatalf("the protocol trace is empty or unredacted:\n%s", r.trace.String())
	}
	events, _ := r.db.AuditFor(context.Background(), r.alice.ID, 100)
	outputs := map[string]string{"log": r.logs.String(), "smtp trace": r.trace.String(), "audit": fmt.Sprintf("%+v", events)}
	for name, out := range outputs {
		for _, secret := range []string{pw, wrong, base64.StdEncoding.EncodeToString([]byte(pw)), base64.StdEncoding.EncodeToString([]byte("\x00alice@contoso.test\x00" + pw)),
			pw[6:30], "Hello from the scanner"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s holds %q", name, secret)
			}
		}
	}
}

func TestCertificateRotation(t *testing.T) {
	r := newRig(t)
	serial := func() int64 {
		c, err := tls.Dial("tcp", r.tlsAddr, r.tlsConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	}
	if got := serial(); got != 1 {
		t.Fatalf("serial %d, want 1", got)
	}
	time.Sleep(10 * time.Millisecond) // a different modification time
	r.writeCert(2)
	r.clock.advance(time.Second)
	if got := serial(); got != 2 {
		t.Errorf("after rotation: serial %d, want 2", got)
	}
}

func TestExpiredPassword(t *testing.T) {
	r := newRig(t)
	hourAgo := time.Now().Add(-time.Hour)
	r.entra.SetNow(func() time.Time { return hourAgo })
	soon := r.entra.AddSecret(r.app.ID, "expiring", time.Now().Add(30*time.Second))
	r.entra.SetNow(nil)
	if _, err := r.login("alice@contoso.test", soon.SecretText); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	r.entra.ResetCalls()
	r.clock.advance(31 * time.Second) // the cached login ends with the password
	if _, err := r.login("alice@contoso.test", soon.SecretText); reply(err) != "535 5.7.8" {
		t.Errorf("after expiry: %s, want 535 5.7.8", reply(err))
	}
	if n := r.entra.Count(fakeentra.OpToken); n != 0 {
		t.Errorf("an expired password cost %d token requests, want 0", n)
	}
}
