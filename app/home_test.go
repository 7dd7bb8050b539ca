package app

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeslack"
)

// homeMessage is user's published Home tab as a message, for messageText
// and buttons; ok is false while there is none.
func (h *harness) homeMessage(user string) (fakeslack.View, fakeslack.Message, bool) {
	v, ok := h.slack.HomeView(user)
	if !ok {
		return v, fakeslack.Message{}, false
	}
	var view struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(v.Raw, &view); err != nil {
		h.t.Fatalf("home view of %s: %v", user, err)
	}
	return v, fakeslack.Message{Blocks: view.Blocks, Raw: v.Raw}, true
}

// openHome opens user's Home tab and returns the view apppass published
// for this opening.
func (h *harness) openHome(user string) (fakeslack.View, fakeslack.Message) {
	h.t.Helper()
	before, _ := h.slack.HomeView(user)
	if _, err := h.slack.AppHomeOpened(h.ctx(), user); err != nil {
		h.t.Fatalf("open home of %s: %v", user, err)
	}
	var v fakeslack.View
	var m fakeslack.Message
	h.waitFor("the home tab of "+user, func() bool {
		var ok bool
		v, m, ok = h.homeMessage(user)
		return ok && v.Hash != before.Hash
	})
	return v, m
}

// homeSays waits until user's Home tab shows every one of want and none
// of unwanted, and returns it.
func (h *harness) homeSays(user string, want []string, unwanted ...string) (fakeslack.View, fakeslack.Message) {
	h.t.Helper()
	var v fakeslack.View
	var m fakeslack.Message
	h.waitFor(fmt.Sprintf("%s's home tab to show %q", user, want), func() bool {
		var ok bool
		if v, m, ok = h.homeMessage(user); !ok {
			return false
		}
		text := messageText(m)
		for _, w := range want {
			if !strings.Contains(text, w) {
				return false
			}
		}
		for _, u := range unwanted {
			if strings.Contains(text, u) {
				return false
			}
		}
		return true
	})
	return v, m
}

// clickInHome presses a button of user's Home tab.
func (h *harness) clickInHome(user string, v fakeslack.View, actionID, value string) {
	h.t.Helper()
	if _, err := h.slack.BlockAction(h.ctx(), user, fakeslack.Action{ViewID: v.ID, ActionID: actionID, Value: value}); err != nil {
		h.t.Fatalf("click %s in home: %v", actionID, err)
	}
}

// assertNoSecretPublished checks every views.publish call for every
// secret Entra issued.
func (h *harness) assertNoSecretPublished() {
	h.t.Helper()
	calls := h.slack.CallsTo("views.publish")
	if len(calls) == 0 {
		h.t.Error("no views.publish call was made")
	}
	for _, c := range calls {
		if s := h.secretIn(string(c.Body)); s != "" {
			h.t.Error("a secret was published in a Home tab")
		}
	}
}

