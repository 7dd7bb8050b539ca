package app_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/app"
)

func run(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	err = app.Run(ctx, args, func(k string) string { return env[k] }, &out, &errb)
	return out.String(), errb.String(), err
}

// `apppass help` and `apppass COMMAND --help` describe every command and
// flag; a bare apppass prints the help instead of starting serve.
func TestHelpDescribesEveryCommandAndFlag(t *testing.T) {
	for _, args := range [][]string{nil, {"help"}, {"--help"}} {
		out, _, err := run(t, nil, args...)
		if err != nil {
			t.Fatalf("apppass %v: %v", args, err)
		}
		for _, cmd := range []string{"serve", "gateway", "demo", "check", "health", "job", "audit", "version"} {
			if !strings.Contains(out, "\n  "+cmd+" ") {
				t.Errorf("apppass %v does not describe %s:\n%s", args, cmd, out)
			}
		}
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"demo", "--help"}, []string{"--addr", "--smtp-addr"}},
		{[]string{"audit", "export", "--help"}, []string{"--since", "APPPASS_DB"}},
		{[]string{"job", "--help"}, []string{"list", "run"}},
		{[]string{"help", "job", "run"}, []string{"apppass job run NAME"}},
		{[]string{"check", "--help"}, []string{"every missing", "10 seconds"}},
	} {
		out, _, err := run(t, nil, tt.args...)
		if err != nil {
			t.Fatalf("apppass %v: %v", tt.args, err)
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("apppass %v lacks %q:\n%s", tt.args, w, out)
			}
		}
	}
}

// Command lines apppass cannot take are usage errors (exit status 2),
// and are refused before any setting is read.
func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"serv"}, {"job", "run"}, {"job", "list", "extra"}, {"audit", "export", "--sinc", "1h"}, {"demo", "--port", "1"}, {"health", "a", "b"}} {
		_, _, err := run(t, nil, args...)
		var u app.UsageError
		if !errors.As(err, &u) {
			t.Errorf("apppass %v: got %v, want a usage error", args, err)
		}
	}
	out, _, err := run(t, nil, "version")
	if err != nil || !strings.HasPrefix(out, "apppass ") {
		t.Errorf("apppass version = %q, %v", out, err)
	}
}

// job list and audit export need APPPASS_DB only, and refuse a database
// that does not exist instead of creating an empty one.
func TestDatabaseCommandsNeedOnlyTheDatabase(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "apppass.db")
	for _, args := range [][]string{{"job", "list"}, {"audit", "export"}} {
		_, _, err := run(t, map[string]string{"APPPASS_DB": missing}, args...)
		if err == nil || !strings.Contains(err.Error(), "no database at "+missing) {
			t.Errorf("apppass %v without a database: %v", args, err)
		}
		if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("apppass %v created %s", args, missing)
		}
	}

	h := newHarness(t).start()
	h.Ask(alice, "create Phone")
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	only := map[string]string{"APPPASS_DB": h.Env["APPPASS_DB"]}
	out, stderr, err := run(t, only, "job", "list")
	if err != nil {
		t.Fatalf("job list with APPPASS_DB only: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "hygiene-report") {
		t.Errorf("job list does not list the jobs:\n%s", out)
	}
	out, stderr, err = run(t, only, "audit", "export")
	if err != nil {
		t.Fatalf("audit export with APPPASS_DB only: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, `"name":"Phone"`) {
		t.Errorf("audit export lacks alice's Phone:\n%s", out)
	}
}

// check names every missing setting in one run, one line each, and tries
// no service while any is missing.
func TestCheckReportsEveryMissingSetting(t *testing.T) {
	out, _, err := run(t, map[string]string{"APPPASS_WORKERS": "many"}, "check")
	if err == nil {
		t.Fatalf("check passed with nothing set:\n%s", out)
	}
	for _, name := range []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "APPPASS_SLACK_TEAM", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "APPPASS_WORKERS"} {
		if !strings.Contains(out, "✗ "+name) {
			t.Errorf("check does not name %s:\n%s", name, out)
		}
	}
	if !strings.Contains(out, "AZURE_CLIENT_SECRET is not set") {
		t.Errorf("check does not say that AZURE_CLIENT_SECRET is unset:\n%s", out)
	}
	if strings.Contains(out, "Slack bot token") || strings.Contains(out, "Entra token") {
		t.Errorf("check tried the services with settings missing:\n%s", out)
	}
	if !strings.Contains(err.Error(), "6 settings missing") {
		t.Errorf("check's error = %v", err)
	}
}

// Against services that cannot be reached, check ends quickly, says each
// failure is the network's in one line, and never blames a token.
func TestCheckUnreachableServices(t *testing.T) {
	env := map[string]string{
		"SLACK_APP_TOKEN": "xapp-1-abc", "SLACK_BOT_TOKEN": "xoxb-123", "APPPASS_SLACK_TEAM": "T0123ABC",
		"AZURE_TENANT_ID": "00000000-0000-0000-0000-000000000001", "AZURE_CLIENT_ID": "00000000-0000-0000-0000-000000000002",
		"AZURE_CLIENT_SECRET": "secret", "APPPASS_HELPDESK_CHANNEL": "CHELP",
		"SLACK_API_URL": "http://127.0.0.1:1/api/", "AZURE_AUTHORITY_HOST": "https://127.0.0.1:1/", "GRAPH_BASE_URL": "https://127.0.0.1:1/v1.0",
	}
	start := time.Now()
	out, _, err := run(t, env, "check")
	if err == nil {
		t.Fatalf("check passed against nothing:\n%s", out)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("check took %s against refused connections", took)
	}
	for _, want := range []string{"✗ Slack bot token (auth.test): network: connection refused", "✗ Slack app token (apps.connections.open): network: connection refused",
		"✗ Entra token for apppass: network: connection refused", "· bot in APPPASS_HELPDESK_CHANNEL CHELP: not checked"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"reinstall", "AADSTS", "169.254", "http://", "https://", "troubleshoot"} {
		if strings.Contains(out, bad) {
			t.Errorf("check output contains %q:\n%s", bad, out)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, "✓") && !strings.HasPrefix(line, "✗") && !strings.HasPrefix(line, "·") && !strings.HasPrefix(line, "–") {
			t.Errorf("check line %q is not one result", line)
		}
	}
}

// A port in use says which flag chooses another.
func TestDemoPortInUseSuggestsTheFlag(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, _, err = run(t, nil, "demo", "--addr", ln.Addr().String(), "--smtp-addr", "off")
	if err == nil || !strings.Contains(err.Error(), "choose another with --addr") {
		t.Errorf("demo on a port in use: %v", err)
	}
}
