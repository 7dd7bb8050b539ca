package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeslack"
)

func TestCreateListDelete(t *testing.T) {
	h := newHarness(t).start()

	ix := h.Command(alice, "create iPhone Mail")
	msg := h.Reply(ix)
	text := messageText(msg)
	secret := h.SecretIn(text)
	if secret == "" {
		t.Fatalf("the reply does not show the new password: %s", text)
	}
	creds := h.Entra.CredentialsOf(entraID(alice))
	if len(creds) != 1 || creds[0].DisplayName != "iPhone Mail" || creds[0].SecretText != secret {
		t.Fatalf("Entra holds %+v, want one credential named iPhone Mail with the shown secret", creds)
	}
	apps := h.Entra.Applications()
	if len(apps) != 1 || !apps[0].HasServicePrincipal || apps[0].SignInAudience != "AzureADMyOrg" {
		t.Fatalf("applications = %+v, want one with a service principal", apps)
	}
	for _, want := range []string{"shown only this once", apps[0].AppID, fakeentra.TenantID} {
		if !strings.Contains(text, want) {
			t.Errorf("the secret message lacks %q:\n%s", want, text)
		}
	}
	if !msg.Ephemeral && msg.Via != fakeslack.ViaResponseURL {
		t.Errorf("secret message was not ephemeral: %+v", msg)
	}

	list := h.Reply(h.Command(alice, "list"))
	if lt := messageText(list); !strings.Contains(lt, "iPhone Mail") || !strings.Contains(lt, "1 of 40") || strings.Contains(lt, secret) {
		t.Fatalf("list reply wrong:\n%s", lt)
	}
	del := buttons(list)["delete_ask"]
	if len(del) != 1 || del[0] != creds[0].KeyID {
		t.Fatalf("list Delete buttons = %v, want the key id %s", del, creds[0].KeyID)
	}

	// delete by name asks first and changes nothing until confirmed.
	confirm := h.Reply(h.Command(alice, "delete iphone mail"))
	if !strings.Contains(messageText(confirm), "cannot be undone") {
		t.Fatalf("delete did not ask to confirm: %s", messageText(confirm))
	}
	if n := len(h.Entra.CredentialsOf(entraID(alice))); n != 1 {
		t.Fatalf("delete removed before confirmation: %d left", n)
	}
	keys := buttons(confirm)["delete_confirm"]
	if len(keys) != 1 {
		t.Fatalf("confirmation buttons: %v", buttons(confirm))
	}
	done := h.Reply(h.Click(alice, "delete_confirm", keys[0]))
	if !strings.Contains(messageText(done), "Deleted") || !done.ReplaceOriginal {
		t.Fatalf("confirm reply = %+v", done)
	}
	if n := len(h.Entra.CredentialsOf(entraID(alice))); n != 0 {
		t.Fatalf("%d credentials left after delete", n)
	}
	if lt := h.Ask(alice, "list"); !strings.Contains(lt, "0 of 40") {
		t.Errorf("list after delete:\n%s", lt)
	}
	h.AssertNoLeaks(nil)
}

func TestDeleteButtonsCheckOwnershipOnTheServer(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create Laptop")
	key := h.Entra.CredentialsOf(entraID(alice))[0].KeyID
	// bob replays alice's button value: refused, nothing removed.
	out := h.Reply(h.Click(bob, "delete_confirm", key))
	if !strings.Contains(messageText(out), "not yours") {
		t.Errorf("bob's click answered %q", messageText(out))
	}
	if n := len(h.Entra.CredentialsOf(entraID(alice))); n != 1 {
		t.Fatalf("bob removed alice's password: %d left", n)
	}
	// Cancel leaves it too.
	h.Reply(h.Click(alice, "delete_cancel", key))
	if n := len(h.Entra.CredentialsOf(entraID(alice))); n != 1 {
		t.Fatalf("cancel removed the password")
	}
}

func TestDuplicateNameRefused(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create Outlook")
	out := h.Ask(alice, "create  OUTLOOK ")
	if !strings.Contains(out, "already have an app password called") {
		t.Fatalf("duplicate answered %q", out)
	}
	if n := len(h.Entra.CredentialsOf(entraID(alice))); n != 1 {
		t.Fatalf("duplicate created a credential: %d", n)
	}
}

func TestLimitRefusedWithListAndHint(t *testing.T) {
	h := newHarness(t)
	h.Env["APPPASS_MAX_PER_USER"] = "3"
	h.Env["APPPASS_WARN_AT"] = "2"
	h.Start()
	for i := range 3 {
		h.Ask(alice, fmt.Sprintf("create device %d", i))
	}
	out := h.Ask(alice, "create one too many")
	for _, want := range []string{"3 of 3", "Delete one", "device 0", "device 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("limit reply lacks %q:\n%s", want, out)
		}
	}
	if n := len(h.Entra.CredentialsOf(entraID(alice))); n != 3 {
		t.Fatalf("limit exceeded: %d credentials", n)
	}
}

