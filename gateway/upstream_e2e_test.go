package gateway_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeexchange"
	"github.com/apppass/apppass/gateway"
)

// exchangeRig is the rig with a fake Exchange Online, whose SMTP
// submission the gateway relays to when smtp is set.
type exchangeRig struct {
	*rig
	ex       *fakeexchange.Server
	upstream *gateway.SMTPUpstream // nil for the graph upstream
}

// newExchangeRig starts the rig and a fake Exchange where apppass holds
// Application SMTP.SendAsApp on a scope of Alice's mailbox; with smtp,
// the gateway delivers through it, else through Graph.
func newExchangeRig(t testing.TB, smtp bool, tune ...func(*gateway.SMTPUpstreamOptions)) *exchangeRig {
	t.Helper()
	return newExchangeRigWith(t, smtp, nil, tune...)
}

// newExchangeRigWith is newExchangeRig with the gateway's options changed
// by opts.
func newExchangeRigWith(t testing.TB, smtp bool, opts []rigOption, tune ...func(*gateway.SMTPUpstreamOptions)) *exchangeRig {
	t.Helper()
	base := newRig(t, opts...)
	ex := fakeexchange.NewTest(t, base.entra)
	ex.AddMailbox(fakeexchange.Mailbox{ID: base.alice.ID, Address: "alice@contoso.test", Aliases: []string{"a.smith@contoso.test"}})
	ex.AddMailbox(fakeexchange.Mailbox{ID: "b0b00000-0000-4000-8000-0000000000b0", Address: "bob@contoso.test"})
	ex.AssignRole(fakeentra.ClientID, fakeexchange.RoleSMTPSendAsApp, []string{base.alice.ID})
	er := &exchangeRig{rig: base, ex: ex}
	if !smtp {
		return er
	}
	o := gateway.SMTPUpstreamOptions{Addr: ex.SMTPAddr(), TLS: &tls.Config{RootCAs: ex.CertPool()}, Tokens: base.graph, Hostname: hostname}
	for _, f := range tune {
		f(&o)
	}
	u, err := gateway.NewSMTPUpstream(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.Close)
	er.upstream = u
	c := *base
	c.upstream = u
	c.serve()
	er.rig = &c
	return er
}

// part is one attachment of a test message.
type part struct {
	name, ctype string
	data        []byte
}

// randomBytes returns n random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// mimeMessage is a multipart/mixed message from Alice with a text body
// of textBytes and the given attachments, CRLF throughout.
func mimeMessage(to, extraHeaders string, textBytes int, parts ...part) []byte {
	var b bytes.Buffer
	b.WriteString("From: Alice <alice@contoso.test>\r\nTo: " + to + "\r\n" + extraHeaders + "Subject: test\r\nMessage-ID: <" + rand.Text() + "@scanner.local>\r\n")
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n--=_b\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
	line := strings.Repeat("Lorem ipsum dolor sit amet. ", 2) + "\r\n"
	for n := 0; n < textBytes; n += len(line) {
		b.WriteString(line)
	}
	for _, p := range parts {
		fmt.Fprintf(&b, "--=_b\r\nContent-Type: %s; name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", p.ctype, p.name, p.name)
		enc := base64.StdEncoding.EncodeToString(p.data)
		for i := 0; i < len(enc); i += 76 {
			b.WriteString(enc[i:min(i+76, len(enc))] + "\r\n")
		}
	}
	b.WriteString("--=_b--\r\n")
	return b.Bytes()
}

// signedMessage is an S/MIME-style signed message: every byte of the
// signed part (trailing spaces, a line that is only a dot, the exact
// folding) must arrive as sent or the signature breaks.
func signedMessage() []byte {
	enc := base64.StdEncoding.EncodeToString(randomBytes(1500))
	var sig string
	for i := 0; i < len(enc); i += 64 {
		sig += enc[i:min(i+64, len(enc))] + "\r\n"
	}
	return []byte("From: alice@contoso.test\r\nTo: bob@contoso.test\r\nSubject: signed\r\nMessage-ID: <signed@scanner.local>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256;\r\n\tboundary=\"----sig\"\r\n\r\n" +
		"This is an S/MIME signed message\r\n\r\n------sig\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		"Trailing spaces stay.   \r\n.\r\n..two dots\r\nTabs\tstay\t\r\nUnicode: Grüße\r\n\r\n" +
		"------sig\r\nContent-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"smime.p7s\"\r\n\r\n" +
		sig + "\r\n------sig--\r\n")
}

