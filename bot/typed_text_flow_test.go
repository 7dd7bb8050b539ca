package bot_test

import (
	"testing"
)

// Names typed after /apppass arrive link-rewritten by Slack (URLs,
// addresses, #channels) and escaped; apppass stores them as typed, the
// same names the form would make.
func TestTypedNamesAreStoredAsTyped(t *testing.T) {
	h := newHarness(t).start()
	for _, name := range []string{"printer office.example.com", "relay for ops@contoso.com", "Mail & Calendar <1>"} {
		ix, err := h.Slack.SlashCommandTyped(h.Ctx(), alice, channel, "/apppass", "create "+name)
		if err != nil {
			t.Fatal(err)
		}
		if h.SecretIn(messageText(h.Reply(ix))) == "" {
			t.Fatalf("create %q failed", name)
		}
	}
	got := map[string]bool{}
	for _, c := range h.Entra.CredentialsOf(entraID(alice)) {
		got[c.DisplayName] = true
	}
	for _, want := range []string{"printer office.example.com", "relay for ops@contoso.com", "Mail & Calendar <1>"} {
		if !got[want] {
			t.Errorf("stored names %v lack %q", got, want)
		}
	}
}
