package bot_test

import (
	"os"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The manifest turns on what the code uses and asks for no scope it does
// not (SPEC §4).
func TestManifest(t *testing.T) {
	b, err := os.ReadFile("../manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Features struct {
			AppHome struct {
				HomeTab     bool `yaml:"home_tab_enabled"`
				MessagesTab bool `yaml:"messages_tab_enabled"`
			} `yaml:"app_home"`
			SlashCommands []struct {
				Command      string `yaml:"command"`
				ShouldEscape bool   `yaml:"should_escape"`
			} `yaml:"slash_commands"`
		} `yaml:"features"`
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Events struct {
				BotEvents []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
			Interactivity struct {
				Enabled bool `yaml:"is_enabled"`
			} `yaml:"interactivity"`
			SocketMode bool `yaml:"socket_mode_enabled"`
		} `yaml:"settings"`
	}
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if !m.Features.AppHome.HomeTab || !m.Features.AppHome.MessagesTab {
		t.Error("the Home tab and the Messages tab (where a secret created from Home is shown) must be on")
	}
	if len(m.Features.SlashCommands) != 1 || m.Features.SlashCommands[0].Command != "/apppass" || !m.Features.SlashCommands[0].ShouldEscape {
		t.Errorf("slash commands = %+v, want /apppass with should_escape", m.Features.SlashCommands)
	}
	if !slices.Equal(m.Settings.Events.BotEvents, []string{"app_home_opened"}) {
		t.Errorf("bot events = %v, want app_home_opened only", m.Settings.Events.BotEvents)
	}
	if !m.Settings.Interactivity.Enabled || !m.Settings.SocketMode {
		t.Error("socket mode and interactivity must be on")
	}
	got := slices.Sorted(slices.Values(m.OAuth.Scopes.Bot))
	want := []string{"channels:read", "chat:write", "commands", "groups:read", "im:write", "users:read", "users:read.email"}
	if !slices.Equal(got, want) {
		t.Errorf("bot scopes = %v, want exactly %v", got, want)
	}
}
