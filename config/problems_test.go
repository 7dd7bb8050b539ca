package config_test

import (
	"strings"
	"testing"

	"github.com/apppass/apppass/config"
)

// An empty environment names every required setting at once, one line
// each, so that one run of `apppass check` tells an operator all of them.
func TestProblemsNamesEverySettingAtOnce(t *testing.T) {
	problems := config.Problems(env(map[string]string{"APPPASS_WORKERS": "many", "APPPASS_LOG_LEVEL": "loud"}))
	want := []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "APPPASS_SLACK_TEAM", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "APPPASS_WORKERS", "APPPASS_LOG_LEVEL"}
	if len(problems) != len(want) {
		t.Fatalf("got %d problems, want %d: %v", len(problems), len(want), problems)
	}
	for i, w := range want {
		found := false
		for _, p := range problems {
			if strings.Contains(p.Error(), "\n") {
				t.Errorf("problem %q is more than one line", p)
			}
			found = found || strings.HasPrefix(p.Error(), w)
		}
		if !found {
			t.Errorf("problem %d: nothing names %s in %v", i, w, problems)
		}
	}
	_, err := config.Load(env(map[string]string{}))
	if err == nil || strings.Count(err.Error(), "\n") != 4 {
		t.Errorf("Load's error should be the five missing settings, one a line; got %v", err)
	}
	if p := config.Problems(env(valid())); len(p) != 0 {
		t.Errorf("a valid environment has problems: %v", p)
	}
}

// The database verbs need APPPASS_DB only.
func TestLoadForDatabase(t *testing.T) {
	cfg, err := config.Load(env(map[string]string{"APPPASS_DB": "/var/lib/apppass/apppass.db"}), config.ForDatabase())
	if err != nil {
		t.Fatalf("ForDatabase demanded more than APPPASS_DB: %v", err)
	}
	if cfg.DBPath != "/var/lib/apppass/apppass.db" {
		t.Errorf("DBPath = %q", cfg.DBPath)
	}
	if _, err := config.Load(env(map[string]string{"APPPASS_DB": "x.db"})); err == nil {
		t.Error("without ForDatabase, Load accepted an environment without Slack or Entra")
	}
}
