package app

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeslack"
)

// helpdeskRequest returns the newest request message in the helpdesk
// channel.
func (h *harness) helpdeskRequest() fakeslack.Message {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if msgs := h.slack.MessagesIn(helpdesk); len(msgs) > 0 {
			return msgs[len(msgs)-1]
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatal("no request was posted to the helpdesk channel")
	return fakeslack.Message{}
}

// decide clicks a button of the request message as user and returns the
// clicker's ephemeral answer, if one arrives.
func (h *harness) decide(user, actionID string, m fakeslack.Message) *fakeslack.Interaction {
	h.t.Helper()
	ids := buttons(m)[actionID]
	if len(ids) != 1 {
		h.t.Fatalf("request message has %s buttons %v", actionID, buttons(m))
	}
	ix, err := h.slack.BlockAction(h.ctx(), user, fakeslack.Action{ChannelID: helpdesk, MessageTS: m.TS, ActionID: actionID, Value: ids[0]})
	if err != nil {
		h.t.Fatal(err)
	}
	return ix
}

// waitFor polls cond for up to 10 s.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s; calls: %s", what, h.callSummary())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) currentRequest(ts string) fakeslack.Message {
	for _, m := range h.slack.MessagesIn(helpdesk) {
		if m.TS == ts {
			return m
		}
	}
	return fakeslack.Message{}
}

func (h *harness) countOf(user string) int { return len(h.entra.CredentialsOf(entraID(user))) }

func TestRevocationApprovedEndToEnd(t *testing.T) {
	h := newHarness(t).start()
	h.ask(alice, "create iPhone Mail")
	h.ask(alice, "create Laptop")
	receipt := h.ask(adam, `revoke <@UALICE|alice> "iPhone Mail" phone reported stolen`)
	if !strings.Contains(receipt, "Request *#1* is filed") {
		t.Fatalf("receipt: %s", receipt)
	}
	req := h.helpdeskRequest()
	text := messageText(req)
	for _, want := range []string{"#1", "<@UADAM>", "alice@example.test", "iPhone Mail", "phone reported stolen"} {
		if !strings.Contains(text, want) {
			t.Errorf("request message lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Laptop") {
		t.Errorf("request lists a password it does not cover")
	}
	if h.countOf(alice) != 2 {
		t.Fatal("something was revoked before approval")
	}
	h.decide(hana, "revoke_approve", req)
	h.waitFor("the request message update", func() bool { return strings.Contains(messageText(h.currentRequest(req.TS)), "Approved by <@UHANA>") })
	updated := h.currentRequest(req.TS)
	if !strings.Contains(messageText(updated), "→ removed") || len(buttons(updated)) != 0 || updated.Edits == 0 {
		t.Errorf("updated request message:\n%s", messageText(updated))
	}
	if creds := h.entra.CredentialsOf(entraID(alice)); len(creds) != 1 || creds[0].DisplayName != "Laptop" {
		t.Fatalf("after approval alice holds %+v", creds)
	}
	h.waitFor("DMs", func() bool { return len(h.slack.DMsTo(alice)) > 0 && len(h.slack.DMsTo(adam)) > 0 })
	dm := messageText(h.slack.DMsTo(alice)[0])
	for _, want := range []string{"iPhone Mail", "<@UADAM>", "<@UHANA>", "phone reported stolen"} {
		if !strings.Contains(dm, want) {
			t.Errorf("alice's DM lacks %q: %s", want, dm)
		}
	}
	if !strings.Contains(messageText(h.slack.DMsTo(adam)[0]), "1 removed") {
		t.Errorf("adam's DM: %s", messageText(h.slack.DMsTo(adam)[0]))
	}
	// A second click changes nothing and says why.
	again := h.reply(h.decide(hugo, "revoke_approve", req))
	if !strings.Contains(messageText(again), "already decided") {
		t.Errorf("second click answered %q", messageText(again))
	}
	if n := h.entra.Count("removePassword"); n != 1 {
		t.Errorf("removePassword called %d times, want 1", n)
	}
	events, err := h.app.DB.AuditFor(h.ctx(), entraID(alice), 50)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action+":"+e.Outcome)
	}
	for _, want := range []string{"revoke-request:filed #1", "revoke-approve:ok", "revoke:removed"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit trail %v lacks %s", actions, want)
		}
	}
	h.assertNoLeaks(nil)
}

