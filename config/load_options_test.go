package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apppass/apppass/config"
)

// `apppass gateway` runs without Slack: ForGateway drops the Slack tokens
// from what Load requires and requires a gateway listener instead.
func TestLoadForGateway(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for _, f := range []string{cert, key} {
		if err := os.WriteFile(f, []byte("pem"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	gateway := func(set map[string]string) map[string]string {
		m := map[string]string{"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "APPPASS_SMTP_ADDR": ":587",
			"APPPASS_SMTP_TLS_CERT": cert, "APPPASS_SMTP_TLS_KEY": key, "APPPASS_SMTP_HOSTNAME": "smtp.contoso.test"}
		for k, v := range set {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name   string
		env    map[string]string
		opts   []config.LoadOption
		wantIn string // "" means valid
	}{
		{"gateway without Slack", gateway(nil), []config.LoadOption{config.ForGateway()}, ""},
		{"gateway with a bot token for alerts", gateway(map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}), []config.LoadOption{config.ForGateway()}, ""},
		{"gateway with a wrong bot token", gateway(map[string]string{"SLACK_BOT_TOKEN": "xapp-1"}), []config.LoadOption{config.ForGateway()}, "SLACK_BOT_TOKEN"},
		{"gateway without a listener", gateway(map[string]string{"APPPASS_SMTP_ADDR": ""}), []config.LoadOption{config.ForGateway()}, "APPPASS_SMTP_ADDR"},
		{"gateway still needs Entra", gateway(map[string]string{"AZURE_TENANT_ID": ""}), []config.LoadOption{config.ForGateway()}, "AZURE_TENANT_ID"},
		{"gateway still checks its certificate", gateway(map[string]string{"APPPASS_SMTP_TLS_KEY": ""}), []config.LoadOption{config.ForGateway()}, "APPPASS_SMTP_TLS_KEY"},
		{"serve still needs Slack", gateway(nil), nil, "SLACK_APP_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(env(tt.env), tt.opts...)
			if tt.wantIn == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if !c.SMTP.Enabled() {
					t.Error("the gateway is not enabled")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("err = %v, want one naming %s", err, tt.wantIn)
			}
		})
	}
}