func TestHomeForAnEmployee(t *testing.T) {
	h := newHarness(t).start()
	_, m := h.openHome(alice)
	if text := messageText(m); !strings.Contains(text, "0 of 40") || len(buttons(m)["home_create"]) != 1 {
		t.Fatalf("alice's first home: %s; buttons %v", text, buttons(m))
	}

	// Create from the command: the home follows without being reopened.
	h.ask(alice, "create iPhone Mail")
	key := h.entra.CredentialsOf(entraID(alice))[0].KeyID
	v, m := h.homeSays(alice, []string{"1 of 40", "iPhone Mail", "Created", "starts `"})
	if got := buttons(m)["delete_confirm"]; len(got) != 1 || got[0] != key {
		t.Fatalf("home Delete buttons = %v, want the key id %s", got, key)
	}
	if !strings.Contains(string(v.Raw), `"confirm"`) {
		t.Error("the home Delete button does not ask Slack to confirm")
	}

	// Create from the home: the same modal, the secret ephemeral in the DM.
	h.clickInHome(alice, v, "home_create", "create")
	h.waitFor("the create modal", func() bool { return len(h.slack.OpenedViews()) == 1 })
	modal := h.slack.OpenedViews()[0]
	if modal.CallbackID != "apppass_create" {
		t.Fatalf("home opened modal %q, want the create modal", modal.CallbackID)
	}
	if _, err := h.slack.ViewSubmission(h.ctx(), alice, modal.ID, map[string]map[string]string{"name": {"name": "Scanner"}}); err != nil {
		t.Fatal(err)
	}
	var delivered fakeslack.Message
	h.waitFor("the secret in alice's DM", func() bool {
		for _, msg := range h.slack.MessagesIn("D" + alice) {
			if h.secretIn(messageText(msg)) != "" {
				delivered = msg
				return true
			}
		}
		return false
	})
	if !delivered.Ephemeral || delivered.Via != fakeslack.ViaPostEphemeral {
		t.Errorf("secret from the home delivered %+v, want chat.postEphemeral", delivered)
	}
	v, _ = h.homeSays(alice, []string{"2 of 40", "Scanner", "iPhone Mail"})

	// Delete from the home: ownership checked, the home follows.
	h.clickInHome(alice, v, "delete_confirm", key)
	h.waitFor("the delete", func() bool { return h.countOf(alice) == 1 })
	h.homeSays(alice, []string{"1 of 40", "Scanner"}, "iPhone Mail")

	// Bob's tab was never opened: his change publishes nothing (the
	// opening will); then he replays alice's key: refused, nothing removed.
	h.ask(bob, "create Tablet")
	if _, ok := h.slack.HomeView(bob); ok {
		t.Error("a home tab that was never opened was published")
	}
	bv, _ := h.openHome(bob)
	scanner := h.entra.CredentialsOf(entraID(alice))[0].KeyID
	h.clickInHome(bob, bv, "delete_confirm", scanner)
	h.waitFor("bob to be told", func() bool {
		dms := h.slack.DMsTo(bob)
		return len(dms) > 0 && strings.Contains(messageText(dms[len(dms)-1]), "not yours")
	})
	if h.countOf(alice) != 1 {
		t.Fatal("bob removed alice's password from his home")
	}
	h.assertNoSecretPublished()
	h.assertNoLeaks(nil)
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
			_, m := h.openHome(tt.user)
			if text := messageText(m); !strings.Contains(text, tt.want) || len(buttons(m)) != 0 {
				t.Errorf("home of %s: %s; buttons %v", tt.user, text, buttons(m))
			}
		})
	}
}