// sendCase is one message sent end to end.
type sendCase struct {
	name  string
	to    []string // envelope recipients
	msg   []byte
	parts []part
}

func sendCases() []sendCase {
	four := []part{}
	for i := range 4 {
		four = append(four, part{fmt.Sprintf("scan%d.pdf", i+1), "application/pdf", randomBytes(1_500_000)})
	}
	five := []part{{"big.pdf", "application/pdf", randomBytes(3_600_000)}, {"small.png", "image/png", randomBytes(100_000)}}
	thirty := []part{{"scan.pdf", "application/pdf", randomBytes(22_000_000)}}
	return []sendCase{
		{name: "200 KB", to: []string{"bob@contoso.test"}, msg: mimeMessage("bob@contoso.test", "", 200_000)},
		{name: "four 1.5 MB attachments", to: []string{"bob@contoso.test"}, msg: mimeMessage("bob@contoso.test", "", 1000, four...), parts: four},
		{name: "5 MB with a 100 KB attachment", to: []string{"bob@contoso.test"}, msg: mimeMessage("bob@contoso.test", "", 1000, five...), parts: five},
		{name: "30 MB", to: []string{"bob@contoso.test"}, msg: mimeMessage("bob@contoso.test", "", 1000, thirty...), parts: thirty},
		{name: "Bcc-only recipient", to: []string{"bob@contoso.test", "carol@fabrikam.test"}, msg: mimeMessage("bob@contoso.test", "", 1000)},
		{name: "S/MIME signed", to: []string{"bob@contoso.test"}, msg: signedMessage()},
	}
}

// smtplibManyScript sends each message of a JSON manifest in its own
// session (STARTTLS, AUTH PLAIN), as an old mail client would, and prints
// one line per message: its name and the server's answer.
const smtplibManyScript = `
import json, smtplib, ssl, sys
addr, cafile, user, password, manifest = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)
host, port = addr.rsplit(":", 1)
for m in json.load(open(manifest)):
    try:
        with smtplib.SMTP(host, int(port), local_hostname="printer.local", timeout=120) as s:
            s.starttls(context=ctx)
            s.login(user, password)
            refused = s.sendmail(m["from"], m["to"], open(m["file"], "rb").read())
            print(m["name"] + ": ok" if not refused else m["name"] + ": refused " + repr(refused))
    except smtplib.SMTPResponseException as e:
        print(m["name"] + ": " + str(e.smtp_code) + " " + e.smtp_error.decode(errors="replace"))
`

// requireTool finds a test tool, failing when APPPASS_REQUIRE_SERVERS
// says the run must have it.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("APPPASS_REQUIRE_SERVERS") != "" {
			t.Fatalf("%s is not installed, and APPPASS_REQUIRE_SERVERS says this run must test with it", name)
		}
		t.Skipf("%s is not installed; CI installs it", name)
	}
	return p
}

