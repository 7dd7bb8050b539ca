package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/apppass/apppass/bot"
	"github.com/apppass/apppass/config"
	"github.com/apppass/apppass/gateway"
	"github.com/apppass/apppass/graphclient"
	"github.com/apppass/apppass/metrics"
	"github.com/apppass/apppass/store"
)

// graphOptions is how every verb reaches Entra and Graph.
func (m *Main) graphOptions() graphclient.Options {
	cfg := m.Config
	return graphclient.Options{
		TenantID: cfg.TenantID, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		AuthorityHost: cfg.AuthorityHost, GraphBaseURL: cfg.GraphBaseURL, AppNamePrefix: cfg.AppNamePrefix,
		ServicePrincipalID: cfg.ServicePrincipalID, ExchangeResource: cfg.Upstream.ExchangeResource,
		Transport: m.Metrics.Transport(m.GraphTransport, "graph", metrics.GraphOperation), Now: m.Now, Logger: m.Log,
	}
}

// newGateway builds the mail gateway from cfg.SMTP, delivering and
// verifying through graph and recording in db. alert tells the helpdesk
// channel about guessing (nil: only logged). It returns nil, nil when no
// gateway listener is configured.
func newGateway(cfg config.Config, graph *graphclient.Client, db *store.DB, alert gateway.Alerter, exchangeTLS *tls.Config, now func() time.Time, log *slog.Logger) (*gateway.Gateway, error) {
	if !cfg.SMTP.Enabled() {
		return nil, nil
	}
	upstream, err := newUpstream(cfg, graph, exchangeTLS, now, log)
	if err != nil {
		return nil, err
	}
	g, err := gateway.New(gateway.Options{
		Hostname:  cfg.SMTP.Hostname,
		CertFile:  cfg.SMTP.CertFile,
		KeyFile:   cfg.SMTP.KeyFile,
		MaxBytes:  cfg.SMTP.MaxBytes,
		Limits:    gateway.Limits{MaxConnections: cfg.SMTP.MaxConnections, MaxPerAddress: cfg.SMTP.MaxPerAddress},
		MaxMemory: cfg.SMTP.Memory,
		Now:       now,
		Logger:    log,
	}, gateway.Deps{
		Mailboxes: graph, Applications: graph, Verifier: graph, Sender: graph, Upstream: upstream, Records: db, Failures: db, Alerter: alert,
	})
	if err != nil {
		return nil, fmt.Errorf("mail gateway: %w", err)
	}
	return g, nil
}

// newUpstream is the delivery APPPASS_MAIL_UPSTREAM names: Exchange
// Online's SMTP with apppass's token, or nil for the gateway's default,
// Graph. exchangeTLS (tests: a pool trusting the fake) may be nil.
func newUpstream(cfg config.Config, graph *graphclient.Client, exchangeTLS *tls.Config, now func() time.Time, log *slog.Logger) (gateway.Upstream, error) {
	if cfg.Upstream.Mail != config.UpstreamSMTP {
		return nil, nil
	}
	u, err := gateway.NewSMTPUpstream(gateway.SMTPUpstreamOptions{
		Addr: cfg.Upstream.ExchangeSMTP, TLS: exchangeTLS, Tokens: graph, Hostname: cfg.SMTP.Hostname, Now: now, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("mail gateway: %w", err)
	}
	return u, nil
}

// gatewayListeners are the gateway's open listeners; either may be nil.
type gatewayListeners struct {
	starttls, implicit net.Listener
}

// listenGateway opens the configured listeners, so that a port in use
// stops start-up before anything else runs.
func listenGateway(cfg config.SMTP) (gatewayListeners, error) {
	var l gatewayListeners
	var err error
	if cfg.Addr != "" {
		if l.starttls, err = net.Listen("tcp", cfg.Addr); err != nil {
			return l, fmt.Errorf("mail gateway: listen on APPPASS_SMTP_ADDR %s: %w", cfg.Addr, err)
		}
	}
	if cfg.TLSAddr != "" {
		if l.implicit, err = net.Listen("tcp", cfg.TLSAddr); err != nil {
			l.close()
			return gatewayListeners{}, fmt.Errorf("mail gateway: listen on APPPASS_SMTPS_ADDR %s: %w", cfg.TLSAddr, err)
		}
	}
	return l, nil
}

func (l gatewayListeners) close() {
	for _, ln := range []net.Listener{l.starttls, l.implicit} {
		if ln != nil {
			ln.Close()
		}
	}
}

// addr returns a listener's address, or "".
func addr(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	return ln.Addr().String()
}

// startGateway builds the gateway and opens its listeners; it returns a
// nil gateway when none is configured. The caller serves it (serveGateway).
func (m *Main) startGateway(graph *graphclient.Client, db *store.DB, alert gateway.Alerter) (*gateway.Gateway, gatewayListeners, error) {
	g, err := newGateway(m.Config, graph, db, alert, m.ExchangeTLS, m.Now, m.Log)
	if err != nil || g == nil {
		return nil, gatewayListeners{}, err
	}
	l, err := listenGateway(m.Config.SMTP)
	if err != nil {
		g.Close()
		return nil, gatewayListeners{}, err
	}
	m.Metrics.Gateway(func() metrics.GatewayCounts {
		st := g.Stats()
		return metrics.GatewayCounts{
			Logins:   map[string]int64{"ok": st.LoginsOK, "refused": st.LoginsRefused, "limited": st.LoginsLimited, "temporary": st.LoginsTemporary},
			Messages: map[string]int64{"sent": st.Messages, "temporary": st.DeliveryTemporary, "failed": st.DeliveryFailed},
			Bytes:    st.MessageBytes,
		}
	})
	m.Log.Info("mail gateway listening", "starttls", addr(l.starttls), "implicit_tls", addr(l.implicit), "hostname", m.Config.SMTP.Hostname)
	return g, l, nil
}

// guessingAlerts is the gateway's Alerter: the helpdesk channel, through
// apppass's one Slack client.
type guessingAlerts struct{ slack *bot.Slack }

func (a guessingAlerts) AlertGuessing(ctx context.Context, g gateway.GuessingAlert) error {
	return a.slack.AlertGatewayGuessing(ctx, g.UserName, g.ClientAddr, g.Failures, g.Window)
}