func TestFastClicksCannotExceedTheLimit(t *testing.T) {
	h := newHarness(t)
	h.Env["APPPASS_MAX_PER_USER"] = "2"
	h.Env["APPPASS_WARN_AT"] = "2"
	h.Start()
	h.Entra.SetReplicationLag(time.Hour) // Graph never shows what was just made
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Slack.SlashCommand(h.Ctx(), alice, channel, "/apppass", fmt.Sprintf("create d%d", i)); err != nil {
				t.Error(err)
			}
		}()
	}
	done := h.Finished()
	wg.Wait()
	h.WaitFinished(done + 5)
	if n := len(h.Entra.CredentialsOf(entraID(alice))); n != 2 {
		t.Fatalf("%d credentials under a limit of 2", n)
	}
	if out := h.Ask(alice, "list"); !strings.Contains(out, "2 of 2") {
		t.Errorf("list during replication lag does not show what was just made:\n%s", out)
	}
}

func TestHostileNames(t *testing.T) {
	h := newHarness(t).start()
	tests := []struct {
		name, input string
		accepted    bool
	}{
		{"channel mention", "<!channel>", true},
		{"user mention", "<@UBOB|bob>", true},
		{"ampersand", "Mail & Calendar", true},
		{"control characters", "bad\x07name", false},
		{"300 characters", strings.Repeat("x", 300), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.Entra.CredentialsOf(entraID(alice)))
			m := h.Reply(h.Command(alice, "create "+tt.input))
			after := len(h.Entra.CredentialsOf(entraID(alice)))
			if got := after - before; (got == 1) != tt.accepted {
				t.Fatalf("credentials created = %d, accepted = %v", got, tt.accepted)
			}
			text := messageText(m)
			for _, bad := range []string{"<!channel>", "<@UBOB"} {
				if strings.Contains(text, bad) {
					t.Errorf("reply echoes %q unescaped: %s", bad, text)
				}
			}
		})
	}
	list := messageText(h.Reply(h.Command(alice, "list")))
	if strings.Contains(list, "<!channel>") || strings.Contains(list, "<@UBOB") || !strings.Contains(list, "&lt;!channel&gt;") || !strings.Contains(list, "Mail &amp; Calendar") {
		t.Errorf("list echoes names unescaped: %s", list)
	}
}

func TestUnknownAndDisabledPeopleAreRefusedWithoutWrites(t *testing.T) {
	h := newHarness(t).start()
	for _, tt := range []struct{ user, want string }{
		{dave, "disabled"},
		{erin, "doesn't match a Microsoft 365 account"},
		{nomail, "email address"},
	} {
		out := h.Ask(tt.user, "create Phone")
		if !strings.Contains(out, tt.want) {
			t.Errorf("%s: reply %q lacks %q", tt.user, out, tt.want)
		}
	}
	for _, op := range []string{"createApplication", "createServicePrincipal", "addPassword", "removePassword"} {
		if n := h.Entra.Count(op); n != 0 {
			t.Errorf("%d %s calls for people apppass cannot serve", n, op)
		}
	}
	if out := h.Ask(alice, "frobnicate"); !strings.Contains(out, "I don't know `frobnicate`") || !strings.Contains(out, "/apppass create NAME") {
		t.Errorf("unknown subcommand answered %q", out)
	}
	if out := h.Ask(alice, ""); !strings.Contains(out, "0 of 40") {
		t.Errorf("help lacks the count: %q", out)
	}
}

func TestThrottledAddPasswordYieldsExactlyOneCredential(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create first") // application exists; the next create is warm
	h.Entra.Inject("addPassword", fakeentra.Fault{Status: 429, RetryAfter: 1, Times: 2})
	out := h.Ask(alice, "create second")
	if h.SecretIn(out) == "" {
		t.Fatalf("throttled create did not deliver: %s", out)
	}
	var named int
	for _, c := range h.Entra.CredentialsOf(entraID(alice)) {
		if c.DisplayName == "second" {
			named++
		}
	}
	if named != 1 {
		t.Fatalf("%d credentials named second, want exactly 1", named)
	}
	h.AssertNoLeaks(nil)
}

