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
	"github.com/apppass/apppass/graphclient"
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
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	results := check.Run(ctx, check.Settings{
		SlackTeam: cfg.SlackTeam, HelpdeskChannel: cfg.HelpdeskChannel, ReportChannel: cfg.ReportChannel,
		AdminGroup: cfg.AdminGroup, HelpdeskGroup: cfg.HelpdeskGroup,
		ReadIMAP: cfg.Read.IMAPEnabled(), ReadPOP: cfg.Read.POP3Enabled(),
		Gateway: cfg.SMTP.Enabled() || cfg.Read.Enabled(), TLSCertFile: cfg.SMTP.CertFile, TLSKeyFile: cfg.SMTP.KeyFile, SMTPHostname: cfg.SMTP.Hostname,
		MailUpstream: cfg.Upstream.Mail, ExchangeResource: cfg.Upstream.ExchangeResource,
		PasswordLifetime: cfg.PasswordLifetime, Now: m.Now,
	}, slack, graph)
	if !check.Print(out, results) {
		return errors.New("some checks failed")
	}
	return nil
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
