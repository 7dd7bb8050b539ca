package main

import (
	"strings"
	"testing"
)

// A leaver's Slack account is usually deactivated before anyone revokes
// their app passwords: revoke and show must still find them, by mention
// (users.info still has the profile email) or by email address.
func TestRevokeAndShowALeaver(t *testing.T) {
	tests := []struct {
		name   string
		target string
	}{
		{"deactivated, by mention", "<@UALICE|alice>"},
		{"deactivated, by email", "alice@example.test"},
		{"deactivated, by mailto link", "<mailto:alice@example.test|alice@example.test>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t).start()
			h.ask(alice, "create iPhone Mail")
			// A restart forgets every profile apppass has seen.
			if err := h.stop(); err != nil {
				t.Fatal(err)
			}
			h.slack.DeactivateUser(alice)
			h.start()
			shown := h.ask(hana, "show "+tt.target)
			if !strings.Contains(shown, "iPhone Mail") {
				t.Fatalf("show %s: %s", tt.target, shown)
			}
			receipt := h.ask(adam, "revoke "+tt.target+" --all left the company")
			if !strings.Contains(receipt, "is filed") {
				t.Fatalf("revoke %s: %s", tt.target, receipt)
			}
			req := h.helpdeskRequest()
			if text := messageText(req); !strings.Contains(text, "alice@example.test") || !strings.Contains(text, "iPhone Mail") {
				t.Errorf("request message: %s", text)
			}
			h.decide(hugo, "revoke_approve", req)
			h.waitFor("the password to be revoked", func() bool { return h.countOf(alice) == 0 })
		})
	}
}

// Slack escapes &, < and > in a slash command's text; apppass unescapes
// once, so a name typed after /apppass is the name typed in the modal.
func TestSlashCommandTextIsUnescapedOnce(t *testing.T) {
	h := newHarness(t).start()
	if out := h.ask(alice, "create Mail &amp; Calendar"); h.secretIn(out) == "" {
		t.Fatalf("create: %s", out)
	}
	creds := h.entra.CredentialsOf(entraID(alice))
	if len(creds) != 1 || creds[0].DisplayName != "Mail & Calendar" {
		t.Fatalf("credentials in Entra: %+v, want one called %q", creds, "Mail & Calendar")
	}
	if out := h.ask(alice, "create mail &amp; calendar"); !strings.Contains(out, "already have") {
		t.Errorf("the same name again was not refused: %s", out)
	}
	if out := h.ask(alice, "delete Mail &amp; Calendar"); !strings.Contains(out, "Delete the app password *Mail &amp; Calendar*") {
		t.Errorf("delete by the typed name: %s", out)
	}
}