func TestAmbiguousAddPasswordIsReconciled(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create first")
	// Entra creates the credential, then answers 503 (twice, in case
	// anything retries).
	h.Entra.Inject("addPassword", fakeentra.Fault{Status: 503, AfterEffect: true, Times: 2})
	out := h.Ask(alice, "create second")
	if h.SecretIn(out) != "" || !strings.Contains(out, "busy") {
		t.Fatalf("ambiguous create answered %q", out)
	}
	if n := h.Entra.Count("addPassword"); n != 2 {
		t.Errorf("addPassword sent %d times, want 2 (no blind retry)", n)
	}
	for _, c := range h.Entra.CredentialsOf(entraID(alice)) {
		if c.DisplayName == "second" {
			t.Fatalf("an undelivered credential survived: %+v", c.KeyID)
		}
	}
	h.AssertNoLeaks(nil)
}

func TestAmbiguousAddPasswordUnderLagIsReconciledLater(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create first")
	h.Entra.SetReplicationLag(2 * time.Second)
	h.Entra.Inject("addPassword", fakeentra.Fault{Status: 504, AfterEffect: true})
	h.Ask(alice, "create second")
	// Not visible yet, so not removable yet: the reconciler must come back
	// once the record is older than any request could be.
	h.Clock.Add(3 * time.Minute)
	h.WaitFor("the undelivered credential to be removed", func() bool { return !hasCredential(h, "second") })
}

func TestUndeliverableSecretIsRemoved(t *testing.T) {
	h := newHarness(t).start()
	h.Slack.FailResponseURLs(404)
	h.Slack.FailMethod("chat.postEphemeral", "channel_not_found", -1)
	h.Command(alice, "create Phone")
	var dm []fakeslack.Message
	h.WaitFor("a DM to alice", func() bool { dm = h.Slack.DMsTo(alice); return len(dm) > 0 })
	if len(dm) == 0 || !strings.Contains(messageText(dm[0]), "removed it again") {
		t.Fatalf("alice was not told: %+v", dm)
	}
	if n := len(h.Entra.CredentialsOf(entraID(alice))); n != 0 {
		t.Fatalf("%d undeliverable credentials left in Entra", n)
	}
	if len(h.Entra.IssuedSecrets()) != 1 {
		t.Fatalf("Entra issued %d secrets, want 1", len(h.Entra.IssuedSecrets()))
	}
	h.AssertNoLeaks(map[string]bool{})
}

func TestFallsBackToPostEphemeral(t *testing.T) {
	h := newHarness(t).start()
	h.Slack.FailResponseURLs(404)
	h.Command(alice, "create Phone")
	h.WaitFor("chat.postEphemeral", func() bool { return len(h.Slack.CallsTo("chat.postEphemeral")) > 0 })
	calls := h.Slack.CallsTo("chat.postEphemeral")
	if len(calls) != 1 || h.SecretIn(string(calls[0].Body)) == "" {
		t.Fatalf("secret not delivered by chat.postEphemeral: %d calls", len(calls))
	}
	if n := len(h.Entra.CredentialsOf(entraID(alice))); n != 1 {
		t.Fatalf("%d credentials, want the delivered one", n)
	}
	h.AssertNoLeaks(nil)
}

func TestSocketDropReconnects(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create before")
	conns := h.Slack.Connections()
	h.Slack.DropSockets()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.Slack.WaitConnections(ctx, conns+1); err != nil {
		t.Fatalf("no reconnect: %v", err)
	}
	if out := h.Ask(alice, "create after"); h.SecretIn(out) == "" {
		t.Fatalf("create after reconnect: %s", out)
	}
}

func TestSlowGraphStillAcksFast(t *testing.T) {
	h := newHarness(t).start()
	h.Entra.SetLatency("", 2500*time.Millisecond)
	ix := h.Command(alice, "create Slow")
	if ix.AckLatency() > 500*time.Millisecond {
		t.Errorf("ack took %v with Graph at 2.5 s", ix.AckLatency())
	}
	if out := messageText(h.Reply(ix)); h.SecretIn(out) == "" {
		t.Fatalf("slow create: %s", out)
	}
}

func TestWarmCreateMakesOneGraphWriteAndOneFreshRead(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create first")
	h.Entra.ResetCalls()
	h.Ask(alice, "create second")
	var ops []string
	for _, c := range h.Entra.Calls() {
		if c.Op != "token" {
			ops = append(ops, c.Op)
		}
	}
	// The one read is accountEnabled, never cached for a write.
	if len(ops) != 2 || ops[0] != "getUser" || ops[1] != "addPassword" {
		t.Fatalf("warm create made Graph calls %v, want [getUser addPassword]", ops)
	}
}

func TestNewApplicationLagIsWaitedOut(t *testing.T) {
	h := newHarness(t).start()
	h.Entra.SetNewAppLag(2 * time.Second)
	if out := h.Ask(alice, "create Phone"); h.SecretIn(out) == "" {
		t.Fatalf("create on a lagging new application: %s", out)
	}
	if n := len(h.Entra.Applications()); n != 1 {
		t.Fatalf("%d applications, want 1", n)
	}
}