func TestRevocationDeniedWithReason(t *testing.T) {
	h := newHarness(t).start()
	h.ask(alice, "create Laptop")
	h.ask(adam, "revoke <@UALICE|alice> --all left the team")
	req := h.helpdeskRequest()
	ix := h.decide(hana, "revoke_deny", req)
	_ = ix
	h.waitFor("the deny form", func() bool { return len(h.slack.OpenedViews()) == 1 })
	view := h.slack.OpenedViews()[0]
	blank, err := h.slack.ViewSubmission(h.ctx(), hana, view.ID, map[string]map[string]string{"reason": {"reason": " "}})
	if err != nil || !strings.Contains(string(blank.AckPayload), "errors") {
		t.Fatalf("blank deny reason accepted: %s %v", blank.AckPayload, err)
	}
	if _, err := h.slack.ViewSubmission(h.ctx(), hana, view.ID, map[string]map[string]string{"reason": {"reason": "she moved teams, still needs it"}}); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the denial", func() bool { return strings.Contains(messageText(h.currentRequest(req.TS)), "Denied by <@UHANA>") })
	if h.countOf(alice) != 1 {
		t.Fatal("a denied request revoked something")
	}
	h.waitFor("adam's DM", func() bool { return len(h.slack.DMsTo(adam)) > 0 })
	if dm := messageText(h.slack.DMsTo(adam)[0]); !strings.Contains(dm, "denied") || !strings.Contains(dm, "still needs it") {
		t.Errorf("adam's DM: %s", dm)
	}
	// Approving a denied request does nothing.
	h.reply(h.decide(hugo, "revoke_approve", req))
	if h.countOf(alice) != 1 {
		t.Fatal("a denied request was approved afterwards")
	}
}

func TestTheTwoPersonRule(t *testing.T) {
	h := newHarness(t).start()
	h.ask(alice, "create Laptop")
	h.ask(hana, "create Phone")
	// Holly (admin and helpdesk) asks; she may not approve her own request.
	h.ask(holly, "revoke <@UALICE|alice> Laptop compromised")
	req := h.helpdeskRequest()
	for _, tt := range []struct{ who, want string }{
		{holly, "You asked for this revocation"},
		{alice, "Only helpdesk members"},
		{adam, "Only helpdesk members"},
	} {
		out := messageText(h.reply(h.decide(tt.who, "revoke_approve", req)))
		if !strings.Contains(out, tt.want) {
			t.Errorf("%s approving: %q, want %q", tt.who, out, tt.want)
		}
	}
	if h.countOf(alice) != 1 {
		t.Fatal("revoked without a second person")
	}
	// Hana may not approve the revocation of her own passwords.
	h.ask(adam, "revoke <@UHANA|hana> --all audit")
	own := h.helpdeskRequest()
	if out := messageText(h.reply(h.decide(hana, "revoke_approve", own))); !strings.Contains(out, "your own app passwords") {
		t.Errorf("target approving: %q", out)
	}
	if h.countOf(hana) != 1 {
		t.Fatal("the target approved her own revocation")
	}
	if n := h.entra.Count("removePassword"); n != 0 {
		t.Fatalf("%d removals without a valid approver", n)
	}
	// Losing helpdesk membership takes effect at once.
	h.entra.RemoveGroupMember(helpdeskGroup, entraID(hugo))
	if out := messageText(h.reply(h.decide(hugo, "revoke_approve", req))); !strings.Contains(out, "Only helpdesk members") {
		t.Errorf("ex-helpdesk approving: %q", out)
	}
}

func TestConcurrentApprovalsActOnce(t *testing.T) {
	h := newHarness(t).start()
	for i := range 3 {
		h.ask(alice, fmt.Sprintf("create d%d", i))
	}
	h.ask(adam, "revoke <@UALICE|alice> --all offboarding")
	req := h.helpdeskRequest()
	var wg sync.WaitGroup
	for _, who := range []string{hana, hugo} {
		wg.Add(1)
		go func() { defer wg.Done(); h.decide(who, "revoke_approve", req) }()
	}
	wg.Wait()
	h.waitFor("the outcome", func() bool { return strings.Contains(messageText(h.currentRequest(req.TS)), "Approved by") })
	time.Sleep(300 * time.Millisecond) // let a wrongly admitted second approval run, if any
	if n := h.entra.Count("removePassword"); n != 3 {
		t.Fatalf("removePassword called %d times for 3 passwords, want 3", n)
	}
	events, _ := h.app.DB.AuditFor(h.ctx(), entraID(alice), 50)
	approvals := 0
	for _, e := range events {
		if e.Action == "revoke-approve" && e.Outcome == "ok" {
			approvals++
		}
	}
	if approvals != 1 {
		t.Fatalf("%d approvals recorded, want 1", approvals)
	}
}

func TestApprovalAfterRestart(t *testing.T) {
	h := newHarness(t).start()
	h.ask(alice, "create Laptop")
	h.ask(adam, "revoke <@UALICE|alice> Laptop lost")
	req := h.helpdeskRequest()
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.decide(hana, "revoke_approve", req)
	h.waitFor("approval after restart", func() bool { return h.countOf(alice) == 0 })
	h.waitFor("message update", func() bool { return strings.Contains(messageText(h.currentRequest(req.TS)), "Approved by") })
}

