package gateway_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/apppass/apppass/domain"
)

var xTUID = regexp.MustCompile(`(?m)^X-TUID: .*\n`)

// mbsyncConfig is an isync 1.4 configuration pulling INBOX from host:port
// (implicit TLS) into a maildir under dir.
func mbsyncConfig(dir, port, ca, user, password string) string {
	return fmt.Sprintf(`IMAPAccount acct
Host 127.0.0.1
Port %s
User %s
Pass "%s"
SSLType IMAPS
CertificateFile %s
AuthMechs PLAIN LOGIN
PipelineDepth 50

IMAPStore remote
Account acct

MaildirStore local
Path %s/
Inbox %s/INBOX

Channel inbox
Far :remote:INBOX
Near :local:INBOX
Create Near
Sync Pull
SyncState *
`, port, user, password, ca, dir, dir)
}

// maildirFiles returns the messages mbsync wrote.
func maildirFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"new", "cur"} {
		es, _ := os.ReadDir(filepath.Join(dir, "INBOX", sub))
		for _, e := range es {
			out = append(out, string(readFile(t, filepath.Join(dir, "INBOX", sub, e.Name()))))
		}
	}
	return out
}

func TestMbsync(t *testing.T) {
	mbsync := needTool(t, "mbsync")
	r := newRig(t)
	r.allowReading(domain.Scope{Read: true})
	msgs := deliverN(t, r, 5)
	dir := t.TempDir()
	rc := filepath.Join(dir, "mbsyncrc")
	if err := os.MkdirAll(filepath.Join(dir, "mail"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, rc, []byte(mbsyncConfig(filepath.Join(dir, "mail"), port(r.read.imaps), caFile(t, r), "alice@contoso.test", r.password.SecretText)))
	if out, err := runTool(t, mbsync, "-c", rc, "-a"); err != nil {
		t.Fatalf("mbsync: %v\n%s", err, out)
	}
	got := maildirFiles(t, filepath.Join(dir, "mail"))
	if len(got) != len(msgs) {
		t.Fatalf("mbsync pulled %d messages, want %d", len(got), len(msgs))
	}
	for _, m := range msgs {
		found := false
		for _, g := range got {
			// mbsync stores LF line ends in the maildir, and may add its
			// X-TUID: header while it copies.
			g = xTUID.ReplaceAllString(g, "")
			found = found || g == strings.ReplaceAll(string(m), "\r\n", "\n")
		}
		if !found {
			t.Errorf("message %q not pulled unchanged", m)
		}
	}
	// A second run with new mail pulls only that: UIDVALIDITY and UIDs
	// are Exchange's and stable across sessions.
	deliverN(t, r, 1)
	if out, err := runTool(t, mbsync, "-c", rc, "-a"); err != nil {
		t.Fatalf("mbsync again: %v\n%s", err, out)
	}
	if got := maildirFiles(t, filepath.Join(dir, "mail")); len(got) != len(msgs)+1 {
		t.Errorf("after a second run the maildir holds %d messages, want %d", len(got), len(msgs)+1)
	}
}
