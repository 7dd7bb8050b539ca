package app_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/apppass/apppass/app"

	"github.com/apppass/apppass/fakeentra"
)

// unreachableResponseURLs fails every post to a response URL in the
// transport, as a network error does: net/http then returns a *url.Error
// that holds the whole URL, a bearer link.
type unreachableResponseURLs struct{ base http.RoundTripper }

func (u unreachableResponseURLs) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, "/response/") {
		return nil, errors.New("connection reset by peer")
	}
	return u.base.RoundTrip(r)
}

func TestResponseURLsNeverReachTheLogs(t *testing.T) {
	h := newHarness(t)
	h.Adjust = func(m *app.Main) {
		m.SlackHTTPClient = &http.Client{Transport: unreachableResponseURLs{base: http.DefaultTransport}}
	}
	h.Start()
	h.Slack.FailMethod("chat.postEphemeral", "channel_not_found", 10)
	ix := h.Command(alice, "list")
	h.WaitFor("the fallback DM", func() bool { return len(h.Slack.DMsTo(alice)) > 0 })
	logs := h.Logs.String()
	if !strings.Contains(logs, "connection reset by peer") {
		t.Fatalf("the failed response URL post was not logged; the test proves nothing:\n%s", logs)
	}
	if ix.ResponseURL == "" || strings.Contains(logs, ix.ResponseURL) || strings.Contains(logs, "/response/"+ix.ResponseID) {
		t.Errorf("a response URL is in the logs:\n%s", logs)
	}
}

// Every command carries a short correlation id in its log lines and in the
// person's error message, so the helpdesk can find what happened.
func TestCorrelationIDInLogsAndErrorMessages(t *testing.T) {
	h := newHarness(t).start()
	h.Entra.Inject(fakeentra.OpAddPassword, fakeentra.Fault{Status: 400, Times: 5})
	out := h.Ask(alice, "create Phone")
	m := regexp.MustCompile(`\(ref: ([0-9a-f]{6})\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no (ref: …) in the error message: %s", out)
	}
	var withRef []string
	linesWithRef := func() []string {
		withRef = nil
		for _, line := range strings.Split(strings.TrimSpace(h.Logs.String()), "\n") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("log line is not JSON: %s", line)
			}
			if rec["ref"] == m[1] {
				withRef = append(withRef, rec["msg"].(string))
			}
		}
		return withRef
	}
	// "command done" is written once the reply is out.
	h.WaitFor("the command's last log line", func() bool { return contains(linesWithRef(), "command done") })
	if len(withRef) < 2 || !contains(withRef, "command failed") {
		t.Errorf("log lines with ref %s: %q; want the failure and the command's other lines", m[1], withRef)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// observed records what the bot reports to its Observer.
type observed struct {
	mu   sync.Mutex
	done []string // "verb outcome"
}

func (o *observed) CommandDone(verb, outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done = append(o.done, verb+" "+outcome)
}

func (o *observed) has(s string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return contains(o.done, s)
}

// Each command, click and submission is reported with apppass's own verb
// and "ok" or the kind of error, never with input.
func TestCommandsAreObserved(t *testing.T) {
	h := newHarness(t)
	obs := &observed{}
	h.Adjust = func(m *app.Main) { m.Observer = obs }
	h.Start()
	h.Ask(alice, "list")
	h.Ask(alice, "create Phone")
	h.Ask(alice, "create Phone")
	h.Ask(erin, "list")
	h.Ask(alice, "delete")
	h.Ask(alice, "frobnicate <!channel>")
	for _, want := range []string{"list ok", "create ok", "create conflict", "list forbidden", "delete invalid", "help ok"} {
		h.WaitFor(want, func() bool { return obs.has(want) })
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	for _, d := range obs.done {
		if strings.Contains(d, "frobnicate") || strings.Contains(d, "Phone") {
			t.Errorf("input reached the observer: %q", d)
		}
	}
}