func TestRequestsExpire(t *testing.T) {
	h := newHarness(t).start()
	h.ask(alice, "create Laptop")
	h.ask(adam, "revoke <@UALICE|alice> Laptop lost")
	req := h.helpdeskRequest()
	h.clock.Add(73 * time.Hour)
	h.waitFor("the expiry", func() bool { return strings.Contains(messageText(h.currentRequest(req.TS)), "Expired") })
	out := messageText(h.reply(h.decide(hana, "revoke_approve", req)))
	if !strings.Contains(out, "expired") {
		t.Errorf("click on an expired request: %q", out)
	}
	if h.countOf(alice) != 1 {
		t.Fatal("an expired request revoked something")
	}
	h.waitFor("adam's DM", func() bool { return len(h.slack.DMsTo(adam)) > 0 })
	if dm := messageText(h.slack.DMsTo(adam)[0]); !strings.Contains(dm, "expired without a decision") {
		t.Errorf("adam's expiry DM: %s", dm)
	}
}

func TestApprovalInterruptedByACrashIsFinished(t *testing.T) {
	h := newHarness(t).start()
	h.ask(alice, "create Laptop")
	h.ask(adam, "revoke <@UALICE|alice> Laptop lost")
	req := h.helpdeskRequest()
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	// The approval was claimed, then the process died before removing.
	h.start()
	won, err := h.app.DB.ClaimRevocation(h.ctx(), 1, "approving", hana, entraID(hana), "", "pending")
	if err != nil || !won {
		t.Fatalf("claim: %v %v", won, err)
	}
	if h.countOf(alice) != 1 {
		t.Fatal("setup: nothing should be removed yet")
	}
	h.clock.Add(5 * time.Minute)
	h.waitFor("the resumed approval", func() bool { return h.countOf(alice) == 0 })
	h.waitFor("message update", func() bool { return strings.Contains(messageText(h.currentRequest(req.TS)), "Approved by <@UHANA>") })
}

func TestPartialFailureThenRetry(t *testing.T) {
	h := newHarness(t).start()
	for i := range 3 {
		h.ask(alice, fmt.Sprintf("create d%d", i))
	}
	h.ask(adam, "revoke <@UALICE|alice> --all offboarding")
	req := h.helpdeskRequest()
	h.entra.Inject("removePassword", fakeentra.Fault{Status: 500, Code: "InternalServerError"})
	h.decide(hana, "revoke_approve", req)
	h.waitFor("partly done", func() bool { return strings.Contains(messageText(h.currentRequest(req.TS)), "partly done") })
	partial := h.currentRequest(req.TS)
	if !strings.Contains(messageText(partial), "2 removed, 1 failed") || h.countOf(alice) != 1 {
		t.Fatalf("partial state: %d left\n%s", h.countOf(alice), messageText(partial))
	}
	h.decide(hugo, "revoke_retry", partial)
	h.waitFor("retry done", func() bool { return h.countOf(alice) == 0 })
	h.waitFor("message done", func() bool {
		m := messageText(h.currentRequest(req.TS))
		return strings.Contains(m, ":white_check_mark:") && strings.Contains(m, "3 removed")
	})
}

func TestRevokeRefusals(t *testing.T) {
	h := newHarness(t).start()
	h.ask(alice, "create Laptop")
	tests := []struct{ who, text, want string }{
		{bob, "revoke <@UALICE|alice> --all because", "Only apppass admins"},
		{adam, "revoke <@UERIN|erin> --all because", "doesn't match a Microsoft 365 account"},
		{adam, "revoke <@UBOB|bob> --all because", "no app passwords"},
		{adam, "revoke <@UALICE|alice> Phone because", "no app password called “Phone”"},
		{adam, "revoke <@UALICE|alice> --all", "needs a reason"},
		{bob, "requests", "Only apppass admins and the helpdesk"},
		{adam, "show <@UALICE|alice>", "Only the helpdesk"},
	}
	for _, tt := range tests {
		if out := h.ask(tt.who, tt.text); !strings.Contains(out, tt.want) {
			t.Errorf("%s: /apppass %s answered %q, want %q", tt.who, tt.text, out, tt.want)
		}
	}
	if n := len(h.slack.MessagesIn(helpdesk)); n != 0 {
		t.Fatalf("%d requests filed by refused commands", n)
	}
}

