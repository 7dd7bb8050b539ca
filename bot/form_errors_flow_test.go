package bot_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/apppass/apppass/fakeslack"
)

// The create form answers an empty, too long or duplicate name under
// the field (response_action: errors), in plain text, and stays open;
// the duplicate error names the stored password as it is spelled.
func TestCreateFormErrorsStayInTheForm(t *testing.T) {
	h := newHarness(t).start()
	if h.SecretIn(h.Ask(alice, "create Tablet")) == "" {
		t.Fatal("create failed")
	}
	ix := h.Command(alice, "create")
	var views []fakeslack.View
	h.WaitFor("the create form", func() bool { views = h.Slack.OpenedViews(); return len(views) > 0 })
	for _, tt := range []struct{ name, typed, want string }{
		{"empty", "  ", "Please give the app password a name"},
		{"too long", strings.Repeat("x", 70), "at most 64"},
		{"duplicate", "tablet", "You already have an app password called “Tablet”"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sub, err := h.Slack.ViewSubmission(h.Ctx(), alice, views[0].ID, map[string]map[string]string{"name": {"name": tt.typed}})
			if err != nil {
				t.Fatal(err)
			}
			var ack struct {
				ResponseAction string            `json:"response_action"`
				Errors         map[string]string `json:"errors"`
			}
			if err := json.Unmarshal(sub.AckPayload, &ack); err != nil {
				t.Fatalf("ack %s: %v", sub.AckPayload, err)
			}
			msg := ack.Errors["name"]
			if ack.ResponseAction != "errors" || !strings.Contains(msg, tt.want) || strings.Contains(msg, "`") {
				t.Errorf("ack = %s; want response_action errors with %q in plain text", sub.AckPayload, tt.want)
			}
		})
	}
	if n := h.CountOf(alice); n != 1 {
		t.Errorf("alice holds %d passwords after refused submissions", n)
	}
	if _, err := h.Slack.ViewSubmission(h.Ctx(), alice, views[0].ID, map[string]map[string]string{"name": {"name": "Phone"}}); err != nil {
		t.Fatal(err)
	}
	if out := messageText(h.Reply(ix)); h.SecretIn(out) == "" {
		t.Fatalf("the corrected form did not deliver: %s", out)
	}
}
