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
	r := secretReply(c)
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