func TestRequestsAndShow(t *testing.T) {
	h := newHarness(t).start()
	h.ask(alice, "create Laptop")
	h.ask(adam, "revoke <@UALICE|alice> Laptop lost")
	for _, who := range []string{adam, hana} {
		if out := h.ask(who, "requests"); !strings.Contains(out, "#1") || !strings.Contains(out, "alice@example.test") {
			t.Errorf("%s requests: %s", who, out)
		}
	}
	out := h.ask(hana, "show <@UALICE|alice>")
	for _, want := range []string{"alice@example.test", "1 of 40", "Laptop", "create", "revoke-request"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if h.secretIn(out) != "" {
		t.Fatal("show revealed a secret")
	}
}

// TestAuthorizationTable runs every command and button as every role and
// checks what changed in Entra.
func TestAuthorizationTable(t *testing.T) {
	h := newHarness(t).start()
	type role struct{ name, user string }
	roles := []role{{"employee", bob}, {"admin", adam}, {"helpdesk", hana}, {"disabled", dave}, {"unknown", erin}}
	type outcome struct{ removed, created int }
	run := func(r role, op string) outcome {
		h.clock.Add(61 * time.Second) // alice creates more than 10 a minute otherwise
		h.ask(alice, "create victim-"+op+r.name)
		key := ""
		for _, c := range h.entra.CredentialsOf(entraID(alice)) {
			if c.DisplayName == "victim-"+op+r.name {
				key = c.KeyID
			}
		}
		before := len(h.entra.Applications())
		beforeRemoved := h.entra.Count("removePassword")
		switch op {
		case "create":
			h.ask(r.user, "create mine")
		case "delete-others-button":
			h.reply(h.click(r.user, "delete_confirm", key))
		case "revoke":
			h.ask(r.user, `revoke <@UALICE|alice> "victim-`+op+r.name+`" test`)
		case "approve-others-request":
			h.ask(holly, `revoke <@UALICE|alice> "victim-`+op+r.name+`" test`)
			m := h.helpdeskRequest()
			ix := h.decide(r.user, "revoke_approve", m)
			h.waitFor("a decision or a refusal", func() bool {
				if h.currentRequest(m.TS).Edits > 0 {
					return true
				}
				for _, msg := range h.slack.Messages() {
					if msg.ResponseURL == ix.ResponseID {
						return true
					}
				}
				return false
			})
		}
		return outcome{removed: h.entra.Count("removePassword") - beforeRemoved, created: len(h.entra.Applications()) - before}
	}
	want := map[string]map[string]outcome{
		"create":                 {"employee": {0, 1}, "admin": {0, 1}, "helpdesk": {0, 1}, "disabled": {}, "unknown": {}},
		"delete-others-button":   {"employee": {}, "admin": {}, "helpdesk": {}, "disabled": {}, "unknown": {}},
		"revoke":                 {"employee": {}, "admin": {}, "helpdesk": {}, "disabled": {}, "unknown": {}},
		"approve-others-request": {"employee": {}, "admin": {}, "helpdesk": {1, 0}, "disabled": {}, "unknown": {}},
	}
	for _, op := range []string{"create", "delete-others-button", "revoke", "approve-others-request"} {
		for _, r := range roles {
			got := run(r, op)
			if got != want[op][r.name] {
				t.Errorf("%s as %s: removed %d, applications created %d; want %+v", op, r.name, got.removed, got.created, want[op][r.name])
			}
		}
	}
	// Revoke as admin files a request (and removes nothing by itself).
	filed := len(h.slack.MessagesIn(helpdesk))
	h.ask(adam, "revoke <@UALICE|alice> --all test")
	if len(h.slack.MessagesIn(helpdesk)) != filed+1 {
		t.Error("an admin's revoke was not filed")
	}
}

// --all means all at approval time, and the target cannot create while
// such a request waits.
func TestRevokeAllCoversPasswordsMadeWhileItWaits(t *testing.T) {
	h := newHarness(t).start()
	h.ask(alice, "create Phone")
	h.ask(adam, "revoke <@UALICE|alice> --all left the company")
	req := h.helpdeskRequest()

	out := h.ask(alice, "create Tablet")
	if h.secretIn(out) != "" || !strings.Contains(out, "#1") {
		t.Errorf("create while an --all request waits answered:\n%s", out)
	}
	// One made meanwhile by other means still goes.
	apps := h.entra.Applications()
	h.entra.AddSecret(apps[0].ID, "Made meanwhile", time.Time{})

	h.decide(hana, "revoke_approve", req)
	h.waitFor("the revocation", func() bool { return strings.Contains(messageText(h.currentRequest(req.TS)), "Approved by") })
	if creds := h.entra.CredentialsOf(entraID(alice)); len(creds) != 0 {
		t.Errorf("after approving --all alice holds %+v", creds)
	}
	if text := messageText(h.currentRequest(req.TS)); !strings.Contains(text, "Made meanwhile") {
		t.Errorf("the request message does not show the password added meanwhile:\n%s", text)
	}
	if h.secretIn(h.ask(alice, "create Tablet")) == "" {
		t.Errorf("create after the decision failed")
	}
}
