package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/app"
	"github.com/apppass/apppass/internal/testkit"

	"github.com/apppass/apppass/fakeslack"
)

// TestHealthAndMetrics runs apppass and reads its endpoints as Prometheus
// and a load balancer would: ready once the socket is up, commands and
// upstream calls counted, and nothing in the scrape that names a person
// or carries a URL or a token.
func TestHealthAndMetrics(t *testing.T) {
	h := newHarness(t).start()
	base := "http://" + h.App.HTTPAddr
	if got := httpGet(t, base+"/healthz", http.StatusOK); strings.TrimSpace(got) != "ok" {
		t.Errorf("/healthz = %q", got)
	}
	ready := waitFor(t, func() (string, bool) {
		body, status := httpGetStatus(t, base+"/readyz")
		return body, status == http.StatusOK
	})
	for _, want := range []string{`"database":"ok"`, `"slack":"ok"`, `"graph":"ok"`} {
		if !strings.Contains(ready, want) {
			t.Errorf("/readyz = %s, want %s", ready, want)
		}
	}

	h.Reply(h.Command(alice, "create Laptop Mail"))
	// The command is counted once its work ends, a moment after its reply.
	scrape := waitFor(t, func() (string, bool) {
		body := httpGet(t, base+"/metrics", http.StatusOK)
		return body, strings.Contains(body, `apppass_upstream_requests_total{operation="POST /v1.0/applications/{id}/addPassword",status="200",system="graph"} 1`) &&
			strings.Contains(body, `apppass_commands_total{outcome="ok",verb="create"} 1`)
	})
	for _, want := range []string{
		`apppass_upstream_requests_total{operation="users.info",status="200",system="slack"}`,
		`apppass_upstream_request_duration_seconds_bucket{operation="POST /v1.0/applications/{id}/addPassword"`,
		`apppass_revocations_pending 0`,
		`apppass_commands_in_progress `,
		`apppass_commands_total{outcome="ok",verb="create"} 1`,
		`apppass_job_runs_total{job="reconcile-credentials",outcome="ok"}`,
		`apppass_job_duration_seconds_count{job="reconcile-credentials"}`,
	} {
		if !strings.Contains(scrape, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, leak := range []string{"alice", "contoso", "Laptop", "/response/", fakeslack.BotToken} {
		if strings.Contains(scrape, leak) {
			t.Errorf("/metrics contains %q", leak)
		}
	}

	// Slack goes away: the socket drops and cannot be reopened.
	h.Slack.FailMethod("apps.connections.open", "internal_error", 1000)
	h.Slack.DropSockets()
	notReady := waitFor(t, func() (string, bool) {
		body, status := httpGetStatus(t, base+"/readyz")
		return body, status == http.StatusServiceUnavailable
	})
	if !strings.Contains(notReady, `"slack":"failing"`) || !strings.Contains(notReady, `"database":"ok"`) {
		t.Errorf("/readyz with Slack down = %s, want slack failing and database ok", notReady)
	}
}

// TestHealthCommand is `apppass health` as a container health check runs
// it: exit status 0 against a ready apppass, an error otherwise.
func TestHealthCommand(t *testing.T) {
	h := newHarness(t).start()
	url := "http://" + h.App.HTTPAddr + "/readyz"
	waitFor(t, func() (string, bool) {
		_, status := httpGetStatus(t, url)
		return "", status == http.StatusOK
	})
	var out bytes.Buffer
	if err := app.Run(context.Background(), []string{"health", url}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Errorf("apppass health against a ready apppass: %v (%s)", err, out.String())
	}
	if err := app.Run(context.Background(), []string{"health", "http://127.0.0.1:1/readyz"}, func(string) string { return "" }, &out, io.Discard); err == nil {
		t.Errorf("apppass health against nothing succeeded")
	}
}

// TestCheckCommand runs `apppass check` against the fakes: all pass, then
// the bot is not in the helpdesk channel and the command fails naming it.
func TestCheckCommand(t *testing.T) {
	h := newHarness(t)
	h.Env["APPPASS_SLACK_TEAM"] = fakeslack.TeamID
	m := h.NewMain()
	var out bytes.Buffer
	if err := m.Check(context.Background(), &out); err != nil {
		t.Fatalf("check with everything in place: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "✓ bot in APPPASS_HELPDESK_CHANNEL") {
		t.Errorf("check output lacks the helpdesk channel:\n%s", out.String())
	}
	h.Slack.AddChannelWithoutBot("CNOBOT")
	h.Env["APPPASS_HELPDESK_CHANNEL"] = "CNOBOT"
	out.Reset()
	if err := h.NewMain().Check(context.Background(), &out); err == nil {
		t.Fatalf("check passed with the bot outside the helpdesk channel:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "✗ bot in APPPASS_HELPDESK_CHANNEL CNOBOT: the bot is not a member") {
		t.Errorf("check output does not name the failure:\n%s", out.String())
	}
}

func httpGetStatus(t *testing.T, url string) (string, int) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err.Error(), 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode
}

func httpGet(t *testing.T, url string, want int) string {
	t.Helper()
	body, status := httpGetStatus(t, url)
	if status != want {
		t.Fatalf("GET %s = %d, want %d: %s", url, status, want, body)
	}
	return body
}

// waitFor polls f until it reports done and returns its last value; the
// test fails, with that value, if it never does.
func waitFor(t *testing.T, f func() (string, bool)) string {
	t.Helper()
	var v string
	testkit.Eventually(t, 10*time.Second, "the condition", func() bool {
		var done bool
		v, done = f()
		return done
	}, func() string { return "last: " + v })
	return v
}
