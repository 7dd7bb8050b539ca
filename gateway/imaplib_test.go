package gateway_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
)

// needTool returns the path of an external client, skipping the test
// when it is missing unless APPPASS_REQUIRE_SERVERS says it must run.
func needTool(t *testing.T, name string) string {
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

// imaplibScript reads Alice's mailbox through the gateway with Python's
// imaplib as a ticketing system would: STARTTLS and LOGIN, search, fetch,
// flag, IDLE (raw commands: imaplib has none), then implicit TLS with
// AUTHENTICATE PLAIN. It prints what it sees, one fact a line.
const imaplibScript = `
import imaplib, ssl, sys
host, plain_port, tls_port, cafile, user, password, wrong, out = sys.argv[1:9]
ctx = ssl.create_default_context(cafile=cafile)

def say(*a):
    print(*a, flush=True)

m = imaplib.IMAP4(host, int(plain_port), timeout=30)
say("caps before tls:", " ".join(sorted(m.capabilities)))
try:
    m.login(user, password)
    say("login before tls: accepted")
except imaplib.IMAP4.error as e:
    say("login before tls:", e)
m.starttls(ssl_context=ctx)
try:
    m.login(user, wrong)
except imaplib.IMAP4.error as e:
    say("wrong password:", e)
typ, _ = m.login(user, password)
say("login:", typ)
typ, caps = m.capability()
say("caps after login:", caps[0].decode())
typ, data = m.select("INBOX")
say("select:", typ, data[0].decode())
typ, data = m.uid("SEARCH", None, "ALL")
uids = data[0].decode().split()
say("uids:", " ".join(uids))
typ, data = m.uid("FETCH", uids[0], "(BODY.PEEK[])")
open(out, "wb").write(data[0][1])
typ, data = m.uid("STORE", uids[0], "+FLAGS", "(\\Flagged)")
typ, data = m.uid("FETCH", uids[0], "(FLAGS)")
say("flags:", data[0].decode())
tag = m._new_tag()
m.send(tag + b" IDLE\r\n")
say("idle:", m.readline().decode().strip())
say("idling")
say("idle update:", m.readline().decode().strip())
m.send(b"DONE\r\n")
say("idle done:", m.readline().decode().strip())
m.logout()

m = imaplib.IMAP4_SSL(host, int(tls_port), ssl_context=ctx, timeout=30)
typ, _ = m.authenticate("PLAIN", lambda _: ("\0%s\0%s" % (user, password)).encode())
say("implicit plain:", typ)
typ, data = m.select("INBOX", readonly=True)
say("implicit select:", data[0].decode())
m.logout()
`

func TestPythonImaplib(t *testing.T) {
	python := needTool(t, "python3")
	r := newRig(t)
	r.allowReading(domain.Scope{Send: true, Read: true})
	msg := plainMessage("bob@contoso.test", "alice@contoso.test", "first")
	if _, err := r.read.exchange.Deliver(r.alice.Mail, msg); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cafile, script, out := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "read.py"), filepath.Join(dir, "fetched.eml")
	writeFile(t, cafile, readFile(t, r.certFile))
	writeFile(t, script, []byte(imaplibScript))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, plainPort := splitPort(t, r.read.imap)
	_, tlsPort := splitPort(t, r.read.imaps)
	cmd := exec.CommandContext(ctx, python, script, "127.0.0.1", plainPort, tlsPort, cafile, "alice@contoso.test",
		r.password.SecretText, r.password.SecretText[:20]+"wrongwrongwrong", out)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		got.WriteString(sc.Text() + "\n")
		if sc.Text() == "idling" {
			// New mail while the client idles: Exchange's own untagged
			// EXISTS must reach it through the gateway.
			if _, err := r.read.exchange.Deliver(r.alice.Mail, plainMessage("bob@contoso.test", "alice@contoso.test", "second")); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("python: %v\n%s\n%s", err, got.String(), stderr.String())
	}
	for _, m := range missing(got.String(),
		"caps before tls: CHILDREN ID IDLE IMAP4 IMAP4REV1 LITERAL+ LOGINDISABLED NAMESPACE SASL-IR STARTTLS UIDPLUS UNSELECT\n",
		"login before tls: b'[PRIVACYREQUIRED] Use STARTTLS first",
		"wrong password: b'[AUTHENTICATIONFAILED] Authentication failed. (ref ",
		"login: OK",
		"caps after login: IMAP4rev1 ", // Exchange's (the fake's), not apppass's
		"uids: 1\n",
		`flags: 1 (UID 1 FLAGS (\flagged))`, // as the fake spells it
		"idle: + idling",
		"idle update: * 2 EXISTS",
		" OK IDLE completed",
		"implicit plain: OK",
		"implicit select: 2",
	) {
		t.Errorf("imaplib output lacks %q:\n%s", m, got.String())
	}
	if fetched := readFile(t, out); string(fetched) != string(msg) {
		t.Errorf("fetched %q, want Exchange's message %q", fetched, msg)
	}
	box, err := r.read.exchange.Messages(ctx, r.alice.Mail)
	if err != nil || len(box) != 2 || !strings.Contains(strings.ToLower(strings.Join(box[0].Flags, " ")), `\flagged`) {
		t.Errorf("Exchange's mailbox after the session: %+v, %v", box, err)
	}
}

func writeFile(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func splitPort(t *testing.T, addr string) (string, string) {
	t.Helper()
	i := strings.LastIndex(addr, ":")
	return addr[:i], addr[i+1:]
}
