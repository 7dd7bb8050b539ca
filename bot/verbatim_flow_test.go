package bot_test

import (
	"net/url"
	"strings"
	"testing"
)

// A name and a reason are shown in the helpdesk channel as typed: their
// mrkdwn formatting characters do nothing, and links are not unfurled.
func TestRequestMessageEchoesNamesAndReasonsVerbatim(t *testing.T) {
	h := newHarness(t).start()
	if h.SecretIn(h.Ask(alice, "create *Boss* _phone_")) == "" {
		t.Fatal("create failed")
	}
	h.Ask(adam, "revoke <@UALICE|alice> --all ~gone~ `now` see *this*")
	req := h.HelpdeskRequest()
	text := messageText(req)
	for _, formatted := range []string{"*Boss*", "_phone_", "~gone~", "`now`", "*this*"} {
		if strings.Contains(text, formatted) {
			t.Errorf("request message lets %q format text:\n%q", formatted, text)
		}
	}
	plain := strings.ReplaceAll(text, "\u200b", "")
	for _, typed := range []string{"*Boss* _phone_", "~gone~ `now` see *this*"} {
		if !strings.Contains(plain, typed) {
			t.Errorf("request message does not show %q as typed:\n%s", typed, plain)
		}
	}
	form, err := url.ParseQuery(string(req.Raw))
	if err != nil {
		t.Fatalf("chat.postMessage body: %v", err)
	}
	if form.Get("unfurl_links") != "false" || form.Get("unfurl_media") != "false" {
		t.Errorf("chat.postMessage unfurl_links=%q unfurl_media=%q, want false", form.Get("unfurl_links"), form.Get("unfurl_media"))
	}
}
