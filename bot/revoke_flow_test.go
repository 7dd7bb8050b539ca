package bot_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeslack"
)

func TestRevocationApprovedEndToEnd(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create iPhone Mail")
	h.Ask(alice, "create Laptop")
	receipt := h.Ask(adam, `revoke <@UALICE|alice> "iPhone Mail" phone reported stolen`)
	if !strings.Contains(receipt, "Request *#1* is filed") {
		t.Fatalf("receipt: %s", receipt)
	}
	req := h.HelpdeskRequest()
	text := messageText(req)
	for _, want := range []string{"#1", "<@UADAM>", "alice@example.test", "iPhone Mail", "phone reported stolen"} {
		if !strings.Contains(text, want) {
			t.Errorf("request message lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Laptop") {
		t.Errorf("request lists a password it does not cover")
	}
	if h.CountOf(alice) != 2 {
		t.Fatal("something was revoked before approval")
	}
	h.Decide(hana, "revoke_approve", req)
	h.WaitFor("the request message update", func() bool { return strings.Contains(messageText(h.CurrentRequest(req.TS)), "Approved by <@UHANA>") })
	updated := h.CurrentRequest(req.TS)
	if !strings.Contains(messageText(updated), "→ removed") || len(buttons(updated)) != 0 || updated.Edits == 0 {
		t.Errorf("updated request message:\n%s", messageText(updated))
	}
	if creds := h.Entra.CredentialsOf(entraID(alice)); len(creds) != 1 || creds[0].DisplayName != "Laptop" {
		t.Fatalf("after approval alice holds %+v", creds)
	}
	h.WaitFor("DMs", func() bool { return len(h.Slack.DMsTo(alice)) > 0 && len(h.Slack.DMsTo(adam)) > 0 })
	dm := messageText(h.Slack.DMsTo(alice)[0])
	for _, want := range []string{"iPhone Mail", "<@UADAM>", "<@UHANA>", "phone reported stolen"} {
		if !strings.Contains(dm, want) {
			t.Errorf("alice's DM lacks %q: %s", want, dm)
		}
	}
	if !strings.Contains(messageText(h.Slack.DMsTo(adam)[0]), "1 removed") {
		t.Errorf("adam's DM: %s", messageText(h.Slack.DMsTo(adam)[0]))
	}
	// A second click changes nothing and says why.
	again := h.Reply(h.Decide(hugo, "revoke_approve", req))
	if !strings.Contains(messageText(again), "already decided") {
		t.Errorf("second click answered %q", messageText(again))
	}
	if n := h.Entra.Count("removePassword"); n != 1 {
		t.Errorf("removePassword called %d times, want 1", n)
	}
	h.assertAudited(alice, "revoke-request:filed #1", "revoke-approve:ok", "revoke:removed")
	h.AssertNoLeaks(nil)
}

// assertAudited checks that who's audit trail holds each of want, as
// action:outcome.
func (h *harness) assertAudited(who string, want ...string) {
	h.T.Helper()
	events, err := h.App.DB.AuditFor(h.Ctx(), entraID(who), 50)
	if err != nil {
		h.T.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action+":"+e.Outcome)
	}
	for _, w := range want {
		if !strings.Contains(strings.Join(actions, " "), w) {
			h.T.Errorf("%s's audit trail %v lacks %s", who, actions, w)
		}
	}
}

func TestRevocationDeniedWithReason(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create Laptop")
	h.Ask(adam, "revoke <@UALICE|alice> --all left the team")
	req := h.HelpdeskRequest()
	ix := h.Decide(hana, "revoke_deny", req)
	_ = ix
	h.WaitFor("the deny form", func() bool { return len(h.Slack.OpenedViews()) == 1 })
	view := h.Slack.OpenedViews()[0]
	blank, err := h.Slack.ViewSubmission(h.Ctx(), hana, view.ID, map[string]map[string]string{"reason": {"reason": " "}})
	if err != nil || !strings.Contains(string(blank.AckPayload), "errors") {
		t.Fatalf("blank deny reason accepted: %s %v", blank.AckPayload, err)
	}
	if _, err := h.Slack.ViewSubmission(h.Ctx(), hana, view.ID, map[string]map[string]string{"reason": {"reason": "she moved teams, still needs it"}}); err != nil {
		t.Fatal(err)
	}
	h.WaitFor("the denial", func() bool { return strings.Contains(messageText(h.CurrentRequest(req.TS)), "Denied by <@UHANA>") })
	if h.CountOf(alice) != 1 {
		t.Fatal("a denied request revoked something")
	}
	h.WaitFor("adam's DM", func() bool { return len(h.Slack.DMsTo(adam)) > 0 })
	if dm := messageText(h.Slack.DMsTo(adam)[0]); !strings.Contains(dm, "denied") || !strings.Contains(dm, "still needs it") {
		t.Errorf("adam's DM: %s", dm)
	}
	// Approving a denied request does nothing.
	h.Reply(h.Decide(hugo, "revoke_approve", req))
	if h.CountOf(alice) != 1 {
		t.Fatal("a denied request was approved afterwards")
	}
}

func TestTheTwoPersonRule(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create Laptop")
	h.Ask(hana, "create Phone")
	// holly (admin and helpdesk) asks; she may not approve her own request.
	h.Ask(holly, "revoke <@UALICE|alice> Laptop compromised")
	req := h.HelpdeskRequest()
	for _, tt := range []struct{ who, want string }{
		{holly, "You asked for this revocation"},
		{alice, "Only helpdesk members"},
		{adam, "Only helpdesk members"},
	} {
		out := messageText(h.Reply(h.Decide(tt.who, "revoke_approve", req)))
		if !strings.Contains(out, tt.want) {
			t.Errorf("%s approving: %q, want %q", tt.who, out, tt.want)
		}
	}
	if h.CountOf(alice) != 1 {
		t.Fatal("revoked without a second person")
	}
	// hana may not approve the revocation of her own passwords.
	h.Ask(adam, "revoke <@UHANA|hana> --all audit")
	own := h.HelpdeskRequest()
	if out := messageText(h.Reply(h.Decide(hana, "revoke_approve", own))); !strings.Contains(out, "your own app passwords") {
		t.Errorf("target approving: %q", out)
	}
	if h.CountOf(hana) != 1 {
		t.Fatal("the target approved her own revocation")
	}
	if n := h.Entra.Count("removePassword"); n != 0 {
		t.Fatalf("%d removals without a valid approver", n)
	}
	// Losing helpdesk membership takes effect at once.
	h.Entra.RemoveGroupMember(helpdeskGroup, entraID(hugo))
	if out := messageText(h.Reply(h.Decide(hugo, "revoke_approve", req))); !strings.Contains(out, "Only helpdesk members") {
		t.Errorf("ex-helpdesk approving: %q", out)
	}
}

func TestConcurrentApprovalsActOnce(t *testing.T) {
	h := newHarness(t).start()
	for i := range 3 {
		h.Ask(alice, fmt.Sprintf("create d%d", i))
	}
	h.Ask(adam, "revoke <@UALICE|alice> --all offboarding")
	req := h.HelpdeskRequest()
	done := h.Finished()
	var wg sync.WaitGroup
	for _, who := range []string{hana, hugo} {
		wg.Add(1)
		go func() { defer wg.Done(); h.Decide(who, "revoke_approve", req) }()
	}
	wg.Wait()
	h.WaitFor("the outcome", func() bool { return strings.Contains(messageText(h.CurrentRequest(req.TS)), "Approved by") })
	h.WaitFinished(done + 2) // both clicks worked on to the end
	if n := h.Entra.Count("removePassword"); n != 3 {
		t.Fatalf("removePassword called %d times for 3 passwords, want 3", n)
	}
	events, _ := h.App.DB.AuditFor(h.Ctx(), entraID(alice), 50)
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
	h.Ask(alice, "create Laptop")
	h.Ask(adam, "revoke <@UALICE|alice> Laptop lost")
	req := h.HelpdeskRequest()
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	h.Start()
	h.Decide(hana, "revoke_approve", req)
	h.WaitFor("approval after restart", func() bool { return h.CountOf(alice) == 0 })
	h.WaitFor("message update", func() bool { return strings.Contains(messageText(h.CurrentRequest(req.TS)), "Approved by") })
}

func TestRequestsExpire(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create Laptop")
	h.Ask(adam, "revoke <@UALICE|alice> Laptop lost")
	req := h.HelpdeskRequest()
	h.Clock.Add(73 * time.Hour)
	h.WaitFor("the expiry", func() bool { return strings.Contains(messageText(h.CurrentRequest(req.TS)), "Expired") })
	out := messageText(h.Reply(h.Decide(hana, "revoke_approve", req)))
	if !strings.Contains(out, "expired") {
		t.Errorf("click on an expired request: %q", out)
	}
	if h.CountOf(alice) != 1 {
		t.Fatal("an expired request revoked something")
	}
	h.WaitFor("adam's DM", func() bool { return len(h.Slack.DMsTo(adam)) > 0 })
	if dm := messageText(h.Slack.DMsTo(adam)[0]); !strings.Contains(dm, "expired without a decision") {
		t.Errorf("adam's expiry DM: %s", dm)
	}
}

func TestApprovalInterruptedByACrashIsFinished(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create Laptop")
	h.Ask(adam, "revoke <@UALICE|alice> Laptop lost")
	req := h.HelpdeskRequest()
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	// The approval was claimed, then the process died before removing.
	h.Start()
	won, err := h.App.DB.ClaimRevocation(h.Ctx(), 1, "approving", hana, entraID(hana), "", "pending")
	if err != nil || !won {
		t.Fatalf("claim: %v %v", won, err)
	}
	if h.CountOf(alice) != 1 {
		t.Fatal("setup: nothing should be removed yet")
	}
	h.Clock.Add(5 * time.Minute)
	h.WaitFor("the resumed approval", func() bool { return h.CountOf(alice) == 0 })
	h.WaitFor("message update", func() bool { return strings.Contains(messageText(h.CurrentRequest(req.TS)), "Approved by <@UHANA>") })
}

func TestPartialFailureThenRetry(t *testing.T) {
	h := newHarness(t).start()
	for i := range 3 {
		h.Ask(alice, fmt.Sprintf("create d%d", i))
	}
	h.Ask(adam, "revoke <@UALICE|alice> --all offboarding")
	req := h.HelpdeskRequest()
	h.Entra.Inject("removePassword", fakeentra.Fault{Status: 500, Code: "InternalServerError"})
	h.Decide(hana, "revoke_approve", req)
	h.WaitFor("partly done", func() bool { return strings.Contains(messageText(h.CurrentRequest(req.TS)), "partly done") })
	partial := h.CurrentRequest(req.TS)
	if !strings.Contains(messageText(partial), "2 removed, 1 failed") || h.CountOf(alice) != 1 {
		t.Fatalf("partial state: %d left\n%s", h.CountOf(alice), messageText(partial))
	}
	h.Decide(hugo, "revoke_retry", partial)
	h.WaitFor("retry done", func() bool { return h.CountOf(alice) == 0 })
	h.WaitFor("message done", func() bool {
		m := messageText(h.CurrentRequest(req.TS))
		return strings.Contains(m, ":white_check_mark:") && strings.Contains(m, "3 removed")
	})
}

func TestRevokeRefusals(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create Laptop")
	tests := []struct{ who, text, want string }{
		{bob, "revoke <@UALICE|alice> --all because", "Only apppass admins"},
		{adam, "revoke <@UERIN|erin> --all because", "doesn't match a Microsoft 365 account"},
		{adam, "revoke <@UBOB|bob> --all because", "no app passwords"},
		{adam, "revoke <@UALICE|alice> Phone because", "no app password called “Phone”"},
		{adam, "revoke <@UALICE|alice> --all", "needs a reason"},
		{adam, "revoke <@UALICE|alice> <@UERIN|erin> --all because", "erin@elsewhere.test: That Slack user doesn't match a Microsoft 365 account"},
		{adam, "revoke <@UALICE|alice> <@UBOB|bob> Laptop because", "bob@example.test has no app password called “Laptop”"},
		{adam, "revoke " + strings.Repeat("<@UALICE|alice> ", 51) + "--all because", "at most 50 people, and this one names 51"},
		{bob, "requests", "Only apppass admins and the helpdesk"},
		{adam, "show <@UALICE|alice>", "Only the helpdesk"},
	}
	for _, tt := range tests {
		if out := h.Ask(tt.who, tt.text); !strings.Contains(out, tt.want) {
			t.Errorf("%s: /apppass %s answered %q, want %q", tt.who, tt.text, out, tt.want)
		}
	}
	if n := len(h.Slack.MessagesIn(helpdesk)); n != 0 {
		t.Fatalf("%d requests filed by refused commands", n)
	}
}

func TestRequestsAndShow(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create Laptop")
	h.Ask(adam, "revoke <@UALICE|alice> Laptop lost")
	for _, who := range []string{adam, hana} {
		if out := h.Ask(who, "requests"); !strings.Contains(out, "#1") || !strings.Contains(out, "alice@example.test") {
			t.Errorf("%s requests: %s", who, out)
		}
	}
	out := h.Ask(hana, "show <@UALICE|alice>")
	for _, want := range []string{"alice@example.test", "1 of 40", "Laptop", "create", "revoke-request"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if h.SecretIn(out) != "" {
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
		h.Clock.Add(61 * time.Second) // alice creates more than 10 a minute otherwise
		h.Ask(alice, "create victim-"+op+r.name)
		key := ""
		for _, c := range h.Entra.CredentialsOf(entraID(alice)) {
			if c.DisplayName == "victim-"+op+r.name {
				key = c.KeyID
			}
		}
		before := len(h.Entra.Applications())
		beforeRemoved := h.Entra.Count("removePassword")
		switch op {
		case "create":
			h.Ask(r.user, "create mine")
		case "delete-others-button":
			h.Reply(h.Click(r.user, "delete_confirm", key))
		case "revoke":
			h.Ask(r.user, `revoke <@UALICE|alice> "victim-`+op+r.name+`" test`)
		case "approve-others-request":
			h.Ask(holly, `revoke <@UALICE|alice> "victim-`+op+r.name+`" test`)
			m := h.HelpdeskRequest()
			ix := h.Decide(r.user, "revoke_approve", m)
			h.WaitFor("a decision or a refusal", func() bool {
				if h.CurrentRequest(m.TS).Edits > 0 {
					return true
				}
				for _, msg := range h.Slack.Messages() {
					if msg.ResponseURL == ix.ResponseID {
						return true
					}
				}
				return false
			})
		}
		return outcome{removed: h.Entra.Count("removePassword") - beforeRemoved, created: len(h.Entra.Applications()) - before}
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
	filed := len(h.Slack.MessagesIn(helpdesk))
	h.Ask(adam, "revoke <@UALICE|alice> --all test")
	if len(h.Slack.MessagesIn(helpdesk)) != filed+1 {
		t.Error("an admin's revoke was not filed")
	}
}

// --all means all at approval time, and the target cannot create while
// such a request waits.
func TestRevokeAllCoversPasswordsMadeWhileItWaits(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create Phone")
	h.Ask(adam, "revoke <@UALICE|alice> --all left the company")
	req := h.HelpdeskRequest()

	out := h.Ask(alice, "create Tablet")
	if h.SecretIn(out) != "" || !strings.Contains(out, "#1") {
		t.Errorf("create while an --all request waits answered:\n%s", out)
	}
	// One made meanwhile by other means still goes.
	apps := h.Entra.Applications()
	h.Entra.AddSecret(apps[0].ID, "Made meanwhile", time.Time{})

	h.Decide(hana, "revoke_approve", req)
	h.WaitFor("the revocation", func() bool { return strings.Contains(messageText(h.CurrentRequest(req.TS)), "Approved by") })
	if creds := h.Entra.CredentialsOf(entraID(alice)); len(creds) != 0 {
		t.Errorf("after approving --all alice holds %+v", creds)
	}
	if text := messageText(h.CurrentRequest(req.TS)); !strings.Contains(text, "Made meanwhile") {
		t.Errorf("the request message does not show the password added meanwhile:\n%s", text)
	}
	if h.SecretIn(h.Ask(alice, "create Tablet")) == "" {
		t.Errorf("create after the decision failed")
	}
}

// Names and reasons are echoed as typed everywhere a person reads them,
// not only in the helpdesk channel: formatting characters cannot bold or
// slant text in a list, a receipt or the owner's DM.
func TestNamesAndReasonsAreEchoedVerbatimInListsAndDMs(t *testing.T) {
	h := newHarness(t).start()
	const zw = "\u200b"
	h.Ask(alice, "create *Scanner*")
	if out := h.Ask(alice, "list"); !strings.Contains(out, zw+"*"+zw+"Scanner"+zw+"*"+zw) {
		t.Errorf("list does not show the name verbatim:\n%q", out)
	}
	h.Ask(adam, `revoke <@UALICE|alice> --all _urgent_ move`)
	req := h.HelpdeskRequest()
	h.Decide(hana, "revoke_approve", req)
	h.WaitFor("alice's DM", func() bool { return len(h.Slack.DMsTo(alice)) > 0 })
	dm := messageText(h.Slack.DMsTo(alice)[0])
	if !strings.Contains(dm, zw+"_"+zw+"urgent"+zw+"_"+zw) || !strings.Contains(dm, zw+"*"+zw+"Scanner") {
		t.Errorf("alice's DM does not echo the name and reason verbatim:\n%q", dm)
	}
}

// The admin center's "delete all existing app passwords generated by
// selected users", in one request: three people, one of them a helpdesk
// member, who may not decide it; another helpdesk member approves; each
// of the three is DMed about their own passwords; a removal that failed
// is retried, and only its owner is told again.
func TestRevocationOfSeveralPeopleEndToEnd(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create Scanner")
	h.Ask(alice, "create Laptop")
	h.Ask(hana, "create Scanner")
	h.Ask(bob, "create Scanner")
	// Typed as a person would: Slack makes links of the handles and the
	// address (bob is named by address, as a leaver would be).
	ix, err := h.Slack.SlashCommandTyped(h.Ctx(), adam, channel, "/apppass",
		"revoke @alice @hana bob@example.test --all the office scanner was compromised")
	if err != nil {
		t.Fatal(err)
	}
	receipt := messageText(h.Reply(ix))
	if !strings.Contains(receipt, "Request *#1* is filed: revoke all 4 app passwords of 3 people (alice@example.test, hana@example.test and bob@example.test)") {
		t.Fatalf("receipt: %s", receipt)
	}
	if n := len(h.Slack.MessagesIn(helpdesk)); n != 1 {
		t.Fatalf("%d helpdesk messages, want one for all three", n)
	}
	req := h.HelpdeskRequest()
	text := messageText(req)
	for _, want := range []string{"#1", "*For:* 3 people, 4 app passwords", "*alice@example.test* (<@UALICE>)", "*hana@example.test* (<@UHANA>)",
		"*bob@example.test* (<@UBOB>)", "Scanner", "Laptop", "the office scanner was compromised"} {
		if !strings.Contains(text, want) {
			t.Errorf("request message lacks %q:\n%s", want, text)
		}
	}
	if n := len(buttons(req)); n != 2 {
		t.Errorf("request message has %d buttons, want Approve and Deny", n)
	}

	// hana is one of the three.
	refused := messageText(h.Reply(h.Decide(hana, "revoke_approve", req)))
	if !strings.Contains(refused, "Your own app passwords are among these") {
		t.Fatalf("hana's approval answered %q", refused)
	}
	if h.CountOf(alice)+h.CountOf(hana)+h.CountOf(bob) != 4 || h.Entra.Count("removePassword") != 0 {
		t.Fatal("hana's refused approval removed something")
	}

	// hugo approves; Graph fails the first removal (whose it is depends
	// on which of the three is worked on first: they are worked on at once).
	held := map[string]int{alice: 2, hana: 1, bob: 1}
	h.Entra.Inject("removePassword", fakeentra.Fault{Status: 500, Code: "InternalServerError"})
	h.Decide(hugo, "revoke_approve", req)
	h.WaitFor("partly done", func() bool { return strings.Contains(messageText(h.CurrentRequest(req.TS)), "partly done") })
	partial := h.CurrentRequest(req.TS)
	failedFor := ""
	for who := range held {
		switch h.CountOf(who) {
		case 0:
		case 1:
			if failedFor != "" {
				t.Fatalf("both %s and %s keep a password", failedFor, who)
			}
			failedFor = who
		default:
			t.Fatalf("%s keeps %d passwords", who, h.CountOf(who))
		}
	}
	if failedFor == "" || !strings.Contains(messageText(partial), "3 removed, 1 failed") {
		t.Fatalf("partial: nobody keeps a password, or the message says otherwise:\n%s", messageText(partial))
	}
	h.WaitFor("the requester's DM", func() bool { return len(h.Slack.DMsTo(adam)) == 1 })
	for who, n := range held {
		removed := n
		if who == failedFor {
			removed--
		}
		dms := h.Slack.DMsTo(who)
		if removed == 0 {
			if len(dms) != 0 {
				t.Errorf("%s, who lost nothing yet, has %d DMs", who, len(dms))
			}
			continue
		}
		if len(dms) != 1 {
			t.Fatalf("%s has %d DMs, want 1", who, len(dms))
		}
		dm := messageText(dms[0])
		want := fmt.Sprintf("%d of your app passwords %s revoked", removed, map[bool]string{true: "was", false: "were"}[removed == 1])
		if !strings.Contains(dm, want) || !strings.Contains(dm, "<@UADAM>") || !strings.Contains(dm, "<@UHUGO>") ||
			!strings.Contains(dm, "the office scanner was compromised") {
			t.Errorf("%s's DM lacks %q, the people or the reason: %s", who, want, dm)
		}
		// Each is told of their own passwords only.
		for _, other := range []string{"alice@", "hana@", "bob@"} {
			if strings.Contains(dm, other) {
				t.Errorf("%s's DM names %q: %s", who, other, dm)
			}
		}
	}
	if dm := messageText(h.Slack.DMsTo(adam)[0]); !strings.Contains(dm, "3 people") || !strings.Contains(dm, "3 removed, 1 failed") {
		t.Errorf("adam's DM: %s", dm)
	}

	// holly retries (she is helpdesk, and not among them): only the failed
	// one is removed, and only its owner is told, of it alone.
	told := map[string]int{}
	for who := range held {
		told[who] = len(h.Slack.DMsTo(who))
	}
	h.Decide(holly, "revoke_retry", partial)
	h.WaitFor("the requester's second DM", func() bool { return len(h.Slack.DMsTo(adam)) == 2 })
	if h.CountOf(failedFor) != 0 || h.Entra.Count("removePassword") != 5 {
		t.Fatalf("after the retry %s holds %d, removePassword called %d times (want 0 and 4+1 failed)", failedFor, h.CountOf(failedFor), h.Entra.Count("removePassword"))
	}
	if m := messageText(h.CurrentRequest(req.TS)); !strings.Contains(m, ":white_check_mark:") || !strings.Contains(m, "4 removed") {
		t.Errorf("request message after the retry:\n%s", m)
	}
	for who := range held {
		dms := h.Slack.DMsTo(who)
		switch {
		case who == failedFor && (len(dms) != told[who]+1 || !strings.Contains(messageText(dms[len(dms)-1]), "1 of your app passwords was revoked")):
			t.Errorf("%s, whose removal the retry finished, has %d DMs (had %d)", who, len(dms), told[who])
		case who != failedFor && len(dms) != told[who]:
			t.Errorf("%s was DMed again at the retry (%d DMs, had %d)", who, len(dms), told[who])
		}
	}
	for _, who := range []string{alice, hana, bob} {
		h.assertAudited(who, "revoke-request:filed #1", "revoke-approve:ok", "revoke:removed")
	}
	h.AssertNoLeaks(nil)
}

// The most one request holds: 50 people, named by address, with 40 app
// passwords each. Slack takes the one helpdesk message, and its rewrite
// at the decision (the fake checks Block Kit's limits as Slack does),
// and it counts whoever does not fit; a rate-limited lookup is waited
// out. Then one password of each of the 50, by name: one approval
// removes all 50 and each person gets one DM.
func TestRevocationOfFiftyPeople(t *testing.T) {
	h := newHarness(t)
	var emails []string
	var slackIDs []string
	for i := range domain.MaxRevocationTargets {
		id := fmt.Sprintf("33333333-0000-0000-0000-%012d", i)
		email := fmt.Sprintf("contractor%02d@example.test", i)
		slackID := fmt.Sprintf("UCONTRACTOR%02d", i)
		h.Entra.AddUser(fakeentra.User{ID: id, DisplayName: email, UserPrincipalName: email, Mail: email, AccountEnabled: true})
		h.Slack.AddUser(fakeslack.User{ID: slackID, Name: fmt.Sprintf("contractor%02d", i), Email: email})
		app := h.Entra.AddEmployeeApp(id, true)
		for j := range 40 {
			h.Entra.AddSecret(app.ID, fmt.Sprintf("%02d %s", j, strings.Repeat("device name ", 5)), time.Time{})
		}
		emails, slackIDs = append(emails, email), append(slackIDs, slackID)
	}
	h.start()
	h.Slack.RateLimit("users.lookupByEmail", 1, 1)
	receipt := h.Ask(adam, "revoke "+strings.Join(emails, " ")+" --all the contracting firm's engagement ended")
	if !strings.Contains(receipt, "revoke all 2000 app passwords of 50 people") {
		t.Fatalf("receipt: %s", receipt)
	}
	req := h.HelpdeskRequest()
	text := messageText(req)
	if !strings.Contains(text, "*For:* 50 people, 2000 app passwords") || !strings.Contains(text, "more (") ||
		!strings.Contains(text, "*contractor00@example.test* (<@UCONTRACTOR00>)") {
		t.Errorf("request message:\n%s", text)
	}
	h.Decide(hugo, "revoke_deny", req)
	h.WaitFor("the deny form", func() bool { return len(h.Slack.OpenedViews()) == 1 })
	if _, err := h.Slack.ViewSubmission(h.Ctx(), hugo, h.Slack.OpenedViews()[0].ID,
		map[string]map[string]string{"reason": {"reason": "not all of them have left"}}); err != nil {
		t.Fatal(err)
	}
	h.WaitFor("the denial", func() bool { return strings.Contains(messageText(h.CurrentRequest(req.TS)), "Denied by <@UHUGO>") })

	name := "00 " + strings.Repeat("device name ", 5)
	receipt = h.Ask(adam, "revoke "+strings.Join(emails, " ")+` "`+name+`" the shared scanner profile leaked`)
	if !strings.Contains(receipt, "revoke 50 app passwords called") {
		t.Fatalf("receipt: %s", receipt)
	}
	req = h.HelpdeskRequest()
	h.Decide(hana, "revoke_approve", req)
	h.WaitFor("the requester's DMs", func() bool { return len(h.Slack.DMsTo(adam)) == 2 })
	if n := h.Entra.Count("removePassword"); n != 50 {
		t.Errorf("removePassword called %d times, want 50", n)
	}
	if m := messageText(h.CurrentRequest(req.TS)); !strings.Contains(m, "50 removed") {
		t.Errorf("request message after approval:\n%s", m)
	}
	for _, id := range slackIDs {
		if dms := h.Slack.DMsTo(id); len(dms) != 1 || !strings.Contains(messageText(dms[0]), "1 of your app passwords was revoked") {
			t.Errorf("%s has %d DMs", id, len(dms))
		}
	}
}
