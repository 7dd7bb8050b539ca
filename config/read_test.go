package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apppass/apppass/config"
)

func TestReadSettings(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for _, f := range []string{cert, key} {
		if err := os.WriteFile(f, []byte("pem"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tls := map[string]string{"APPPASS_SMTP_TLS_CERT": cert, "APPPASS_SMTP_TLS_KEY": key, "APPPASS_SMTP_HOSTNAME": "mail.contoso.test"}
	tests := []struct {
		name   string
		set    map[string]string
		withTL bool
		wantIn string // "" means valid
	}{
		{"none", nil, false, ""},
		{"imap and pop3", map[string]string{"APPPASS_IMAPS_ADDR": ":993", "APPPASS_POP3_ADDR": ":110"}, true, ""},
		{"imap without a certificate", map[string]string{"APPPASS_IMAP_ADDR": ":143"}, false, "APPPASS_SMTP_TLS_CERT"},
		{"bad address", map[string]string{"APPPASS_POP3S_ADDR": "995"}, true, "APPPASS_POP3S_ADDR"},
		{"address shared with SMTP", map[string]string{"APPPASS_SMTP_ADDR": ":587", "APPPASS_IMAP_ADDR": ":587"}, true, "APPPASS_IMAP_ADDR"},
		{"exchange without port", map[string]string{"APPPASS_EXCHANGE_IMAP": "outlook.office365.com"}, false, "APPPASS_EXCHANGE_IMAP"},
		{"national cloud", map[string]string{"APPPASS_IMAPS_ADDR": ":993", "APPPASS_EXCHANGE_IMAP": "outlook.office365.us:993"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := valid()
			if tt.withTL {
				for k, v := range tls {
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
				if c.Read.ExchangePOP != config.DefaultExchangePOP {
					t.Errorf("ExchangePOP = %q, want the default", c.Read.ExchangePOP)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("Load = %v, want an error naming %s", err, tt.wantIn)
			}
		})
	}
}
