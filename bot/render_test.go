package bot

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<!channel>", "&lt;!channel&gt;"},
		{"<@U123|bob>", "&lt;@U123|bob&gt;"},
		{"Mail & Calendar", "Mail &amp; Calendar"},
		{"&lt;", "&amp;lt;"},
		{"plain", "plain"},
	}
	for _, tt := range tests {
		if got := escape(tt.in); got != tt.want {
			t.Errorf("escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestListingStaysUnderSlackBlockLimit(t *testing.T) {
	l := handlers.Listing{Max: 60}
	for i := range 60 {
		l.Passwords = append(l.Passwords, domain.Password{KeyID: fmt.Sprint(i), Name: fmt.Sprintf("<!here> %d", i), Created: time.Now()})
	}
	blocks := listingBlocks(l, "lead")
	if len(blocks) > 50 {
		t.Fatalf("%d blocks; Slack allows 50", len(blocks))
	}
	b, _ := json.Marshal(blocks)
	if strings.Contains(string(b), "<!here>") {
		t.Error("a name was rendered unescaped")
	}
	if !strings.Contains(string(b), fmt.Sprintf("and %d more", 60-maxRows)) {
		t.Error("the cut-off rows are not mentioned")
	}
}

func TestSecretReplyIsTheOnlyReveal(t *testing.T) {
	c := domain.Created{Password: domain.Password{Name: "<@U1>"}, Secret: domain.NewSecret("s3cr3t-xyz"), ClientID: "cid", TenantID: "tid"}
	r := secretReply(c, Gateway{}, "a@b.test")
	b, _ := json.Marshal(r.Blocks)
	if !strings.Contains(string(b), "s3cr3t-xyz") || !strings.Contains(string(b), "shown only this once") {
		t.Fatalf("secret message lacks the secret or the warning: %s", b)
	}
	if strings.Contains(r.Text, "s3cr3t-xyz") {
		t.Error("the notification text (shown in previews) holds the secret")
	}
	if strings.Contains(string(b), "<@U1>") {
		t.Error("name not escaped")
	}
}

// With a mail gateway, the secret message explains how to set up a device:
// server, ports and security, user name and password; client and tenant
// ID for OAuth programs always.
func TestSecretReplyExplainsDeviceSetup(t *testing.T) {
	c := domain.Created{Password: domain.Password{Name: "iPhone"}, Secret: domain.NewSecret("s3cr3t"), ClientID: "cid-1", TenantID: "tid-1"}
	tests := []struct {
		name     string
		gw       Gateway
		want     []string
		unwanted []string
	}{
		{"no gateway", Gateway{}, []string{"cid-1", "tid-1", "s3cr3t"}, []string{"STARTTLS", "Server"}},
		{"both listeners", Gateway{Hostname: "smtp.contoso.test", SubmissionAddr: ":587", TLSAddr: ":465"},
			[]string{"smtp.contoso.test", "587", "STARTTLS", "465", "SSL/TLS", "alice@contoso.test", "cid-1", "tid-1"}, nil},
		{"submission only", Gateway{Hostname: "smtp.contoso.test", SubmissionAddr: "0.0.0.0:2587"},
			[]string{"smtp.contoso.test", "2587", "STARTTLS", "alice@contoso.test"}, []string{"SSL/TLS"}},
		{"implicit TLS only", Gateway{Hostname: "smtp.contoso.test", TLSAddr: ":465"},
			[]string{"465", "SSL/TLS"}, []string{"STARTTLS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := secretReply(c, tt.gw, "alice@contoso.test")
			b, _ := json.Marshal(r.Blocks)
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("secret message lacks %q: %s", w, b)
				}
			}
			for _, u := range tt.unwanted {
				if strings.Contains(string(b), u) {
					t.Errorf("secret message has %q: %s", u, b)
				}
			}
		})
	}
}

func TestSecretReplyForReadPassword(t *testing.T) {
	gw := Gateway{Hostname: "mail.contoso.test", TLSAddr: ":465", IMAPSAddr: ":993", POP3Addr: ":110"}
	c := domain.Created{Password: domain.Password{Name: "Helpdesk"}, Secret: domain.NewSecret("s3cr3t"), ClientID: "cid", TenantID: "tid",
		Scope: domain.Scope{Read: true}}
	b, _ := json.Marshal(secretReply(c, gw, "alice@contoso.test").Blocks)
	got := string(b)
	for _, want := range []string{"reads mail", "IMAP: `mail.contoso.test`, port `993` with *SSL/TLS*", "POP3: `mail.contoso.test`, port `110` with *STARTTLS (STLS)*", "reconnects about once an hour"} {
		if !strings.Contains(got, want) {
			t.Errorf("read password's message lacks %q: %s", want, got)
		}
	}
	if strings.Contains(got, "465") {
		t.Errorf("a read-only password's message explains sending: %s", got)
	}
}
