package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/jobs"
)

func TestOffboardingRemovesThePasswordsOfPeopleWhoLeft(t *testing.T) {
	h := newHarness(t)
	h.Env["APPPASS_REPORT_CHANNEL"] = "CREPORT"
	h.Slack.AddChannel("CREPORT")
	h.Start()
	h.Ask(alice, "create Phone")
	h.Ask(alice, "create Laptop")
	h.Ask(bob, "create Tablet")

	if res := h.RunJob(jobs.Offboarding); res.Counts["full_sync"] != 1 || res.Counts["removed"] != 0 {
		t.Fatalf("first run counts = %v; want a full sync removing nothing (dave is disabled but holds nothing)", res.Counts)
	}

	h.Entra.DisableUser(entraID(alice))
	h.Entra.ResetCalls()
	res := h.RunJob(jobs.Offboarding)
	if res.Counts["full_sync"] != 0 || res.Counts["removed"] != 2 {
		t.Errorf("second run counts = %v; want 2 removed from the delta, no full sync", res.Counts)
	}
	calls := h.Entra.CallsOf(fakeentra.OpUsersDelta)
	if len(calls) != 1 || !strings.Contains(calls[0].RawQuery, "deltatoken") {
		t.Errorf("users delta calls = %+v; want one, with the stored delta link", calls)
	}
	if n := len(h.Entra.CredentialsOf(entraID(alice))); n != 0 {
		t.Errorf("alice, disabled, still holds %d app passwords", n)
	}
	if n := len(h.Entra.CredentialsOf(entraID(bob))); n != 1 {
		t.Errorf("bob holds %d app passwords, want his 1", n)
	}
	if n := countContaining(h.HelpdeskTexts(), "removed all 2 app passwords of alice@example.test"); n != 1 {
		t.Errorf("helpdesk told %d times of alice's removal:\n%s", n, strings.Join(h.HelpdeskTexts(), "\n"))
	}
	removals, err := h.App.DB.RemovalsSince(h.Ctx(), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	disabled := false
	for _, r := range removals {
		disabled = disabled || (r.OwnerID == entraID(alice) && r.KeyID == "" && r.Reason == "disabled")
	}
	if !disabled {
		t.Errorf("no owner-wide removal recorded for the mail gateway: %+v", removals)
	}

	// A deleted owner, after Graph expired the delta link: a full sync.
	h.Entra.DeleteUser(entraID(bob))
	h.Entra.ExpireDeltaLinks(400)
	res = h.RunJob(jobs.Offboarding)
	if res.Counts["full_sync"] != 1 || res.Counts["removed"] != 1 {
		t.Errorf("run after expiry counts = %v; want a full sync removing bob's 1", res.Counts)
	}
	if n := len(h.Entra.CredentialsOf(entraID(bob))); n != 0 {
		t.Errorf("bob, deleted, still holds %d app passwords", n)
	}

	// The hygiene report counts both as offboarded owners.
	if res := h.RunJob(jobs.HygieneReport); res.Counts["offboarded"] != 2 {
		t.Errorf("hygiene report counts = %v; want offboarded 2", res.Counts)
	}
	msgs := h.Slack.MessagesIn("CREPORT")
	if len(msgs) == 0 || !strings.Contains(messageText(msgs[len(msgs)-1]), "Owners disabled or deleted in Entra, offboarded:* 2") {
		t.Errorf("the hygiene report does not show the offboarded owners")
	}
}

func TestOffboardingCanAskTheHelpdeskInstead(t *testing.T) {
	h := newHarness(t)
	h.Env["APPPASS_OFFBOARDING_ACTION"] = "request"
	h.Start()
	h.Ask(alice, "create Phone")
	h.RunJob(jobs.Offboarding)
	h.Entra.DisableUser(entraID(alice))
	if res := h.RunJob(jobs.Offboarding); res.Counts["requested"] != 1 {
		t.Fatalf("counts = %v; want one request", res.Counts)
	}
	if n := len(h.Entra.CredentialsOf(entraID(alice))); n != 1 {
		t.Fatalf("removed before approval: %d left", n)
	}
	req := h.HelpdeskRequest()
	if text := messageText(req); !strings.Contains(text, "alice@example.test") || !strings.Contains(text, "disabled") ||
		!strings.Contains(text, "*Asked by:* apppass") || strings.Contains(text, "<@apppass>") || strings.Contains(text, "<@>") {
		t.Errorf("request message:\n%s", text)
	}
	// A second disablement event (or a rerun) files nothing new while one waits.
	h.Entra.EnableUser(entraID(alice))
	h.Entra.DisableUser(entraID(alice))
	if res := h.RunJob(jobs.Offboarding); res.Counts["requested"] != 0 {
		t.Errorf("a second request was filed: %v", res.Counts)
	}
	h.Decide(hana, "revoke_approve", req)
	h.WaitFor("the approved removal", func() bool { return len(h.Entra.CredentialsOf(entraID(alice))) == 0 })
	h.WaitFor("the request message's outcome", func() bool { return strings.Contains(messageText(h.HelpdeskRequest()), "Approved by") })
	// apppass asked; there is nobody to DM about the outcome.
	if strings.Contains(h.Logs.String(), "DM not sent") {
		t.Errorf("apppass tried to DM itself about its own request:\n%s", h.Logs.String())
	}
}
