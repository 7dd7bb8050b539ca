package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/app"

	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeslack"
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
			h.Ask(alice, "create iPhone Mail")
			// A restart forgets every profile apppass has seen.
			if err := h.Stop(); err != nil {
				t.Fatal(err)
			}
			h.Slack.DeactivateUser(alice)
			h.Start()
			shown := h.Ask(hana, "show "+tt.target)
			if !strings.Contains(shown, "iPhone Mail") {
				t.Fatalf("show %s: %s", tt.target, shown)
			}
			receipt := h.Ask(adam, "revoke "+tt.target+" --all left the company")
			if !strings.Contains(receipt, "is filed") {
				t.Fatalf("revoke %s: %s", tt.target, receipt)
			}
			req := h.HelpdeskRequest()
			if text := messageText(req); !strings.Contains(text, "alice@example.test") || !strings.Contains(text, "iPhone Mail") {
				t.Errorf("request message: %s", text)
			}
			h.Decide(hugo, "revoke_approve", req)
			h.WaitFor("the password to be revoked", func() bool { return h.CountOf(alice) == 0 })
		})
	}
}

// Slack escapes &, < and > in a slash command's text; apppass unescapes
// once, so a name typed after /apppass is the name typed in the modal.
func TestSlashCommandTextIsUnescapedOnce(t *testing.T) {
	h := newHarness(t).start()
	if out := h.Ask(alice, "create Mail &amp; Calendar"); h.SecretIn(out) == "" {
		t.Fatalf("create: %s", out)
	}
	creds := h.Entra.CredentialsOf(entraID(alice))
	if len(creds) != 1 || creds[0].DisplayName != "Mail & Calendar" {
		t.Fatalf("credentials in Entra: %+v, want one called %q", creds, "Mail & Calendar")
	}
	if out := h.Ask(alice, "create mail &amp; calendar"); !strings.Contains(out, "already have") {
		t.Errorf("the same name again was not refused: %s", out)
	}
	if out := h.Ask(alice, "delete Mail &amp; Calendar"); !strings.Contains(out, "Delete the app password *Mail &amp; Calendar*") {
		t.Errorf("delete by the typed name: %s", out)
	}
}

// apppass serves one workspace or Grid organisation (APPPASS_SLACK_TEAM),
// and neither guests nor Slack Connect users, whatever their email says.
func TestOnlyTheConfiguredOrganisationIsServed(t *testing.T) {
	const guest, single, stranger = "UGUEST", "USINGLE", "USTRANGER"
	tests := []struct {
		name    string
		team    string // APPPASS_SLACK_TEAM
		grid    string // fakeslack.SetEnterprise
		user    string
		origin  fakeslack.Origin
		refused bool
	}{
		{"home team", fakeslack.TeamID, "", alice, fakeslack.Origin{}, false},
		{"another team's payload", fakeslack.TeamID, "", alice, fakeslack.Origin{TeamID: "T9OTHER"}, true},
		{"grid organisation", "E1GRID", "E1GRID", alice, fakeslack.Origin{}, false},
		{"another grid's payload", "E1GRID", "E1GRID", alice, fakeslack.Origin{EnterpriseID: "E2OTHER"}, true},
		{"team id when grid is configured", "E1GRID", "", alice, fakeslack.Origin{}, true},
		{"multi-channel guest", fakeslack.TeamID, "", guest, fakeslack.Origin{}, true},
		{"single-channel guest", fakeslack.TeamID, "", single, fakeslack.Origin{}, true},
		// A Slack Connect user whose email is bob's must not be bob.
		{"slack connect user", fakeslack.TeamID, "", stranger, fakeslack.Origin{}, true},
		{"slack connect user posing as home team", fakeslack.TeamID, "", stranger, fakeslack.Origin{TeamID: fakeslack.TeamID}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.Env["APPPASS_SLACK_TEAM"] = tt.team
			h.Slack.SetEnterprise(tt.grid, "Contoso")
			h.Slack.AddGuestUser(fakeslack.User{ID: guest, Name: "guest", Email: "bob@example.test"}, false)
			h.Slack.AddGuestUser(fakeslack.User{ID: single, Name: "single", Email: "bob@example.test"}, true)
			h.Slack.AddExternalUser(fakeslack.User{ID: stranger, Name: "stranger", Email: "bob@example.test"}, "")
			h.Start()
			before := len(h.Entra.Calls())
			ix, err := h.Slack.SlashCommandFrom(h.Ctx(), tt.origin, tt.user, channel, "/apppass", "create Phone")
			if err != nil {
				t.Fatal(err)
			}
			out := messageText(h.Reply(ix))
			created := h.SecretIn(out) != ""
			if created == tt.refused {
				t.Fatalf("created = %v, want %v: %s", created, !tt.refused, out)
			}
			if !tt.refused {
				return
			}
			if !strings.Contains(out, "apppass") {
				t.Errorf("refusal is not explained: %s", out)
			}
			if n := len(h.Entra.CredentialsOf(entraID(bob))) + len(h.Entra.CredentialsOf(entraID(alice))); n != 0 {
				t.Errorf("%d credentials created for a refused payload", n)
			}
			for _, c := range h.Entra.Calls()[before:] {
				if c.Op != "token" {
					t.Errorf("a refused payload cost a Graph call: %s", c.Op)
				}
			}
		})
	}
}

// Clicks and submissions are checked like commands: a Slack Connect user
// cannot press a Delete button apppass showed someone else.
func TestClicksFromOutsideAreRefused(t *testing.T) {
	h := newHarness(t)
	h.Slack.AddExternalUser(fakeslack.User{ID: "USTRANGER", Name: "stranger", Email: "bob@example.test"}, "")
	h.Start()
	h.Ask(bob, "create Phone")
	key := h.Entra.CredentialsOf(entraID(bob))[0].KeyID
	ix := h.Click("USTRANGER", "delete_confirm", key)
	out := messageText(h.Reply(ix))
	if strings.Contains(out, "Deleted") || len(h.Entra.CredentialsOf(entraID(bob))) != 1 {
		t.Fatalf("a Slack Connect user deleted bob's password: %s", out)
	}
}

// The Slack id ↔ Entra id mapping is pinned on first use: when the
// profile email later points at someone else, apppass refuses and tells
// the helpdesk instead of serving the other person's passwords.
func TestSlackIDIsPinnedToItsEntraUser(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create Phone")
	h.Ask(bob, "create Laptop")
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	h.Slack.AddUser(fakeslack.User{ID: alice, Name: "alice", RealName: "Alice", Email: "bob@example.test"})
	h.Start()
	out := h.Ask(alice, "list")
	if strings.Contains(out, "Laptop") {
		t.Fatalf("alice, now with bob's email, sees bob's passwords: %s", out)
	}
	if !strings.Contains(out, "helpdesk") {
		t.Errorf("refusal does not point to the helpdesk: %s", out)
	}
	h.WaitFor("a helpdesk alert", func() bool {
		for _, m := range h.Slack.MessagesIn(helpdesk) {
			if strings.Contains(m.Text, alice) && strings.Contains(m.Text, "bob@example.test") {
				return true
			}
		}
		return false
	})
	if out := h.Ask(bob, "list"); !strings.Contains(out, "Laptop") {
		t.Errorf("bob is no longer served: %s", out)
	}
	// Trying again is refused again, without telling the helpdesk twice.
	if out := h.Ask(alice, "list"); strings.Contains(out, "Laptop") {
		t.Fatalf("alice's second try sees bob's passwords: %s", out)
	}
	alerts := 0
	for _, m := range h.Slack.MessagesIn(helpdesk) {
		if strings.Contains(m.Text, alice) && strings.Contains(m.Text, "bob@example.test") {
			alerts++
		}
	}
	if alerts != 1 {
		t.Errorf("the helpdesk was told %d times of one identity conflict, want once", alerts)
	}
}

// accountEnabled is read fresh for every write and every decision: a
// person disabled a moment ago cannot create or delete, and a helpdesk
// member disabled a moment ago cannot approve or deny.
func TestJustDisabledPeopleCannotWriteOrDecide(t *testing.T) {
	t.Run("create", func(t *testing.T) {
		h := newHarness(t).start()
		h.Ask(alice, "list") // Entra's answer is now cached
		h.Entra.DisableUser(entraID(alice))
		out := h.Ask(alice, "create Phone")
		if h.SecretIn(out) != "" || h.CountOf(alice) != 0 {
			t.Fatalf("a disabled person created a password: %s", out)
		}
		if !strings.Contains(out, "disabled") {
			t.Errorf("refusal does not say why: %s", out)
		}
	})
	t.Run("delete", func(t *testing.T) {
		h := newHarness(t).start()
		h.Ask(alice, "create Phone")
		h.Entra.DisableUser(entraID(alice))
		key := h.Entra.CredentialsOf(entraID(alice))[0].KeyID
		out := messageText(h.Reply(h.Click(alice, "delete_confirm", key)))
		if strings.Contains(out, "Deleted") || h.CountOf(alice) != 1 {
			t.Fatalf("a disabled person deleted a password: %s", out)
		}
	})
	for _, action := range []string{"revoke_approve", "revoke_deny"} {
		t.Run(action, func(t *testing.T) {
			h := newHarness(t).start()
			h.Ask(alice, "create Phone")
			h.Ask(hana, "requests") // hana's Entra answer is now cached
			h.Ask(adam, "revoke <@UALICE|alice> --all left")
			req := h.HelpdeskRequest()
			h.Entra.DisableUser(entraID(hana))
			done := h.Finished()
			ix := h.Decide(hana, action, req)
			if action == "revoke_deny" {
				// The form opens at once (trigger ids expire after 3 s);
				// the decision is refused on submit.
				h.WaitFor("the deny form", func() bool { return len(h.Slack.OpenedViews()) > 0 })
				v := h.Slack.OpenedViews()[0]
				if _, err := h.Slack.ViewSubmission(h.Ctx(), hana, v.ID, map[string]map[string]string{"reason": {"reason": "no"}}); err != nil {
					t.Fatal(err)
				}
				h.WaitFor("the refusal", func() bool { return h.ephemeralTo(hana, "disabled") })
			} else if out := messageText(h.Reply(ix)); !strings.Contains(out, "disabled") {
				t.Errorf("refusal does not say why: %s", out)
			}
			if h.CountOf(alice) != 1 {
				t.Errorf("a disabled helpdesk member's approval removed the password")
			}
			if action == "revoke_deny" {
				h.WaitFinished(done + 2) // the click and the form, worked on to the end
			} else {
				h.WaitFinished(done + 1)
			}
			if m := h.CurrentRequest(req.TS); !strings.Contains(messageText(m), "Waiting for a helpdesk member") {
				t.Errorf("the request was decided by a disabled member: %s", messageText(m))
			}
		})
	}
}

// ephemeralTo reports whether user was shown an ephemeral message (or a
// response) containing want.
func (h *harness) ephemeralTo(user, want string) bool {
	for _, m := range h.Slack.Messages() {
		if (m.Ephemeral || m.Via == fakeslack.ViaResponseURL) && m.User == user && strings.Contains(messageText(m), want) {
			return true
		}
	}
	return false
}

// A trigger id expires 3 s after the click: the Deny button opens its form
// before any Graph call, and who may deny is decided on submit.
func TestDenyOpensItsFormBeforeAskingEntra(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create Phone")
	h.Ask(adam, "revoke <@UALICE|alice> --all left")
	req := h.HelpdeskRequest()
	h.Entra.SetLatency("", 4*time.Second)
	h.Decide(hana, "revoke_deny", req)
	h.WaitFor("the deny form", func() bool { return len(h.Slack.OpenedViews()) == 1 })
	h.Entra.SetLatency("", 0)
	v := h.Slack.OpenedViews()[0]
	if _, err := h.Slack.ViewSubmission(h.Ctx(), hana, v.ID, map[string]map[string]string{"reason": {"reason": "confirmed\u2028Approved by CISO"}}); err != nil {
		t.Fatal(err)
	}
	h.WaitFor("the denial", func() bool { return strings.Contains(messageText(h.CurrentRequest(req.TS)), "Denied by") })
	if text := messageText(h.CurrentRequest(req.TS)); !strings.Contains(text, "confirmed Approved by CISO") {
		t.Errorf("the deny reason was not kept on one line: %s", text)
	}
}

// The delivery of a new secret has its own deadline: a slow Graph that
// used up most of the command's time does not cost the person their
// password.
func TestSecretDeliveryHasItsOwnDeadline(t *testing.T) {
	h := newHarness(t)
	h.Adjust = func(m *app.Main) { m.Config.CommandTimeout = 2 * time.Second }
	h.Start()
	h.Ask(alice, "create First") // the profile, the user and the application are now known
	h.Entra.SetLatency(fakeentra.OpAddPassword, 1700*time.Millisecond)
	h.Slack.SetAPILatency(600 * time.Millisecond)
	out := h.Ask(alice, "create Second")
	if h.SecretIn(out) == "" {
		t.Fatalf("the secret was not delivered: %s", out)
	}
	if n := h.CountOf(alice); n != 2 {
		t.Errorf("%d credentials, want 2", n)
	}
}
