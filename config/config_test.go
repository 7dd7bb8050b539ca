package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/config"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func valid() map[string]string {
	return map[string]string{
		"SLACK_APP_TOKEN": "xapp-1-abc", "SLACK_BOT_TOKEN": "xoxb-123", "AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c",
		"AZURE_CLIENT_SECRET": "super-secret-value", "APPPASS_SLACK_TEAM": "T0123ABC",
	}
}

func TestLoadErrorsNameTheSetting(t *testing.T) {
	tests := []struct {
		name, key, value, wantIn string
	}{
		{"missing app token", "SLACK_APP_TOKEN", "", "SLACK_APP_TOKEN"},
		{"wrong app token", "SLACK_APP_TOKEN", "xoxb-1", "SLACK_APP_TOKEN"},
		{"missing bot token", "SLACK_BOT_TOKEN", "", "SLACK_BOT_TOKEN"},
		{"missing tenant", "AZURE_TENANT_ID", "", "AZURE_TENANT_ID"},
		{"missing client", "AZURE_CLIENT_ID", "", "AZURE_CLIENT_ID"},
		{"bad max", "APPPASS_MAX_PER_USER", "forty", "APPPASS_MAX_PER_USER"},
		{"zero max", "APPPASS_MAX_PER_USER", "0", "APPPASS_MAX_PER_USER"},
		{"warn above max", "APPPASS_WARN_AT", "41", "APPPASS_WARN_AT"},
		{"bad graph url", "GRAPH_BASE_URL", "graph.microsoft.com", "GRAPH_BASE_URL"},
		{"bad authority", "AZURE_AUTHORITY_HOST", "ftp://x", "AZURE_AUTHORITY_HOST"},
		{"bad lifetime", "APPPASS_PASSWORD_LIFETIME", "1 year", "APPPASS_PASSWORD_LIFETIME"},
		{"bad zone", "APPPASS_TIME_ZONE", "Mars/Olympus", "APPPASS_TIME_ZONE"},
		{"bad http addr", "APPPASS_HTTP_ADDR", "9090", "APPPASS_HTTP_ADDR"},
		{"missing team", "APPPASS_SLACK_TEAM", "", "APPPASS_SLACK_TEAM"},
		{"team not an id", "APPPASS_SLACK_TEAM", "contoso", "APPPASS_SLACK_TEAM"},
		{"team is a user", "APPPASS_SLACK_TEAM", "U0123", "APPPASS_SLACK_TEAM"},
		{"zero workers", "APPPASS_WORKERS", "0", "APPPASS_WORKERS"},
		{"bad workers", "APPPASS_WORKERS", "many", "APPPASS_WORKERS"},
		{"bad log level", "APPPASS_LOG_LEVEL", "verbose", "APPPASS_LOG_LEVEL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := valid()
			m[tt.key] = tt.value
			_, err := config.Load(env(m))
			if err == nil {
				t.Fatalf("Load accepted %s=%q", tt.key, tt.value)
			}
			if !strings.Contains(err.Error(), tt.wantIn) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q should be one line naming %s", err, tt.wantIn)
			}
		})
	}
}

func TestTeamWorkersAndLogLevel(t *testing.T) {
	tests := []struct {
		name    string
		set     map[string]string
		team    string
		workers int
		level   string
	}{
		{"defaults", nil, "T0123ABC", 32, "info"},
		{"enterprise grid", map[string]string{"APPPASS_SLACK_TEAM": "E0ABC"}, "E0ABC", 32, "info"},
		{"set", map[string]string{"APPPASS_WORKERS": "4", "APPPASS_LOG_LEVEL": "DEBUG"}, "T0123ABC", 4, "debug"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := valid()
			for k, v := range tt.set {
				m[k] = v
			}
			c, err := config.Load(env(m))
			if err != nil {
				t.Fatal(err)
			}
			if c.SlackTeam != tt.team || c.Workers != tt.workers || c.LogLevel != tt.level {
				t.Errorf("got team %q, workers %d, level %q; want %q, %d, %q", c.SlackTeam, c.Workers, c.LogLevel, tt.team, tt.workers, tt.level)
			}
		})
	}
}

func TestLoadDefaultsAndSecrets(t *testing.T) {
	c, err := config.Load(env(valid()))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxPerUser != 40 || c.WarnAt != 35 || c.DBPath != "apppass.db" || c.GraphBaseURL != "https://graph.microsoft.com/v1.0" || c.RequestTTL != 72*time.Hour {
		t.Errorf("defaults wrong: %+v", c)
	}
	for _, s := range []string{fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		for _, secret := range []string{"super-secret-value", "xoxb-123", "xapp-1-abc"} {
			if strings.Contains(s, secret) {
				t.Errorf("printing the config shows %q", secret)
			}
		}
	}
}

func TestYAMLFileThenEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "apppass.yaml")
	if err := os.WriteFile(path, []byte("max_per_user: 20\nwarn_at: 15\nrequest_ttl: 24h\ndb: /tmp/x.db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := valid()
	m["APPPASS_CONFIG"] = path
	m["APPPASS_WARN_AT"] = "18"
	c, err := config.Load(env(m))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxPerUser != 20 || c.WarnAt != 18 || c.RequestTTL != 24*time.Hour || c.DBPath != "/tmp/x.db" {
		t.Errorf("got max=%d warn=%d ttl=%v db=%s", c.MaxPerUser, c.WarnAt, c.RequestTTL, c.DBPath)
	}
}

// A YAML file overrides the default schedules job by job; the others keep
// their defaults.
func TestScheduleOverridesKeepTheOtherDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "apppass.yaml")
	if err := os.WriteFile(path, []byte("schedules: {stale-warning: \"0 10 * * 2\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := valid()
	e["APPPASS_CONFIG"] = path
	c, err := config.Load(env(e))
	if err != nil {
		t.Fatal(err)
	}
	want := config.Default().Schedules
	want["stale-warning"] = "0 10 * * 2"
	if got := fmt.Sprint(c.Schedules); got != fmt.Sprint(want) {
		t.Errorf("schedules = %s, want %s", got, want)
	}
}

func TestHTTPAddr(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"default is loopback", "", config.DefaultHTTPAddr},
		{"all interfaces", ":9090", ":9090"},
		{"off", "off", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := valid()
			m["APPPASS_HTTP_ADDR"] = tt.value
			c, err := config.Load(env(m))
			if err != nil {
				t.Fatal(err)
			}
			if c.HTTPAddr != tt.want {
				t.Errorf("HTTPAddr = %q, want %q", c.HTTPAddr, tt.want)
			}
		})
	}
}

// A schedule that cannot run stops start-up with the job's name, since
// config.Load is the one place settings are checked.
func TestBadSchedulesNameTheJob(t *testing.T) {
	for _, tt := range []struct{ name, yaml, want string }{
		{"bad cron", "schedules: {stale-warning: \"61 9 * * 1\"}\n", "stale-warning"},
		{"too few fields", "schedules: {hygiene-report: \"0 8 *\"}\n", "hygiene-report"},
		{"unknown job", "schedules: {cleanup: \"0 9 * * *\"}\n", `"cleanup"`},
		{"a background job has no schedule", "schedules: {reconcile-credentials: \"* * * * *\"}\n", `"reconcile-credentials"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "apppass.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			e := valid()
			e["APPPASS_CONFIG"] = path
			_, err := config.Load(env(e))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load: err = %v, want one naming %s", err, tt.want)
			}
		})
	}
}
