package app

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

	ix := h.command(alice, "create iPhone Mail")
	msg := h.reply(ix)
	text := messageText(msg)
	secret := h.secretIn(text)
	if secret == "" {
		t.Fatalf("the reply does not show the new password: %s", text)
	}
	creds := h.entra.CredentialsOf(entraID(alice))
	if len(creds) != 1 || creds[0].DisplayName != "iPhone Mail" || creds[0].SecretText != secret {
		t.Fatalf("Entra holds %+v, want one credential named iPhone Mail with the shown secret", creds)
	}
	apps := h.entra.Applications()
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

	list := h.reply(h.command(alice, "list"))
	if lt := messageText(list); !strings.Contains(lt, "iPhone Mail") || !strings.Contains(lt, "1 of 40") || strings.Contains(lt, secret) {
		t.Fatalf("list reply wrong:\n%s", lt)
	}
	del := buttons(list)["delete_ask"]
	if len(del) != 1 || del[0] != creds[0].KeyID {
		t.Fatalf("list Delete buttons = %v, want the key id %s", del, creds[0].KeyID)
	}

	// delete by name asks first and changes nothing until confirmed.
	confirm := h.reply(h.command(alice, "delete iphone mail"))
	if !strings.Contains(messageText(confirm), "cannot be undone") {
		t.Fatalf("delete did not ask to confirm: %s", messageText(confirm))
	}
	if n := len(h.entra.CredentialsOf(entraID(alice))); n != 1 {
		t.Fatalf("delete removed before confirmation: %d left", n)
	}
	keys := buttons(confirm)["delete_confirm"]
	if len(keys) != 1 {
		t.Fatalf("confirmation buttons: %v", buttons(confirm))
	}
	done := h.reply(h.click(alice, "delete_confirm", keys[0]))
	if !strings.Contains(messageText(done), "Deleted") || !done.ReplaceOriginal {
		t.Fatalf("confirm reply = %+v", done)
	}
	if n := len(h.entra.CredentialsOf(entraID(alice))); n != 0 {
		t.Fatalf("%d credentials left after delete", n)
	}
	if lt := h.ask(alice, "list"); !strings.Contains(lt, "0 of 40") {
		t.Errorf("list after delete:\n%s", lt)
	}
	h.assertNoLeaks(nil)
}

func TestDeleteButtonsCheckOwnershipOnTheServer(t *testing.T) {
	h := newHarness(t).start()
	h.ask(alice, "create Laptop")
	key := h.entra.CredentialsOf(entraID(alice))[0].KeyID
	// Bob replays Alice's button value: refused, nothing removed.
	out := h.reply(h.click(bob, "delete_confirm", key))
	if !strings.Contains(messageText(out), "not yours") {
		t.Errorf("bob's click answered %q", messageText(out))
	}
	if n := len(h.entra.CredentialsOf(entraID(alice))); n != 1 {
		t.Fatalf("bob removed alice's password: %d left", n)
	}
	// Cancel leaves it too.
	h.reply(h.click(alice, "delete_cancel", key))
	if n := len(h.entra.CredentialsOf(entraID(alice))); n != 1 {
		t.Fatalf("cancel removed the password")
	}
}

func TestDuplicateNameRefused(t *testing.T) {
	h := newHarness(t).start()
	h.ask(alice, "create Outlook")
	out := h.ask(alice, "create  OUTLOOK ")
	if !strings.Contains(out, "already have an app password called") {
		t.Fatalf("duplicate answered %q", out)
	}
	if n := len(h.entra.CredentialsOf(entraID(alice))); n != 1 {
		t.Fatalf("duplicate created a credential: %d", n)
	}
}

func TestLimitRefusedWithListAndHint(t *testing.T) {
	h := newHarness(t)
	h.env["APPPASS_MAX_PER_USER"] = "3"
	h.env["APPPASS_WARN_AT"] = "2"
	h.start()
	for i := range 3 {
		h.ask(alice, fmt.Sprintf("create device %d", i))
	}
	out := h.ask(alice, "create one too many")
	for _, want := range []string{"3 of 3", "Delete one", "device 0", "device 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("limit reply lacks %q:\n%s", want, out)
		}
	}
	if n := len(h.entra.CredentialsOf(entraID(alice))); n != 3 {
		t.Fatalf("limit exceeded: %d credentials", n)
	}
}

