package app_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/jobs"
)

func TestJobRunAndList(t *testing.T) {
	h := newHarness(t)
	h.Env["APPPASS_WARN_AT"] = "2"
	h.Env["APPPASS_REPORT_CHANNEL"] = "CREPORT"
	h.Slack.AddChannel("CREPORT")
	h.Start()
	h.Ask(alice, "create one")
	h.Ask(alice, "create two")
	h.Ask(bob, "create only")
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var out bytes.Buffer
	if err := h.NewMain().RunJob(ctx, jobs.LimitWarning, &out); err != nil {
		t.Fatalf("job run limit-warning: %v\n%s", err, out.String())
	}
	if dms := h.Slack.DMsTo(alice); len(dms) != 1 || !strings.Contains(messageText(dms[0]), "2 of 40") {
		t.Fatalf("alice's limit warning: %+v", dms)
	}
	if len(h.Slack.DMsTo(bob)) != 0 {
		t.Error("bob, below warn_at, was warned")
	}
	// Run again: the cooldown holds.
	if err := h.NewMain().RunJob(ctx, jobs.LimitWarning, &out); err != nil {
		t.Fatal(err)
	}
	if n := len(h.Slack.DMsTo(alice)); n != 1 {
		t.Fatalf("alice warned %d times within the cooldown", n)
	}
	if err := h.NewMain().RunJob(ctx, jobs.HygieneReport, &out); err != nil {
		t.Fatalf("job run hygiene-report: %v", err)
	}
	if msgs := h.Slack.MessagesIn("CREPORT"); len(msgs) != 1 {
		t.Fatalf("report messages: %d", len(msgs))
	}
	err := h.NewMain().RunJob(ctx, "no-such-job", &out)
	if !errors.Is(err, jobs.ErrUnknownJob) {
		t.Errorf("unknown job: %v", err)
	}
	out.Reset()
	if err := h.NewMain().ListJobs(ctx, &out); err != nil {
		t.Fatal(err)
	}
	list := out.String()
	for _, want := range []string{"limit-warning", "0 9 * * 1-5", "hygiene-report", "stale-warning", "never", "ok"} {
		if !strings.Contains(list, want) {
			t.Errorf("job list lacks %q:\n%s", want, list)
		}
	}
}
