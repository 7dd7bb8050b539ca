package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/apppass/apppass/bot"
	"github.com/apppass/apppass/check"
	"github.com/apppass/apppass/config"
	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/graphclient"
	"github.com/apppass/apppass/logging"
)

// Check is `apppass check`: it tries every setting against Slack and
// Entra, prints one line per check on out, and returns an error when a
// required check failed. It opens no database and changes nothing.
func (m *Main) Check(ctx context.Context, out io.Writer) error {
	cfg := m.Config
	graph, err := graphclient.New(m.graphOptions())
	if err != nil {
		return err
	}
	slack := bot.NewSlackProbe(cfg.SlackAPIURL, cfg.SlackBotToken, cfg.SlackAppToken, m.SlackHTTPClient)
	results := check.Run(ctx, check.Settings{
		SlackTeam: cfg.SlackTeam, HelpdeskChannel: cfg.HelpdeskChannel, ReportChannel: cfg.ReportChannel,
		AdminGroup: cfg.AdminGroup, HelpdeskGroup: cfg.HelpdeskGroup,
		ReadIMAP: cfg.Read.IMAPEnabled(), ReadPOP: cfg.Read.POP3Enabled(),
		Gateway: cfg.SMTP.Enabled() || cfg.Read.Enabled(), TLSCertFile: cfg.SMTP.CertFile, TLSKeyFile: cfg.SMTP.KeyFile, SMTPHostname: cfg.SMTP.Hostname,
		MailUpstream: cfg.Upstream.Mail, ExchangeResource: cfg.Upstream.ExchangeResource,
		ClientSecretSet: !cfg.ClientSecret.IsZero(), AuthorityHost: cfg.AuthorityHost, ProbeTimeout: m.CheckProbeTimeout,
		PasswordLifetime: cfg.PasswordLifetime, Now: m.Now,
	}, slack, graph)
	if !check.Print(out, results) {
		return errors.New("some checks failed")
	}
	return nil
}

// runCheck is `apppass check`: every missing or malformed setting first,
// one line each, and the services only once there are none, so that one
// run tells an operator all that is missing.
func runCheck(ctx context.Context, env commandEnv) error {
	problems := config.Problems(env.getenv)
	if strings.TrimSpace(env.getenv("AZURE_CLIENT_SECRET")) == "" {
		// Not a problem on its own (a managed or workload identity may do),
		// but the first thing to know when the token check fails.
		fmt.Fprintln(env.stdout, "· AZURE_CLIENT_SECRET is not set: apppass will use a certificate, workload identity or this host's managed identity")
	}
	for _, p := range problems {
		fmt.Fprintln(env.stdout, "✗ "+p.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s missing or malformed; the services were not tried", domain.Count(len(problems), "setting", "settings"))
	}
	m, err := NewMain(env.getenv, logging.New(env.stderr, "warn"))
	if err != nil {
		return err
	}
	return m.Check(ctx, env.stdout)
}

// runHealth is `apppass health`: it asks a running apppass's /readyz (on
// APPPASS_HTTP_ADDR, or the URL given) and fails unless it answers 200.
// Container health checks use it, since the image has no shell or curl.
func runHealth(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	url := ""
	switch {
	case len(args) > 1:
		return UsageError{"usage: apppass health [URL]"}
	case len(args) == 1:
		url = args[0]
	default:
		addr := getenv("APPPASS_HTTP_ADDR")
		if addr == "" {
			addr = "127.0.0.1:9090"
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("APPPASS_HTTP_ADDR %q: %w", addr, err)
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		url = "http://" + net.JoinHostPort(host, port) + "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintln(out, strings.TrimSpace(string(body)))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %s", url, resp.Status)
	}
	return nil
}
