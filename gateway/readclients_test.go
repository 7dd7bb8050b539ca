package gateway_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
)

// deliverN puts n small messages in Alice's mailbox at Exchange and
// returns them.
func deliverN(t *testing.T, r *rig, n int) [][]byte {
	t.Helper()
	var out [][]byte
	for i := range n {
		m := plainMessage("bob@contoso.test", "alice@contoso.test", fmt.Sprintf("msg-%d", i+1))
		if _, err := r.read.exchange.Deliver(r.alice.Mail, m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// caFile writes the gateway's certificate for a client to trust.
func caFile(t *testing.T, r *rig) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "ca.pem")
	writeFile(t, f, readFile(t, r.certFile))
	return f
}

func runTool(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

func TestCurlIMAP(t *testing.T) {
	curl := needTool(t, "curl")
	r := newRig(t)
	r.allowReading(domain.Scope{Read: true})
	msgs := deliverN(t, r, 2)
	ca, creds := caFile(t, r), "alice@contoso.test:"+r.password.SecretText
	// STARTTLS; curl picks AUTHENTICATE PLAIN with an initial response.
	out, err := runTool(t, curl, "-sS", "--ssl-reqd", "--cacert", ca, "imap://127.0.0.1:"+port(r.read.imap)+"/INBOX", "-u", creds, "-X", "UID SEARCH ALL")
	if err != nil || !strings.Contains(out, "* SEARCH 1 2") {
		t.Errorf("curl UID SEARCH: %v\n%s", err, out)
	}
	out, err = runTool(t, curl, "-sS", "--cacert", ca, "imaps://127.0.0.1:"+port(r.read.imaps)+"/INBOX;UID=2", "-u", creds)
	if err != nil || out != string(msgs[1]) {
		t.Errorf("curl fetch UID 2: %v\n%q\nwant %q", err, out, msgs[1])
	}
	// A wrong password: curl fails with a login error.
	out, err = runTool(t, curl, "-sS", "--ssl-reqd", "--cacert", ca, "imap://127.0.0.1:"+port(r.read.imap)+"/INBOX", "-u", "alice@contoso.test:"+r.password.SecretText+"x", "-X", "NOOP")
	if err == nil || !strings.Contains(out, "Login denied") {
		t.Errorf("curl with a wrong password: %v\n%s", err, out)
	}
}

func TestCurlPOP3(t *testing.T) {
	curl := needTool(t, "curl")
	r := newRig(t)
	r.allowReading(domain.Scope{Read: true})
	msgs := deliverN(t, r, 2)
	ca, creds := caFile(t, r), "alice@contoso.test:"+r.password.SecretText
	out, err := runTool(t, curl, "-sS", "--ssl-reqd", "--cacert", ca, "pop3://127.0.0.1:"+port(r.read.pop3)+"/", "-u", creds)
	if err != nil || strings.Count(out, "\n") != 2 || !strings.HasPrefix(out, fmt.Sprintf("1 %d", len(msgs[0]))) {
		t.Errorf("curl LIST: %v\n%q", err, out)
	}
	out, err = runTool(t, curl, "-sS", "--cacert", ca, "pop3s://127.0.0.1:"+port(r.read.pop3s)+"/2", "-u", creds)
	if err != nil || out != string(msgs[1]) {
		t.Errorf("curl RETR 2: %v\n%q", err, out)
	}
	out, err = runTool(t, curl, "-sS", "--cacert", ca, "pop3s://127.0.0.1:"+port(r.read.pop3s)+"/", "-u", creds, "-X", "UIDL")
	if err != nil || strings.Count(out, "\n") != 2 {
		t.Errorf("curl UIDL: %v\n%q", err, out)
	}
}

// poplibScript reads and deletes with Python's poplib: STLS, USER/PASS,
// STAT, LIST, UIDL, RETR, TOP, DELE, QUIT; then implicit TLS.
const poplibScript = `
import poplib, ssl, sys
host, plain_port, tls_port, cafile, user, password, wrong, out = sys.argv[1:9]
ctx = ssl.create_default_context(cafile=cafile)
def say(*a):
    print(*a, flush=True)
p = poplib.POP3(host, int(plain_port), timeout=30)
say("capa before tls:", " ".join(sorted(p.capa())))
try:
    p.user(user)
    say("user before tls: accepted")
except poplib.error_proto as e:
    say("user before tls:", e)
p.stls(context=ctx)
say("capa after tls:", " ".join(sorted(p.capa())))
p.user(user)
try:
    p.pass_(wrong)
except poplib.error_proto as e:
    say("wrong password:", e)
p.user(user)
say("pass:", p.pass_(password))
say("stat:", p.stat())
say("list:", p.list()[1])
say("uidl:", len(p.uidl()[1]))
resp, lines, octets = p.retr(1)
open(out, "wb").write(b"\r\n".join(lines) + b"\r\n")
resp, lines, octets = p.top(2, 0)
say("top lines:", len(lines))
say("dele:", p.dele(1))
say("quit:", p.quit())
p = poplib.POP3_SSL(host, int(tls_port), context=ctx, timeout=30)
p.user(user)
p.pass_(password)
say("after dele:", p.stat())
p.quit()
`

func TestPythonPoplib(t *testing.T) {
	python := needTool(t, "python3")
	r := newRig(t)
	r.allowReading(domain.Scope{Send: true, Read: true})
	msgs := deliverN(t, r, 3)
	dir := t.TempDir()
	script, out := filepath.Join(dir, "pop.py"), filepath.Join(dir, "retr.eml")
	writeFile(t, script, []byte(poplibScript))
	got, err := runTool(t, python, script, "127.0.0.1", port(r.read.pop3), port(r.read.pop3s), caFile(t, r), "alice@contoso.test",
		r.password.SecretText, r.password.SecretText[:20]+"wrongwrongwrong", out)
	if err != nil {
		t.Fatalf("python: %v\n%s", err, got)
	}
	for _, m := range missing(got,
		"capa before tls: AUTH-RESP-CODE RESP-CODES STLS TOP UIDL\n",
		"user before tls: b'-ERR [AUTH] Use STLS first",
		"capa after tls: AUTH-RESP-CODE RESP-CODES SASL TOP UIDL USER\n",
		"wrong password: b'-ERR [AUTH] Authentication failed. (ref ",
		"pass: b'+OK User successfully authenticated.'", // Exchange's answer
		fmt.Sprintf("stat: (3, %d)", len(msgs[0])+len(msgs[1])+len(msgs[2])),
		"uidl: 3",
		"top lines: 7",
		"dele: b'+OK",
		"after dele: (2, ",
	) {
		t.Errorf("poplib output lacks %q:\n%s", m, got)
	}
	if b := readFile(t, out); string(b) != string(msgs[0]) {
		t.Errorf("RETR 1 = %q, want %q", b, msgs[0])
	}
	box, err := r.read.exchange.Messages(context.Background(), r.alice.Mail)
	if err != nil || len(box) != 2 || box[0].UID != 2 {
		t.Errorf("Exchange's mailbox after DELE: %+v, %v", box, err)
	}
}

func TestFetchmail(t *testing.T) {
	fetchmail := needTool(t, "fetchmail")
	r := newRig(t)
	r.allowReading(domain.Scope{Read: true})
	msgs := deliverN(t, r, 2)
	dir := t.TempDir()
	rc, ids, mbox := filepath.Join(dir, "fetchmailrc"), filepath.Join(dir, "ids"), filepath.Join(dir, "mbox")
	writeFile(t, rc, []byte(fmt.Sprintf("set no syslog\nset invisible\npoll smtp.contoso.test via 127.0.0.1 service %s protocol POP3 uidl\n"+
		"  user \"alice@contoso.test\" password \"%s\" ssl sslcertfile \"%s\" sslcertck sslcommonname \"smtp.contoso.test\"\n", port(r.read.pop3s), r.password.SecretText, caFile(t, r))))
	fetch := func() string {
		t.Helper()
		cmd := exec.Command(fetchmail, "-f", rc, "-i", ids, "-k", "--nodetach", "--mda", "cat >> "+mbox)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil && !strings.Contains(string(out), "No mail") {
			// fetchmail exits 1 when there was nothing new
			t.Logf("fetchmail: %v\n%s", err, out)
		}
		return string(out)
	}
	out := fetch()
	got := strings.ReplaceAll(string(readFile(t, mbox)), "\r\n", "\n")
	for _, m := range msgs {
		if !strings.Contains(got, strings.ReplaceAll(string(m), "\r\n", "\n")) {
			t.Errorf("first run did not deliver %q:\n%s\n%s", m, got, out)
		}
	}
	deliverN(t, r, 1)
	out = fetch()
	if !strings.Contains(out, "3 messages (2 seen)") || strings.Count(out, "reading message") != 1 {
		t.Errorf("second run should fetch only the new message (UIDL):\n%s", out)
	}
	if n := strings.Count(string(readFile(t, mbox)), "Subject: msg-"); n != 3 {
		t.Errorf("mbox holds %d messages after two runs, want 3", n)
	}
}

func port(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }
