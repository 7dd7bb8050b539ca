package bot_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeslack"
)

func TestHomeForAnEmployee(t *testing.T) {
	h := newHarness(t).start()
	_, m := h.OpenHome(alice)
	if text := messageText(m); !strings.Contains(text, "0 of 40") || len(buttons(m)["home_create"]) != 1 {
		t.Fatalf("alice's first home: %s; buttons %v", text, buttons(m))
	}

	// Create from the command: the home follows without being reopened.
	h.Ask(alice, "create iPhone Mail")
	key := h.Entra.CredentialsOf(entraID(alice))[0].KeyID
	v, m := h.HomeSays(alice, []string{"1 of 40", "iPhone Mail", "Created", "starts with `"})
	if got := buttons(m)["delete_confirm"]; len(got) != 1 || got[0] != key {
		t.Fatalf("home Delete buttons = %v, want the key id %s", got, key)
	}
	if !strings.Contains(string(v.Raw), `"confirm"`) {
		t.Error("the home Delete button does not ask Slack to confirm")
	}

	// Create from the home: the same modal, the secret ephemeral in the DM.
	h.ClickInHome(alice, v, "home_create", "create")
	h.WaitFor("the create modal", func() bool { return len(h.Slack.OpenedViews()) == 1 })
	modal := h.Slack.OpenedViews()[0]
	if modal.CallbackID != "apppass_create" {
		t.Fatalf("home opened modal %q, want the create modal", modal.CallbackID)
	}
	if _, err := h.Slack.ViewSubmission(h.Ctx(), alice, modal.ID, map[string]map[string]string{"name": {"name": "Scanner"}}); err != nil {
		t.Fatal(err)
	}
	var delivered fakeslack.Message
	h.WaitFor("the secret in alice's DM", func() bool {
		for _, msg := range h.Slack.MessagesIn("D" + alice) {
			if h.SecretIn(messageText(msg)) != "" {
				delivered = msg
				return true
			}
		}
		return false
	})
	if !delivered.Ephemeral || delivered.Via != fakeslack.ViaPostEphemeral {
		t.Errorf("secret from the home delivered %+v, want chat.postEphemeral", delivered)
	}
	v, _ = h.HomeSays(alice, []string{"2 of 40", "Scanner", "iPhone Mail"})

	// Delete from the home: ownership checked, the home follows.
	h.ClickInHome(alice, v, "delete_confirm", key)
	h.WaitFor("the delete", func() bool { return h.CountOf(alice) == 1 })
	h.HomeSays(alice, []string{"1 of 40", "Scanner"}, "iPhone Mail")

	// bob's tab was never opened: his change publishes nothing (the
	// opening will); then he replays alice's key: refused, nothing removed.
	h.Ask(bob, "create Tablet")
	if _, ok := h.Slack.HomeView(bob); ok {
		t.Error("a home tab that was never opened was published")
	}
	bv, _ := h.OpenHome(bob)
	scanner := h.Entra.CredentialsOf(entraID(alice))[0].KeyID
	h.ClickInHome(bob, bv, "delete_confirm", scanner)
	h.WaitFor("bob to be told", func() bool {
		dms := h.Slack.DMsTo(bob)
		return len(dms) > 0 && strings.Contains(messageText(dms[len(dms)-1]), "not yours")
	})
	if h.CountOf(alice) != 1 {
		t.Fatal("bob removed alice's password from his home")
	}
	h.AssertNoSecretPublished()
	h.AssertNoLeaks(nil)
}

func TestHomeForPeopleApppassCannotServe(t *testing.T) {
	h := newHarness(t).start()
	tests := []struct {
		name, user, want string
	}{
		{"unknown to Entra", erin, "doesn't match a Microsoft 365 account"},
		{"disabled", dave, "disabled"},
		{"no email", nomail, "can't see an email address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, m := h.OpenHome(tt.user)
			if text := messageText(m); !strings.Contains(text, tt.want) || len(buttons(m)) != 0 {
				t.Errorf("home of %s: %s; buttons %v", tt.user, text, buttons(m))
			}
		})
	}
}