func TestFastClicksCannotExceedTheLimit(t *testing.T) {
	h := newHarness(t)
	h.env["APPPASS_MAX_PER_USER"] = "2"
	h.env["APPPASS_WARN_AT"] = "2"
	h.start()
	h.entra.SetReplicationLag(time.Hour) // Graph never shows what was just made
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.slack.SlashCommand(h.ctx(), alice, channel, "/apppass", fmt.Sprintf("create d%d", i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && len(h.slack.Messages()) < 5 {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(h.entra.CredentialsOf(entraID(alice))); n != 2 {
		t.Fatalf("%d credentials under a limit of 2", n)
	}
	if out := h.ask(alice, "list"); !strings.Contains(out, "2 of 2") {
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
			before := len(h.entra.CredentialsOf(entraID(alice)))
			m := h.reply(h.command(alice, "create "+tt.input))
			after := len(h.entra.CredentialsOf(entraID(alice)))
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
	list := messageText(h.reply(h.command(alice, "list")))
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
		out := h.ask(tt.user, "create Phone")
		if !strings.Contains(out, tt.want) {
			t.Errorf("%s: reply %q lacks %q", tt.user, out, tt.want)
		}
	}
	for _, op := range []string{"createApplication", "createServicePrincipal", "addPassword", "removePassword"} {
		if n := h.entra.Count(op); n != 0 {
			t.Errorf("%d %s calls for people apppass cannot serve", n, op)
		}
	}
	if out := h.ask(alice, "frobnicate"); !strings.Contains(out, "I don't know `frobnicate`") || !strings.Contains(out, "/apppass create NAME") {
		t.Errorf("unknown subcommand answered %q", out)
	}
	if out := h.ask(alice, ""); !strings.Contains(out, "0 of 40") {
		t.Errorf("help lacks the count: %q", out)
	}
}

func TestThrottledAddPasswordYieldsExactlyOneCredential(t *testing.T) {
	h := newHarness(t).start()
	h.ask(alice, "create first") // application exists; the next create is warm
	h.entra.Inject("addPassword", fakeentra.Fault{Status: 429, RetryAfter: 1, Times: 2})
	out := h.ask(alice, "create second")
	if h.secretIn(out) == "" {
		t.Fatalf("throttled create did not deliver: %s", out)
	}
	var named int
	for _, c := range h.entra.CredentialsOf(entraID(alice)) {
		if c.DisplayName == "second" {
			named++
		}
	}
	if named != 1 {
		t.Fatalf("%d credentials named second, want exactly 1", named)
	}
	h.assertNoLeaks(nil)
}

func TestAmbiguousAddPasswordIsReconciled(t *testing.T) {
	h := newHarness(t).start()
	h.ask(alice, "create first")
	// Entra creates the credential, then answers 503 (twice, in case
	// anything retries).
	h.entra.Inject("addPassword", fakeentra.Fault{Status: 503, AfterEffect: true, Times: 2})
	out := h.ask(alice, "create second")
	if h.secretIn(out) != "" || !strings.Contains(out, "busy") {
		t.Fatalf("ambiguous create answered %q", out)
	}
	if n := h.entra.Count("addPassword"); n != 2 {
		t.Errorf("addPassword sent %d times, want 2 (no blind retry)", n)
	}
	for _, c := range h.entra.CredentialsOf(entraID(alice)) {
		if c.DisplayName == "second" {
			t.Fatalf("an undelivered credential survived: %+v", c.KeyID)
		}
	}
	h.assertNoLeaks(nil)
}

func TestAmbiguousAddPasswordUnderLagIsReconciledLater(t *testing.T) {
	h := newHarness(t).start()
	h.ask(alice, "create first")
	h.entra.SetReplicationLag(2 * time.Second)
	h.entra.Inject("addPassword", fakeentra.Fault{Status: 504, AfterEffect: true})
	h.ask(alice, "create second")
	// Not visible yet, so not removable yet: the reconciler must come back
	// once the record is older than any request could be.
	h.clock.Add(3 * time.Minute)
	deadline := time.Now().Add(15 * time.Second)
	for {
		var left int
		for _, c := range h.entra.CredentialsOf(entraID(alice)) {
			if c.DisplayName == "second" {
				left++
			}
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the undelivered credential was never removed")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestUndeliverableSecretIsRemoved(t *testing.T) {
	h := newHarness(t).start()
	h.slack.FailResponseURLs(404)
	h.slack.FailMethod("chat.postEphemeral", "channel_not_found", -1)
	h.command(alice, "create Phone")
	deadline := time.Now().Add(20 * time.Second)
	var dm []fakeslack.Message
	for time.Now().Before(deadline) {
		if dm = h.slack.DMsTo(alice); len(dm) > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(dm) == 0 || !strings.Contains(messageText(dm[0]), "removed it again") {
		t.Fatalf("alice was not told: %+v", dm)
	}
	if n := len(h.entra.CredentialsOf(entraID(alice))); n != 0 {
		t.Fatalf("%d undeliverable credentials left in Entra", n)
	}
	if len(h.entra.IssuedSecrets()) != 1 {
		t.Fatalf("Entra issued %d secrets, want 1", len(h.entra.IssuedSecrets()))
	}
	h.assertNoLeaks(map[string]bool{})
}

func TestFallsBackToPostEphemeral(t *testing.T) {
	h := newHarness(t).start()
	h.slack.FailResponseURLs(404)
	h.command(alice, "create Phone")
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && len(h.slack.CallsTo("chat.postEphemeral")) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	calls := h.slack.CallsTo("chat.postEphemeral")
	if len(calls) != 1 || h.secretIn(string(calls[0].Body)) == "" {
		t.Fatalf("secret not delivered by chat.postEphemeral: %d calls", len(calls))
	}
	if n := len(h.entra.CredentialsOf(entraID(alice))); n != 1 {
		t.Fatalf("%d credentials, want the delivered one", n)
	}
	h.assertNoLeaks(nil)
}

func TestSocketDropReconnects(t *testing.T) {
	h := newHarness(t).start()
	h.ask(alice, "create before")
	conns := h.slack.Connections()
	h.slack.DropSockets()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.slack.WaitConnections(ctx, conns+1); err != nil {
		t.Fatalf("no reconnect: %v", err)
	}
	if out := h.ask(alice, "create after"); h.secretIn(out) == "" {
		t.Fatalf("create after reconnect: %s", out)
	}
}

func TestSlowGraphStillAcksFast(t *testing.T) {
	h := newHarness(t).start()
	h.entra.SetLatency("", 2500*time.Millisecond)
	ix := h.command(alice, "create Slow")
	if ix.AckLatency() > 500*time.Millisecond {
		t.Errorf("ack took %v with Graph at 2.5 s", ix.AckLatency())
	}
	if out := messageText(h.reply(ix)); h.secretIn(out) == "" {
		t.Fatalf("slow create: %s", out)
	}
}

func TestWarmCreateMakesOneGraphWriteAndOneFreshRead(t *testing.T) {
	h := newHarness(t).start()
	h.ask(alice, "create first")
	h.entra.ResetCalls()
	h.ask(alice, "create second")
	var ops []string
	for _, c := range h.entra.Calls() {
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
	h.entra.SetNewAppLag(2 * time.Second)
	if out := h.ask(alice, "create Phone"); h.secretIn(out) == "" {
		t.Fatalf("create on a lagging new application: %s", out)
	}
	if n := len(h.entra.Applications()); n != 1 {
		t.Fatalf("%d applications, want 1", n)
	}
}

func TestQuotaExceeded(t *testing.T) {
	h := newHarness(t).start()
	h.entra.SetObjectQuota(0)
	out := h.ask(alice, "create Phone")
	if !strings.Contains(out, "limit on the directory objects") {
		t.Fatalf("quota reply %q", out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && len(h.slack.MessagesIn(helpdesk)) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	if msgs := h.slack.MessagesIn(helpdesk); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "quota") {
		t.Fatalf("helpdesk alerts: %+v", msgs)
	}
}

func TestCreateModal(t *testing.T) {
	h := newHarness(t).start()
	ix := h.command(alice, "create")
	deadline := time.Now().Add(10 * time.Second)
	var views []fakeslack.View
	for time.Now().Before(deadline) {
		if views = h.slack.OpenedViews(); len(views) > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(views) != 1 {
		t.Fatalf("no modal opened")
	}
	bad, err := h.slack.ViewSubmission(h.ctx(), alice, views[0].ID, map[string]map[string]string{"name": {"name": "  "}})
	if err != nil || !strings.Contains(string(bad.AckPayload), `"errors"`) {
		t.Fatalf("blank name not refused in the modal: %s %v", bad.AckPayload, err)
	}
	if _, err := h.slack.ViewSubmission(h.ctx(), alice, views[0].ID, map[string]map[string]string{"name": {"name": "Tablet"}}); err != nil {
		t.Fatal(err)
	}
	if out := messageText(h.reply(ix)); h.secretIn(out) == "" {
		t.Fatalf("modal create did not deliver: %s", out)
	}
	for _, v := range h.slack.OpenedViews() {
		if h.secretIn(string(v.Raw)) != "" {
			t.Fatal("the secret appeared in a modal")
		}
	}
	h.assertNoLeaks(nil)
}

func TestLeftoverFromAStoppedProcessIsReconciledAfterRestart(t *testing.T) {
	h := newHarness(t).start()
	h.ask(alice, "create first")
	// Entra creates the credential but the answer is lost, and Graph will
	// not list it for a long time: the request cannot clean up, and the
	// process stops with the record still pending.
	h.entra.SetReplicationLag(time.Hour)
	h.entra.Inject("addPassword", fakeentra.Fault{Status: 503, AfterEffect: true})
	h.ask(alice, "create ghost")
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if !hasCredential(h, "ghost") {
		t.Fatal("setup: the ghost credential should exist")
	}
	// Restart later, once Graph lists it.
	h.entra.SetReplicationLag(0)
	h.clock.Add(5 * time.Minute)
	h.start()
	deadline := time.Now().Add(10 * time.Second)
	for hasCredential(h, "ghost") {
		if time.Now().After(deadline) {
			t.Fatal("the credential nobody received survived a restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !hasCredential(h, "first") {
		t.Fatal("the reconciler removed a delivered credential")
	}
}

func TestShutdownLetsInFlightCommandsFinish(t *testing.T) {
	h := newHarness(t).start()
	h.entra.SetLatency("", time.Second)
	ix := h.command(alice, "create Slowpoke")
	time.Sleep(200 * time.Millisecond)
	if err := h.stop(); err != nil {
		t.Fatalf("Run returned %v on shutdown", err)
	}
	var got bool
	for _, m := range h.slack.Messages() {
		if m.ResponseURL == ix.ResponseID && h.secretIn(messageText(m)) != "" {
			got = true
		}
	}
	if !got || len(h.entra.CredentialsOf(entraID(alice))) != 1 {
		t.Fatalf("in-flight create did not finish before shutdown (delivered=%v)", got)
	}
}

func hasCredential(h *harness, name string) bool {
	for _, c := range h.entra.CredentialsOf(entraID(alice)) {
		if c.DisplayName == name {
			return true
		}
	}
	return false
}

func TestListShowsLastUseWhenEntraHasIt(t *testing.T) {
	h := newHarness(t).start()
	h.entra.EnableSignInActivity(true)
	h.ask(alice, "create Phone")
	h.ask(alice, "create Laptop")
	var phone string
	for _, c := range h.entra.CredentialsOf(entraID(alice)) {
		if c.DisplayName == "Phone" {
			phone = c.KeyID
		}
	}
	h.entra.SetLastSignIn(phone, time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC))
	out := h.ask(alice, "list")
	if !strings.Contains(out, "last used 3 Nov 2026") || strings.Count(out, "last used") != 1 {
		t.Fatalf("list does not show Phone's last use (only):\n%s", out)
	}
}
