package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The worst cases apppass renders — 40 long names full of characters
// mrkdwn must escape, and the longest reason — fit Slack's Block Kit
// limits: the fake Slack rejects what real Slack rejects.
func TestWorstCaseMessagesFitBlockKit(t *testing.T) {
	h := newHarness(t).start()
	for i := range 40 {
		if i > 0 && i%10 == 0 {
			h.Clock.Add(61 * time.Second) // past the write rate
		}
		name := fmt.Sprintf("%02d %s", i, strings.Repeat("<&>", 20))
		if out := h.Ask(alice, "create "+strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(name)); h.SecretIn(out) == "" {
			t.Fatalf("create %d: %s", i, out)
		}
	}
	if out := h.Ask(alice, "list"); !strings.Contains(out, "40 of 40") {
		t.Errorf("list: %s", out)
	}
	if out := h.Ask(hana, "show <@UALICE|alice>"); !strings.Contains(out, "40 of 40") || !strings.Contains(out, "more") {
		t.Errorf("show: %s", out)
	}
	reason := strings.Repeat("&amp;", 500) // 500 ampersands, 2,500 characters escaped
	if out := h.Ask(adam, "revoke <@UALICE|alice> --all "+reason); !strings.Contains(out, "is filed") {
		t.Fatalf("revoke: %s", out)
	}
	if out := h.Ask(hana, "requests"); !strings.Contains(out, "#1") {
		t.Errorf("requests: %s", out)
	}
	req := h.HelpdeskRequest()
	if text := messageText(req); !strings.Contains(text, "more") {
		t.Errorf("the request message does not say how many rows it left out:\n%s", text)
	}
	h.Decide(hugo, "revoke_approve", req)
	h.WaitFor("the revocation", func() bool { return h.CountOf(alice) == 0 })
	h.WaitFor("the DM to alice", func() bool { return len(h.Slack.DMsTo(alice)) > 0 })
	h.WaitFor("the updated request", func() bool { return strings.Contains(messageText(h.CurrentRequest(req.TS)), "Approved by") })
	for _, c := range h.Slack.Calls() {
		if strings.Contains(string(c.Body), "invalid_blocks") {
			t.Errorf("Slack refused %s %s", c.Kind, c.Method)
		}
	}
}
