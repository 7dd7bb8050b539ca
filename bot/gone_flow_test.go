package bot_test

import (
	"strings"
	"testing"
)

// A password an administrator removed in Entra while its revocation was
// pending is "already gone", not a failure: Graph's refusal of the
// removal is not read, Entra's listing decides.
func TestRevocationOfAPasswordRemovedMeanwhileIsAlreadyGone(t *testing.T) {
	h := newHarness(t).start()
	if h.SecretIn(h.Ask(alice, "create Phone")) == "" {
		t.Fatal("create failed")
	}
	h.Ask(adam, "revoke <@UALICE|alice> Phone phone lost")
	req := h.HelpdeskRequest()
	apps := h.Entra.Applications()
	if len(apps) != 1 || len(apps[0].Passwords) != 1 || !h.Entra.DeleteCredential(apps[0].ID, apps[0].Passwords[0].KeyID) {
		t.Fatalf("could not remove alice's password behind apppass's back: %+v", apps)
	}
	h.Decide(hana, "revoke_approve", req)
	h.WaitFor("the decision", func() bool { return strings.Contains(messageText(h.CurrentRequest(req.TS)), "Approved by") })
	text := messageText(h.CurrentRequest(req.TS))
	if !strings.Contains(text, "already gone") || strings.Contains(text, "failed") {
		t.Errorf("request message:\n%s", text)
	}
	if n := h.Entra.Count("removePassword"); n != 1 {
		t.Errorf("removePassword called %d times, want 1 (the one Entra refused)", n)
	}
}