// writeCA writes the gateway's certificate for clients to trust.
func (r *rig) writeCA(t *testing.T, dir string) string {
	t.Helper()
	pem, err := os.ReadFile(r.certFile)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(f, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestUpstreamsEndToEnd sends the same messages with Python's smtplib
// through each upstream and checks what Exchange (or Graph) got.
func TestUpstreamsEndToEnd(t *testing.T) {
	python := requireTool(t, "python3")
	cases := sendCases()
	for _, upstream := range []string{"smtp", "graph"} {
		t.Run(upstream, func(t *testing.T) {
			r := newExchangeRig(t, upstream == "smtp")
			dir := t.TempDir()
			var manifest []map[string]any
			for i, c := range cases {
				f := filepath.Join(dir, fmt.Sprintf("m%d.eml", i))
				if err := os.WriteFile(f, c.msg, 0o600); err != nil {
					t.Fatal(err)
				}
				manifest = append(manifest, map[string]any{"name": c.name, "from": "alice@contoso.test", "to": c.to, "file": f})
			}
			mf := filepath.Join(dir, "manifest.json")
			b, _ := json.Marshal(manifest)
			script := filepath.Join(dir, "send.py")
			for f, data := range map[string][]byte{mf: b, script: []byte(smtplibManyScript)} {
				if err := os.WriteFile(f, data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, python, script, r.addr, r.writeCA(t, dir), "alice@contoso.test", r.password.SecretText, mf).CombinedOutput()
			if err != nil {
				t.Fatalf("python: %v\n%s", err, out)
			}
			for _, c := range cases {
				if !strings.Contains(string(out), c.name+": ok") {
					t.Errorf("%s not accepted:\n%s", c.name, out)
				}
			}
			if upstream == "smtp" {
				checkExchangeGot(t, r, cases)
			} else {
				checkGraphGot(t, r, cases)
			}
		})
	}
}

// checkExchangeGot: every message arrived byte for byte, with its
// envelope, and Graph was never asked to send.
func checkExchangeGot(t *testing.T, r *exchangeRig, cases []sendCase) {
	t.Helper()
	got := r.ex.SMTPMessages()
	if len(got) != len(cases) {
		t.Fatalf("Exchange got %d messages, want %d", len(got), len(cases))
	}
	for i, c := range cases {
		m := got[i]
		if !bytes.Equal(m.Data, c.msg) {
			t.Errorf("%s: bytes differ (got %d, sent %d)", c.name, len(m.Data), len(c.msg))
		}
		if m.From != "alice@contoso.test" || strings.Join(m.To, ",") != strings.Join(c.to, ",") || m.Mailbox != "alice@contoso.test" {
			t.Errorf("%s: envelope %s → %v as %s", c.name, m.From, m.To, m.Mailbox)
		}
	}
	if n := len(r.entra.Mailbox(r.alice.ID)); n != 0 {
		t.Errorf("Graph sent %d messages with the smtp upstream", n)
	}
}

// checkGraphGot: every message went through Graph, attachments whole,
// Bcc-only recipients reached, no drafts left behind.
func checkGraphGot(t *testing.T, r *exchangeRig, cases []sendCase) {
	t.Helper()
	box := r.entra.Mailbox(r.alice.ID)
	if len(box) != len(cases) {
		t.Fatalf("Graph sent %d messages, want %d", len(box), len(cases))
	}
	for i, c := range cases {
		m := box[i]
		if !equalFold(m.Recipients, c.to) {
			t.Errorf("%s: Graph delivered to %v, want %v", c.name, m.Recipients, c.to)
		}
		for _, p := range c.parts {
			if !bytes.Contains(m.MIME, []byte(base64.StdEncoding.EncodeToString(p.data[:57]))) && !hasAttachment(m, p) {
				t.Errorf("%s: attachment %s lost", c.name, p.name)
			}
		}
	}
	if n := r.entra.Drafts(r.alice.ID); n != 0 {
		t.Errorf("%d drafts left in Alice's Drafts", n)
	}
	for _, call := range r.entra.Calls() {
		if call.Op == fakeentra.OpCreateUploadSession && call.Status >= 400 {
			t.Errorf("an upload session was refused: %+v", call)
		}
	}
}

func hasAttachment(m fakeentra.SentMessage, p part) bool {
	for _, a := range m.Attachments {
		if a.Name == p.name && bytes.Equal(a.Data, p.data) {
			return true
		}
	}
	return false
}

func equalFold(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]bool{}
	for _, x := range a {
		seen[strings.ToLower(x)] = true
	}
	for _, x := range b {
		if !seen[strings.ToLower(x)] {
			return false
		}
	}
	return true
}

// TestSwaksThroughUpstreams sends four 1.5 MB attachments with swaks,
// which builds the MIME itself, through each upstream.
func TestSwaksThroughUpstreams(t *testing.T) {
	swaks := requireTool(t, "swaks")
	for _, upstream := range []string{"smtp", "graph"} {
		t.Run(upstream, func(t *testing.T) {
			r := newExchangeRig(t, upstream == "smtp")
			dir := t.TempDir()
			args := []string{"--to", "bob@contoso.test", "--from", "alice@contoso.test", "--server", r.addr, "--tls",
				"--auth", "PLAIN", "--auth-user", "alice@contoso.test", "--auth-password", r.password.SecretText,
				"--header", "Subject: four scans", "--silent", "2", "--timeout", "300"}
			var files [][]byte
			for i := range 4 {
				f := filepath.Join(dir, fmt.Sprintf("scan%d.pdf", i+1))
				data := randomBytes(1_500_000)
				files = append(files, data)
				if err := os.WriteFile(f, data, 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--attach-type", "application/pdf", "--attach", "@"+f)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			if out, err := exec.CommandContext(ctx, swaks, args...).CombinedOutput(); err != nil {
				t.Fatalf("swaks: %v\n%s", err, out)
			}
			var got []byte
			if upstream == "smtp" {
				msgs := r.ex.SMTPMessages()
				if len(msgs) != 1 {
					t.Fatalf("Exchange got %d messages", len(msgs))
				}
				got = msgs[0].Data
			} else {
				box := r.entra.Mailbox(r.alice.ID)
				if len(box) != 1 {
					t.Fatalf("Graph sent %d messages", len(box))
				}
				for _, f := range files {
					if !hasAttachment(box[0], part{name: "", data: f}) && !bytes.Contains(box[0].MIME, []byte(base64.StdEncoding.EncodeToString(f[:57]))) {
						t.Error("an attachment was lost")
					}
				}
				return
			}
			for _, f := range files {
				if !bytes.Contains(got, []byte(base64.StdEncoding.EncodeToString(f[:57]))) {
					t.Error("an attachment was lost")
				}
			}
		})
	}
}

// TestSMTPUpstreamFailures: Exchange's refusals and failures reach the
// device as answers it can act on, and nothing is sent twice.
func TestSMTPUpstreamFailures(t *testing.T) {
	msg := plainMessage("alice@contoso.test", "bob@contoso.test", "failures")
	t.Run("throttled stays throttled: 451", func(t *testing.T) {
		r := newExchangeRig(t, true)
		r.ex.InjectSMTP(fakeexchange.StageMail, fakeexchange.Fault{Code: 432, EnhancedCode: [3]int{4, 3, 2}, Message: "STOREDRV.ClientSubmit; sender thread limit exceeded", Times: 100})
		err := r.send("alice@contoso.test", r.password.SecretText, "alice@contoso.test", []string{"bob@contoso.test"}, msg)
		if got := reply(err); got != "451 4.3.2" {
			t.Errorf("answer %s (%v), want 451 4.3.2", got, err)
		}
		if len(r.ex.SMTPMessages()) != 0 {
			t.Error("a throttled message was recorded")
		}
	})
	t.Run("throttled once: retried within the transaction", func(t *testing.T) {
		r := newExchangeRig(t, true)
		r.ex.InjectSMTP(fakeexchange.StageMail, fakeexchange.Throttled)
		if err := r.send("alice@contoso.test", r.password.SecretText, "alice@contoso.test", []string{"bob@contoso.test"}, msg); err != nil {
			t.Fatal(err)
		}
		if n := len(r.ex.SMTPMessages()); n != 1 {
			t.Errorf("%d messages, want 1", n)
		}
	})
	t.Run("outside the management scope: a clear 5xx", func(t *testing.T) {
		r := newExchangeRig(t, true)
		r.ex.AssignRole(fakeentra.ClientID, fakeexchange.RoleSMTPSendAsApp, []string{"someone-else"})
		err := r.send("alice@contoso.test", r.password.SecretText, "alice@contoso.test", []string{"bob@contoso.test"}, msg)
		if got := reply(err); got != "554 5.7.3" || !strings.Contains(err.Error(), "SMTP.SendAsApp") {
			t.Errorf("answer %s (%v), want 554 5.7.3 naming the role", got, err)
		}
	})
	t.Run("SMTP AUTH disabled on the mailbox", func(t *testing.T) {
		r := newExchangeRig(t, true)
		r.ex.SetSMTPAuthDisabled("alice@contoso.test", true)
		err := r.send("alice@contoso.test", r.password.SecretText, "alice@contoso.test", []string{"bob@contoso.test"}, msg)
		if got := reply(err); got != "554 5.7.139" || !strings.Contains(err.Error(), "SmtpClientAuthenticationDisabled") {
			t.Errorf("answer %s (%v), want 554 5.7.139 naming the setting", got, err)
		}
	})
	t.Run("token endpoint down: 451", func(t *testing.T) {
		r := newExchangeRig(t, true)
		c, err := r.login("alice@contoso.test", r.password.SecretText)
		if err != nil {
			t.Fatal(err)
		}
		// The password was checked; now Entra goes down before apppass
		// has an Exchange token.
		r.entra.Inject(fakeentra.OpToken, fakeentra.Fault{Status: 503, Times: 1000})
		err = sendOn(c, "alice@contoso.test", []string{"bob@contoso.test"}, msg)
		if got := reply(err); got != "451 4.3.0" {
			t.Errorf("answer %s (%v), want 451 4.3.0", got, err)
		}
		if r.ex.SMTPCounts().Sessions != 0 {
			t.Error("apppass connected to Exchange without a token")
		}
	})
	t.Run("dropped mid-DATA: 451, then sent once", func(t *testing.T) {
		r := newExchangeRig(t, true)
		big := mimeMessage("bob@contoso.test", "", 1000, part{"scan.pdf", "application/pdf", randomBytes(4 << 20)})
		r.ex.InjectSMTP(fakeexchange.StageData, fakeexchange.Fault{DropAfter: 64 << 10})
		err := r.send("alice@contoso.test", r.password.SecretText, "alice@contoso.test", []string{"bob@contoso.test"}, big)
		if got := reply(err); got != "451 4.3.0" {
			t.Errorf("answer %s (%v), want 451 4.3.0", got, err)
		}
		if r.ex.SMTPCounts().Dropped != 1 || len(r.ex.SMTPMessages()) != 0 {
			t.Fatalf("counts %+v, %d messages", r.ex.SMTPCounts(), len(r.ex.SMTPMessages()))
		}
		// The device sends it again, as a 451 tells it to.
		if err := r.send("alice@contoso.test", r.password.SecretText, "alice@contoso.test", []string{"bob@contoso.test"}, big); err != nil {
			t.Fatal(err)
		}
		if got := r.ex.SMTPMessages(); len(got) != 1 || !bytes.Equal(got[0].Data, big) {
			t.Errorf("%d messages after the retry, want exactly 1, unchanged", len(got))
		}
	})
	t.Run("Exchange's permanent refusal passes with its code", func(t *testing.T) {
		r := newExchangeRig(t, true)
		r.ex.InjectSMTP(fakeexchange.StageData, fakeexchange.Fault{Code: 550, EnhancedCode: [3]int{5, 7, 520}, Message: "Access denied, Your organization does not allow external forwarding"})
		err := r.send("alice@contoso.test", r.password.SecretText, "alice@contoso.test", []string{"bob@contoso.test"}, msg)
		if got := reply(err); got != "550 5.7.520" || !strings.Contains(err.Error(), "(ref ") {
			t.Errorf("answer %s (%v), want 550 5.7.520 with a reference", got, err)
		}
	})
}

// TestSMTPUpstreamQueuesWithinLimits: more messages at once than Exchange
// allows a mailbox are queued, not refused, and Exchange never has to
// say no.
func TestSMTPUpstreamQueuesWithinLimits(t *testing.T) {
	// The gateway lets an owner have two messages in flight (SPEC §10), so
	// Exchange's connection limit is brought down to one to be tested.
	r := newExchangeRig(t, true, func(o *gateway.SMTPUpstreamOptions) { o.MaxConnections, o.MaxMessages, o.Window = 1, 5, 2*time.Second })
	r.ex.SetSMTPLimits(1, 5, 2*time.Second)
	const devices, each = 2, 5
	var wg sync.WaitGroup
	errs := make(chan error, devices*each)
	for d := range devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				msg := plainMessage("alice@contoso.test", "bob@contoso.test", fmt.Sprintf("q%d-%d", d, i))
				errs <- r.send("alice@contoso.test", r.password.SecretText, "alice@contoso.test", []string{"bob@contoso.test"}, msg)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("send: %v", err)
		}
	}
	c := r.ex.SMTPCounts()
	if n := len(r.ex.SMTPMessages()); n != devices*each {
		t.Errorf("%d messages, want %d", n, devices*each)
	}
	if c.ConnectionLimited != 0 || c.RateLimited != 0 || c.PeakConnections > 1 {
		t.Errorf("Exchange had to refuse: %+v", c)
	}
}

// TestGraphUpstreamRefusesHeaderRecipients: Graph delivers to the
// header's recipients, so one the envelope does not name is refused
// rather than reached (SPEC §10).
func TestGraphUpstreamRefusesHeaderRecipients(t *testing.T) {
	r := newExchangeRig(t, false)
	msg := mimeMessage("bob@contoso.test, eve@fabrikam.test", "", 100)
	err := r.send("alice@contoso.test", r.password.SecretText, "alice@contoso.test", []string{"bob@contoso.test"}, msg)
	if got := reply(err); got != "550 5.7.1" {
		t.Errorf("answer %s (%v), want 550 5.7.1", got, err)
	}
	if n := len(r.entra.Mailbox(r.alice.ID)); n != 0 {
		t.Errorf("Graph sent %d messages", n)
	}
}
