package app

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
	h.env["APPPASS_WARN_AT"] = "2"
	h.env["APPPASS_REPORT_CHANNEL"] = "CREPORT"
	h.slack.AddChannel("CREPORT")
	h.start()
	h.ask(alice, "create one")
	h.ask(alice, "create two")
	h.ask(bob, "create only")
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var out bytes.Buffer
	if err := h.newMain().RunJob(ctx, jobs.LimitWarning, &out); err != nil {
		t.Fatalf("job run limit-warning: %v\n%s", err, out.String())
	}
	if dms := h.slack.DMsTo(alice); len(dms) != 1 || !strings.Contains(messageText(dms[0]), "2 of 40") {
		t.Fatalf("alice's limit warning: %+v", dms)
	}
	if len(h.slack.DMsTo(bob)) != 0 {
		t.Error("bob, below warn_at, was warned")
	}
	// Run again: the cooldown holds.
	if err := h.newMain().RunJob(ctx, jobs.LimitWarning, &out); err != nil {
		t.Fatal(err)
	}
	if n := len(h.slack.DMsTo(alice)); n != 1 {
		t.Fatalf("alice warned %d times within the cooldown", n)
	}
	if err := h.newMain().RunJob(ctx, jobs.HygieneReport, &out); err != nil {
		t.Fatalf("job run hygiene-report: %v", err)
	}
	if msgs := h.slack.MessagesIn("CREPORT"); len(msgs) != 1 {
		t.Fatalf("report messages: %d", len(msgs))
	}
	err := h.newMain().RunJob(ctx, "no-such-job", &out)
	if !errors.Is(err, jobs.ErrUnknownJob) {
		t.Errorf("unknown job: %v", err)
	}
	out.Reset()
	if err := h.newMain().ListJobs(ctx, &out); err != nil {
		t.Fatal(err)
	}
	list := out.String()
	for _, want := range []string{"limit-warning", "0 9 * * 1-5", "hygiene-report", "stale-warning", "never", "ok"} {
		if !strings.Contains(list, want) {
			t.Errorf("job list lacks %q:\n%s", want, list)
		}
	}
}