func TestQuotaExceeded(t *testing.T) {
	h := newHarness(t).start()
	h.Entra.SetObjectQuota(0)
	out := h.Ask(alice, "create Phone")
	if !strings.Contains(out, "limit on the directory objects") {
		t.Fatalf("quota reply %q", out)
	}
	h.WaitFor("the quota alert", func() bool { return len(h.Slack.MessagesIn(helpdesk)) > 0 })
	if msgs := h.Slack.MessagesIn(helpdesk); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "quota") {
		t.Fatalf("helpdesk alerts: %+v", msgs)
	}
}

func TestCreateModal(t *testing.T) {
	h := newHarness(t).start()
	ix := h.Command(alice, "create")
	var views []fakeslack.View
	h.WaitFor("the create form", func() bool { views = h.Slack.OpenedViews(); return len(views) > 0 })
	if len(views) != 1 {
		t.Fatalf("no modal opened")
	}
	bad, err := h.Slack.ViewSubmission(h.Ctx(), alice, views[0].ID, map[string]map[string]string{"name": {"name": "  "}})
	if err != nil || !strings.Contains(string(bad.AckPayload), `"errors"`) {
		t.Fatalf("blank name not refused in the modal: %s %v", bad.AckPayload, err)
	}
	if _, err := h.Slack.ViewSubmission(h.Ctx(), alice, views[0].ID, map[string]map[string]string{"name": {"name": "Tablet"}}); err != nil {
		t.Fatal(err)
	}
	if out := messageText(h.Reply(ix)); h.SecretIn(out) == "" {
		t.Fatalf("modal create did not deliver: %s", out)
	}
	for _, v := range h.Slack.OpenedViews() {
		if h.SecretIn(string(v.Raw)) != "" {
			t.Fatal("the secret appeared in a modal")
		}
	}
	h.AssertNoLeaks(nil)
}

func TestLeftoverFromAStoppedProcessIsReconciledAfterRestart(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create first")
	// Entra creates the credential but the answer is lost, and Graph will
	// not list it for a long time: the request cannot clean up, and the
	// process stops with the record still pending.
	h.Entra.SetReplicationLag(time.Hour)
	h.Entra.Inject("addPassword", fakeentra.Fault{Status: 503, AfterEffect: true})
	h.Ask(alice, "create ghost")
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	if !hasCredential(h, "ghost") {
		t.Fatal("setup: the ghost credential should exist")
	}
	// Restart later, once Graph lists it.
	h.Entra.SetReplicationLag(0)
	h.Clock.Add(5 * time.Minute)
	h.Start()
	h.WaitFor("the credential nobody received to be removed after the restart", func() bool { return !hasCredential(h, "ghost") })
	if !hasCredential(h, "first") {
		t.Fatal("the reconciler removed a delivered credential")
	}
}

func TestShutdownLetsInFlightCommandsFinish(t *testing.T) {
	h := newHarness(t).start()
	h.Entra.SetLatency("", time.Second)
	ix := h.Command(alice, "create Slowpoke")
	h.WaitFor("the create's first Graph call", func() bool { return h.Entra.InFlight("") > 0 })
	if err := h.Stop(); err != nil {
		t.Fatalf("Run returned %v on shutdown", err)
	}
	var got bool
	for _, m := range h.Slack.Messages() {
		if m.ResponseURL == ix.ResponseID && h.SecretIn(messageText(m)) != "" {
			got = true
		}
	}
	if !got || len(h.Entra.CredentialsOf(entraID(alice))) != 1 {
		t.Fatalf("in-flight create did not finish before shutdown (delivered=%v)", got)
	}
}

func hasCredential(h *harness, name string) bool {
	for _, c := range h.Entra.CredentialsOf(entraID(alice)) {
		if c.DisplayName == name {
			return true
		}
	}
	return false
}

func TestListShowsLastUseWhenEntraHasIt(t *testing.T) {
	h := newHarness(t).start()
	h.Entra.EnableSignInActivity(true)
	h.Ask(alice, "create Phone")
	h.Ask(alice, "create Laptop")
	var phone string
	for _, c := range h.Entra.CredentialsOf(entraID(alice)) {
		if c.DisplayName == "Phone" {
			phone = c.KeyID
		}
	}
	h.Entra.SetLastSignIn(phone, time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC))
	out := h.Ask(alice, "list")
	if !strings.Contains(out, "last used 3 Nov 2026") || strings.Count(out, "last used") != 1 {
		t.Fatalf("list does not show Phone's last use (only):\n%s", out)
	}
}