func TestHomeForHelpdeskAndAdmins(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create iPhone Mail")
	h.Ask(alice, "create Laptop")

	// The employee, the admin, and helpdesk members see what they may.
	h.OpenHome(adam)
	_, m := h.OpenHome(hana)
	if text := messageText(m); !strings.Contains(text, "waiting — 0") || strings.Contains(text, "Your revocation requests") {
		t.Errorf("hana's home before any request:\n%s", text)
	}
	h.Ask(adam, `revoke <@UALICE|alice> "iPhone Mail" phone stolen`)
	h.HomeSays(adam, []string{"Your revocation requests", "#1", "alice@example.test", "waiting for the helpdesk"})
	if _, am, _ := h.HomeMessage(adam); strings.Contains(messageText(am), "Revocation requests waiting") {
		t.Error("an admin who is not helpdesk sees the helpdesk's queue")
	}
	_, am := h.OpenHome(alice)
	if text := messageText(am); strings.Contains(text, "revocation") || strings.Contains(text, "phone stolen") {
		t.Errorf("the employee sees requests:\n%s", text)
	}
	hv, hm := h.OpenHome(hana)
	if text := messageText(hm); !strings.Contains(text, "waiting — 1") || !strings.Contains(text, "phone stolen") {
		t.Fatalf("hana's home:\n%s", text)
	}
	if b := buttons(hm); len(b["revoke_approve"]) != 1 || len(b["revoke_deny"]) != 1 {
		t.Fatalf("hana's home buttons: %v", b)
	}
	// holly is admin and helpdesk but not the requester: she may decide.
	_, holm := h.OpenHome(holly)
	if b := buttons(holm); len(b["revoke_approve"]) != 1 {
		t.Errorf("holly's home buttons: %v", b)
	}

	// The two-person rule holds from the home: adam replays the button.
	h.ClickInHome(adam, hv, "revoke_approve", "1")
	h.WaitFor("adam to be refused", func() bool {
		for _, dm := range h.Slack.DMsTo(adam) {
			if strings.Contains(messageText(dm), "Only helpdesk members") {
				return true
			}
		}
		return false
	})
	if h.CountOf(alice) != 2 {
		t.Fatal("a refused approval removed something")
	}

	// hana approves from her home: every home concerned follows.
	h.ClickInHome(hana, hv, "revoke_approve", "1")
	h.WaitFor("the removal", func() bool { return h.CountOf(alice) == 1 })
	h.HomeSays(hana, []string{"waiting — 0"}, "phone stolen")
	h.HomeSays(adam, []string{"#1", "approved by <@UHANA>", "1 removed"})
	h.HomeSays(alice, []string{"1 of 40", "Laptop"}, "iPhone Mail")
	h.WaitFor("the helpdesk message update", func() bool {
		return strings.Contains(messageText(h.HelpdeskRequest()), "Approved by <@UHANA>")
	})

	// A denial, from the home's Deny (the same form), refreshes too.
	h.Ask(adam, "revoke <@UALICE|alice> Laptop not needed")
	h.HomeSays(adam, []string{"#2", "“Laptop”", "waiting for the helpdesk"})
	hv, hm = h.OpenHome(hana) // the helpdesk's queue is fresh at every opening
	if text := messageText(hm); !strings.Contains(text, "waiting — 1") || !strings.Contains(text, "not needed") {
		t.Fatalf("hana's home with the second request:\n%s", text)
	}
	before := len(h.Slack.OpenedViews())
	h.ClickInHome(hana, hv, "revoke_deny", "2")
	h.WaitFor("the deny form", func() bool { return len(h.Slack.OpenedViews()) > before })
	deny := h.Slack.OpenedViews()[before]
	if _, err := h.Slack.ViewSubmission(h.Ctx(), hana, deny.ID, map[string]map[string]string{"reason": {"reason": "confirmed with alice"}}); err != nil {
		t.Fatal(err)
	}
	h.HomeSays(adam, []string{"#2", "denied by <@UHANA>", "confirmed with alice"})
	h.HomeSays(hana, []string{"waiting — 0"})
	if h.CountOf(alice) != 1 {
		t.Error("a denial removed something")
	}
	h.AssertNoSecretPublished()
	h.AssertNoLeaks(nil)
}

