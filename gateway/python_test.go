package gateway_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// smtplibScript sends one message through STARTTLS and one through
// implicit TLS with Python's smtplib, as an old mail client or a
// line-of-business program would, and prints the server's answers.
const smtplibScript = `
import smtplib, ssl, sys
addr, tls_addr, cafile, user, password, wrong = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=cafile)
msg = open(sys.argv[7], "rb").read()

host, port = addr.rsplit(":", 1)
with smtplib.SMTP(host, int(port), local_hostname="printer.local", timeout=30) as s:
    s.ehlo()
    print("auth before tls:", "auth" in s.esmtp_features)
    s.starttls(context=ctx)
    s.ehlo()
    print("auth after tls:", s.esmtp_features.get("auth", "").strip())
    try:
        s.login(user, wrong)
    except smtplib.SMTPAuthenticationError as e:
        print("wrong password:", e.smtp_code)
    s.login(user, password)
    print("refused:", s.sendmail(user, ["bob@contoso.test"], msg))

host, port = tls_addr.rsplit(":", 1)
with smtplib.SMTP_SSL(host, int(port), context=ctx, timeout=30) as s:
    s.login(user, password)
    print("implicit refused:", s.sendmail(user, ["bob@contoso.test"], msg))
`

func TestPythonSmtplib(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("APPPASS_REQUIRE_SERVERS") != "" {
			t.Fatal("python3 is not installed, and APPPASS_REQUIRE_SERVERS says this run must test with it")
		}
		t.Skip("python3 is not installed; CI installs it")
	}
	r := newRig(t)
	dir := t.TempDir()
	var ca bytes.Buffer
	certPEM, err := os.ReadFile(r.certFile)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := pem.Decode(certPEM); b == nil {
		t.Fatal("no certificate")
	}
	ca.Write(certPEM)
	cafile, msgFile, script := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "msg.eml"), filepath.Join(dir, "send.py")
	msg := plainMessage("alice@contoso.test", "bob@contoso.test", "python")
	for f, b := range map[string][]byte{cafile: ca.Bytes(), msgFile: msg, script: []byte(smtplibScript)} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// smtplib's SMTP_SSL checks the certificate against the host it
	// connects to: 127.0.0.1 is in the certificate's addresses.
	out, err := exec.CommandContext(ctx, python, script, r.addr, r.tlsAddr, cafile, "alice@contoso.test",
		r.password.SecretText, r.password.SecretText[:20]+"wrongwrongwrong", msgFile).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{"auth before tls: False", "auth after tls: PLAIN LOGIN", "wrong password: 535", "refused: {}", "implicit refused: {}"} {
		if !strings.Contains(got, want) {
			t.Errorf("smtplib output lacks %q:\n%s", want, got)
		}
	}
	box := r.entra.Mailbox(r.alice.ID)
	if len(box) != 2 || !bytes.Equal(box[0].MIME, msg) {
		t.Errorf("delivered %d messages; first identical: %v", len(box), len(box) > 0 && bytes.Equal(box[0].MIME, msg))
	}
}
