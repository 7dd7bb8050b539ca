package gateway_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lookTool finds an external client, failing when APPPASS_REQUIRE_SERVERS
// says this run must use it.
func lookTool(t *testing.T, name string) string {
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

// floodSmtplib sends through STARTTLS from a given source address.
const floodSmtplib = `
import smtplib, ssl, sys
addr, src, cafile, user, password = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)
host, port = addr.rsplit(":", 1)
msg = b"From: " + user.encode() + b"\r\nTo: bob@contoso.test\r\nSubject: python during a flood\r\n\r\nhello\r\n"
with smtplib.SMTP(host, int(port), local_hostname="printer.local", timeout=30, source_address=(src, 0)) as s:
    s.starttls(context=ctx)
    s.login(user, password)
    print("refused:", s.sendmail(user, ["bob@contoso.test"], msg))
`

// Row 1 with the clients devices use: while 1,000 idle connections come
// from 127.0.0.3, swaks from 127.0.0.4 and Python's smtplib from
// 127.0.0.5 send as usual; and swaks's forged second From is refused.
func TestSwaksAndPythonDuringAFlood(t *testing.T) {
	swaks, python := lookTool(t, "swaks"), lookTool(t, "python3")
	r := newRig(t)
	kept := 0
	for range 1000 {
		c, err := r.raw("127.0.0.3")
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(c.line(t), "220 ") {
			kept++
		} else {
			c.Close()
		}
	}
	if kept != 20 {
		t.Fatalf("%d of 1,000 flood connections kept, want 20", kept)
	}
	dir := t.TempDir()
	cafile, script := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "send.py")
	pem, err := os.ReadFile(r.certFile)
	if err != nil {
		t.Fatal(err)
	}
	for f, b := range map[string][]byte{cafile: pem, script: []byte(floodSmtplib)} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	swak := func(data string) (string, error) {
		out, err := exec.CommandContext(ctx, swaks, "--server", r.addr, "--local-interface", "127.0.0.4", "--tls",
			"--auth", "PLAIN", "--auth-user", "alice@contoso.test", "--auth-password", r.password.SecretText,
			"--from", "alice@contoso.test", "--to", "bob@contoso.test", "--data", data, "--hide-all").CombinedOutput()
		return string(out), err
	}
	if out, err := swak("From: alice@contoso.test\r\nTo: bob@contoso.test\r\nSubject: swaks during a flood\r\n\r\nhello\r\n"); err != nil {
		t.Errorf("swaks from 127.0.0.4 during the flood: %v\n%s", err, out)
	}
	if out, err := exec.CommandContext(ctx, python, script, r.addr, "127.0.0.5", cafile, "alice@contoso.test", r.password.SecretText).CombinedOutput(); err != nil || !strings.Contains(string(out), "refused: {}") {
		t.Errorf("smtplib from 127.0.0.5 during the flood: %v\n%s", err, out)
	}
	if out, err := swak("From: alice@contoso.test\r\nFrom: adam@contoso.test\r\nTo: bob@contoso.test\r\nSubject: two From\r\n\r\nhello\r\n"); err == nil {
		t.Errorf("swaks with two From headers: accepted\n%s", out)
	}
	box := r.entra.Mailbox(r.alice.ID)
	if len(box) != 2 {
		t.Errorf("%d messages delivered, want swaks's and smtplib's", len(box))
	}
}