// A person holding 40 passwords and a helpdesk member facing 150 waiting
// requests both get a Home tab that Slack accepts (fakeslack checks views
// as Slack does: 100 blocks and every Block Kit limit).
func TestHomeFitsSlacksLimits(t *testing.T) {
	h := newHarness(t)
	app := h.Entra.AddEmployeeApp(entraID(holly), true)
	for i := range 40 {
		h.Entra.AddSecret(app.ID, fmt.Sprintf("<!channel> device & %02d %s", i, strings.Repeat("x", 40)), time.Time{})
	}
	h.Start()
	for i := range 150 {
		req := &domain.RevocationRequest{RequesterSlack: adam, RequesterID: entraID(adam),
			Targets: []domain.RevocationTarget{{Slack: bob, ID: entraID(bob), Name: "bob@example.test"}}, All: true, Reason: strings.Repeat("<!here> left the company ", 20),
			ExpiresAt: h.Clock.Now().Add(72 * time.Hour),
			Items:     []domain.RevocationItem{{TargetID: entraID(bob), Password: domain.Password{KeyID: fmt.Sprint("k", i), Name: "Laptop"}}}}
		if err := h.App.DB.CreateRevocation(h.Ctx(), req); err != nil {
			t.Fatal(err)
		}
	}
	_, m := h.OpenHome(holly)
	text := messageText(m)
	for _, want := range []string{"40 of 40", "device &amp; 39", "waiting — 150", "…and", "Your revocation requests"} {
		if !strings.Contains(text, want) {
			t.Errorf("holly's home lacks %q", want)
		}
	}
	for _, mt := range mrkdwnTexts(m) {
		if strings.Contains(mt, "<!channel>") || strings.Contains(mt, "<!here>") {
			t.Fatalf("a name or reason was published unescaped in mrkdwn: %s", mt)
		}
	}
	if n := len(buttons(m)["delete_confirm"]); n != 40 {
		t.Errorf("%d Delete buttons, want 40", n)
	}
	if strings.Contains(h.Logs.String(), "home tab not published") {
		t.Error("Slack refused a home view")
	}
}

// mrkdwnTexts returns the text of every mrkdwn text object in m's blocks
// (plain_text is shown as typed: it mentions nobody).
func mrkdwnTexts(m fakeslack.Message) []string {
	var out []string
	eachBlockObject(m, func(x map[string]any) {
		if x["type"] == "mrkdwn" {
			s, _ := x["text"].(string)
			out = append(out, s)
		}
	})
	return out
}

// TestHomeFromAnotherOrganisationIsIgnored: an app_home_opened whose
// team is not APPPASS_SLACK_TEAM gets no view at all, not even the
// polite refusal, and costs Entra nothing.
func TestHomeFromAnotherOrganisationIsIgnored(t *testing.T) {
	h := newHarness(t)
	h.Env["APPPASS_SLACK_TEAM"] = "T0THER"
	h.Start()
	if _, err := h.Slack.AppHomeOpened(h.Ctx(), alice); err != nil {
		t.Fatal(err)
	}
	h.WaitFor("the warning", func() bool {
		return strings.Contains(h.Logs.String(), "app_home_opened from another organisation ignored")
	})
	if n := len(h.Slack.CallsTo("views.publish")); n != 0 {
		t.Errorf("views.publish called %d times for an event from another organisation", n)
	}
	if n := h.Entra.Count(fakeentra.OpGetUser) + h.Entra.Count(fakeentra.OpFilterUsers); n != 0 {
		t.Errorf("%d Entra user look-ups for an event from another organisation", n)
	}
}
