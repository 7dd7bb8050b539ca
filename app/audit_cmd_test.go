package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/app"
)

func TestAuditExportWritesJSONLines(t *testing.T) {
	h := newHarness(t).start()
	h.Ask(alice, "create Phone")
	h.Ask(bob, "create Tablet")
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errs bytes.Buffer
	getenv := func(k string) string { return h.Env[k] }
	if err := app.Run(ctx, []string{"audit", "export"}, getenv, &out, &errs); err != nil {
		t.Fatalf("audit export: %v\n%s", err, errs.String())
	}
	type line struct {
		At      time.Time `json:"at"`
		Action  string    `json:"action"`
		Subject string    `json:"subject_id"`
		Name    string    `json:"name"`
		Outcome string    `json:"outcome"`
	}
	var lines []line
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	creates := map[string]bool{}
	for _, l := range lines {
		if l.Action == "create" && l.Outcome == "ok" {
			creates[l.Name] = true
		}
	}
	if !creates["Phone"] || !creates["Tablet"] {
		t.Errorf("export lacks the creates: %+v", lines)
	}
	for _, s := range h.Entra.IssuedSecrets() {
		if strings.Contains(out.String(), s) {
			t.Error("a secret is in the export")
		}
	}

	out.Reset()
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if err := app.Run(ctx, []string{"audit", "export", "--since", future}, getenv, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("--since the future exported %q", out.String())
	}
	if err := app.Run(ctx, []string{"audit", "export", "--since", "yesterday"}, getenv, &out, &errs); err == nil {
		t.Error("a bad --since was accepted")
	}
}
