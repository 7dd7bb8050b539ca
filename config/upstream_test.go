package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apppass/apppass/config"
)

func TestUpstream(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for _, f := range []string{cert, key} {
		if err := os.WriteFile(f, []byte("pem"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := map[string]string{"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "APPPASS_SMTP_ADDR": ":587",
		"APPPASS_SMTP_TLS_CERT": cert, "APPPASS_SMTP_TLS_KEY": key, "APPPASS_SMTP_HOSTNAME": "smtp.contoso.test"}
	load := func(extra map[string]string) (config.Config, error) {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		return config.Load(func(k string) string { return env[k] }, config.ForGateway())
	}
	c, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Upstream, config.DefaultUpstream(); got != want || got.Mail != "graph" {
		t.Errorf("defaults %+v, want %+v", got, want)
	}
	c, err = load(map[string]string{"APPPASS_MAIL_UPSTREAM": "SMTP", "APPPASS_EXCHANGE_SMTP": "127.0.0.1:2587", "APPPASS_EXCHANGE_RESOURCE": "https://outlook.office365.us"})
	if err != nil || c.Upstream.Mail != "smtp" || c.Upstream.ExchangeSMTP != "127.0.0.1:2587" || c.Upstream.ExchangeResource != "https://outlook.office365.us" {
		t.Errorf("Load = %+v, %v", c.Upstream, err)
	}
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"unknown upstream": {map[string]string{"APPPASS_MAIL_UPSTREAM": "sendgrid"}, "APPPASS_MAIL_UPSTREAM"},
		"no port":          {map[string]string{"APPPASS_EXCHANGE_SMTP": "smtp.office365.com"}, "APPPASS_EXCHANGE_SMTP"},
		"resource scope":   {map[string]string{"APPPASS_EXCHANGE_RESOURCE": "https://outlook.office365.com/.default"}, "APPPASS_EXCHANGE_RESOURCE"},
		"plain http":       {map[string]string{"APPPASS_EXCHANGE_RESOURCE": "http://outlook.office365.com"}, "APPPASS_EXCHANGE_RESOURCE"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := load(tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}