func TestHomeForHelpdeskAndAdmins(t *testing.T) {
	h := newHarness(t).start()
	h.ask(alice, "create iPhone Mail")
	h.ask(alice, "create Laptop")

	// The employee, the admin, and helpdesk members see what they may.
	h.openHome(adam)
	_, m := h.openHome(hana)
	if text := messageText(m); !strings.Contains(text, "waiting — 0") || strings.Contains(text, "Your revocation requests") {
		t.Errorf("hana's home before any request:\n%s", text)
	}
	h.ask(adam, `revoke <@UALICE|alice> "iPhone Mail" phone stolen`)
	h.homeSays(adam, []string{"Your revocation requests", "#1", "alice@example.test", "waiting for the helpdesk"})
	if _, am, _ := h.homeMessage(adam); strings.Contains(messageText(am), "Revocation requests waiting") {
		t.Error("an admin who is not helpdesk sees the helpdesk's queue")
	}
	_, am := h.openHome(alice)
	if text := messageText(am); strings.Contains(text, "revocation") || strings.Contains(text, "phone stolen") {
		t.Errorf("the employee sees requests:\n%s", text)
	}
	hv, hm := h.openHome(hana)
	if text := messageText(hm); !strings.Contains(text, "waiting — 1") || !strings.Contains(text, "phone stolen") {
		t.Fatalf("hana's home:\n%s", text)
	}
	if b := buttons(hm); len(b["revoke_approve"]) != 1 || len(b["revoke_deny"]) != 1 {
		t.Fatalf("hana's home buttons: %v", b)
	}
	// Holly is admin and helpdesk but not the requester: she may decide.
	_, holm := h.openHome(holly)
	if b := buttons(holm); len(b["revoke_approve"]) != 1 {
		t.Errorf("holly's home buttons: %v", b)
	}

	// The two-person rule holds from the home: adam replays the button.
	h.clickInHome(adam, hv, "revoke_approve", "1")
	h.waitFor("adam to be refused", func() bool {
		for _, dm := range h.slack.DMsTo(adam) {
			if strings.Contains(messageText(dm), "Only helpdesk members") {
				return true
			}
		}
		return false
	})
	if h.countOf(alice) != 2 {
		t.Fatal("a refused approval removed something")
	}

	// Hana approves from her home: every home concerned follows.
	h.clickInHome(hana, hv, "revoke_approve", "1")
	h.waitFor("the removal", func() bool { return h.countOf(alice) == 1 })
	h.homeSays(hana, []string{"waiting — 0"}, "phone stolen")
	h.homeSays(adam, []string{"#1", "approved by <@UHANA>", "1 removed"})
	h.homeSays(alice, []string{"1 of 40", "Laptop"}, "iPhone Mail")
	h.waitFor("the helpdesk message update", func() bool {
		return strings.Contains(messageText(h.helpdeskRequest()), "Approved by <@UHANA>")
	})

	// A denial, from the home's Deny (the same form), refreshes too.
	h.ask(adam, "revoke <@UALICE|alice> Laptop not needed")
	h.homeSays(adam, []string{"#2", "“Laptop”", "waiting for the helpdesk"})
	hv, hm = h.openHome(hana) // the helpdesk's queue is fresh at every opening
	if text := messageText(hm); !strings.Contains(text, "waiting — 1") || !strings.Contains(text, "not needed") {
		t.Fatalf("hana's home with the second request:\n%s", text)
	}
	before := len(h.slack.OpenedViews())
	h.clickInHome(hana, hv, "revoke_deny", "2")
	h.waitFor("the deny form", func() bool { return len(h.slack.OpenedViews()) > before })
	deny := h.slack.OpenedViews()[before]
	if _, err := h.slack.ViewSubmission(h.ctx(), hana, deny.ID, map[string]map[string]string{"reason": {"reason": "confirmed with alice"}}); err != nil {
		t.Fatal(err)
	}
	h.homeSays(adam, []string{"#2", "denied by <@UHANA>", "confirmed with alice"})
	h.homeSays(hana, []string{"waiting — 0"})
	if h.countOf(alice) != 1 {
		t.Error("a denial removed something")
	}
	h.assertNoSecretPublished()
	h.assertNoLeaks(nil)
}

// A person holding 40 passwords and a helpdesk member facing 150 waiting
// requests both get a Home tab that Slack accepts (fakeslack checks views
// as Slack does: 100 blocks and every Block Kit limit).
func TestHomeFitsSlacksLimits(t *testing.T) {
	h := newHarness(t)
	app := h.entra.AddEmployeeApp(entraID(holly), true)
	for i := range 40 {
		h.entra.AddSecret(app.ID, fmt.Sprintf("<!channel> device & %02d %s", i, strings.Repeat("x", 40)), time.Time{})
	}
	h.start()
	for i := range 150 {
		req := &domain.RevocationRequest{RequesterSlack: adam, RequesterID: entraID(adam), TargetSlack: bob, TargetID: entraID(bob),
			TargetName: "bob@example.test", All: true, Reason: strings.Repeat("<!here> left the company ", 20),
			ExpiresAt: h.clock.Now().Add(72 * time.Hour),
			Items:     []domain.RevocationItem{{Password: domain.Password{KeyID: fmt.Sprint("k", i), Name: "Laptop"}}}}
		if err := h.app.DB.CreateRevocation(h.ctx(), req); err != nil {
			t.Fatal(err)
		}
	}
	_, m := h.openHome(holly)
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
	if strings.Contains(h.logs.String(), "home tab not published") {
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
	h.env["APPPASS_SLACK_TEAM"] = "T0THER"
	h.start()
	if _, err := h.slack.AppHomeOpened(h.ctx(), alice); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the warning", func() bool {
		return strings.Contains(h.logs.String(), "app_home_opened from another organisation ignored")
	})
	if n := len(h.slack.CallsTo("views.publish")); n != 0 {
		t.Errorf("views.publish called %d times for an event from another organisation", n)
	}
	if n := h.entra.Count(fakeentra.OpGetUser) + h.entra.Count(fakeentra.OpFilterUsers); n != 0 {
		t.Errorf("%d Entra user look-ups for an event from another organisation", n)
	}
}
