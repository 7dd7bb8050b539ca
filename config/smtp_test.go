package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apppass/apppass/config"
)

func TestSMTPSettings(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for _, f := range []string{cert, key} {
		if err := os.WriteFile(f, []byte("pem"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	gateway := map[string]string{"APPPASS_SMTP_ADDR": ":587", "APPPASS_SMTP_TLS_CERT": cert, "APPPASS_SMTP_TLS_KEY": key, "APPPASS_SMTP_HOSTNAME": "smtp.contoso.test"}
	tests := []struct {
		name   string
		set    map[string]string
		wantIn string // "" means valid
	}{
		{"no gateway needs nothing", nil, ""},
		{"complete gateway", gateway, ""},
		{"implicit TLS only", map[string]string{"APPPASS_SMTP_ADDR": "", "APPPASS_SMTPS_ADDR": ":465"}, ""},
		{"missing cert", map[string]string{"APPPASS_SMTP_TLS_CERT": ""}, "APPPASS_SMTP_TLS_CERT"},
		{"missing key", map[string]string{"APPPASS_SMTP_TLS_KEY": ""}, "APPPASS_SMTP_TLS_KEY"},
		{"missing hostname", map[string]string{"APPPASS_SMTP_HOSTNAME": ""}, "APPPASS_SMTP_HOSTNAME"},
		{"implicit TLS without hostname", map[string]string{"APPPASS_SMTP_ADDR": "", "APPPASS_SMTPS_ADDR": ":465", "APPPASS_SMTP_HOSTNAME": ""}, "APPPASS_SMTP_HOSTNAME"},
		{"cert file absent", map[string]string{"APPPASS_SMTP_TLS_CERT": filepath.Join(dir, "nope.pem")}, "APPPASS_SMTP_TLS_CERT"},
		{"bad address", map[string]string{"APPPASS_SMTP_ADDR": "587"}, "APPPASS_SMTP_ADDR"},
		{"same address twice", map[string]string{"APPPASS_SMTPS_ADDR": ":587"}, "APPPASS_SMTPS_ADDR"},
		{"max bytes not a number", map[string]string{"APPPASS_SMTP_MAX_BYTES": "25MB"}, "APPPASS_SMTP_MAX_BYTES"},
		{"max bytes too small", map[string]string{"APPPASS_SMTP_MAX_BYTES": "1000"}, "APPPASS_SMTP_MAX_BYTES"},
		{"max bytes too large", map[string]string{"APPPASS_SMTP_MAX_BYTES": "200000000"}, "APPPASS_SMTP_MAX_BYTES"},
		{"connections not a number", map[string]string{"APPPASS_GATEWAY_MAX_CONNECTIONS": "many"}, "APPPASS_GATEWAY_MAX_CONNECTIONS"},
		{"no connections", map[string]string{"APPPASS_GATEWAY_MAX_CONNECTIONS": "0"}, "APPPASS_GATEWAY_MAX_CONNECTIONS"},
		{"per address past all", map[string]string{"APPPASS_GATEWAY_MAX_CONNECTIONS": "10", "APPPASS_GATEWAY_MAX_PER_ADDRESS": "11"}, "APPPASS_GATEWAY_MAX_PER_ADDRESS"},
		{"memory not a number", map[string]string{"APPPASS_GATEWAY_MEMORY": "512MiB"}, "APPPASS_GATEWAY_MEMORY"},
		{"memory below one message", map[string]string{"APPPASS_GATEWAY_MEMORY": "1048576"}, "APPPASS_GATEWAY_MEMORY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := valid()
			if tt.set != nil {
				for k, v := range gateway {
					m[k] = v
				}
			}
			for k, v := range tt.set {
				m[k] = v
			}
			c, err := config.Load(env(m))
			if tt.wantIn == "" {
				if err != nil {
					t.Fatalf("Load = %v, want ok", err)
				}
				if c.SMTP.MaxBytes != config.DefaultSMTPMaxBytes {
					t.Errorf("MaxBytes = %d, want the default %d", c.SMTP.MaxBytes, config.DefaultSMTPMaxBytes)
				}
				if c.SMTP.MaxConnections != 1000 || c.SMTP.MaxPerAddress != 20 || c.SMTP.Memory != 512<<20 {
					t.Errorf("limits = %d, %d, %d; want the defaults 1000, 20, 512 MiB", c.SMTP.MaxConnections, c.SMTP.MaxPerAddress, c.SMTP.Memory)
				}
				if got, want := c.SMTP.Enabled(), tt.set != nil; got != want {
					t.Errorf("Enabled = %v, want %v", got, want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantIn) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Load = %v, want one line naming %s", err, tt.wantIn)
			}
		})
	}
}
