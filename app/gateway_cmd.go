package app

import (
	"context"
	"crypto/tls"
	"errors"
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
	if !cfg.SMTP.Enabled() && !cfg.Read.Enabled() {
		return nil, nil
	}
	upstream, err := newUpstream(cfg, graph, exchangeTLS, now, log)
	if err != nil {
		return nil, err
	}
	// Reading mail needs apppass's Exchange token (graphclient's
	// ExchangeToken).
	tokens, _ := any(graph).(gateway.ExchangeTokens)
	if cfg.Read.Enabled() && tokens == nil {
		return nil, errors.New("mail gateway: IMAP and POP3 need apppass's Exchange token, which this build's graphclient cannot get")
	}
	var reading gateway.ReadingAlerter
	if r, ok := alert.(gateway.ReadingAlerter); ok {
		reading = r
	}
	g, err := gateway.New(gateway.Options{
		Hostname:     cfg.SMTP.Hostname,
		CertFile:     cfg.SMTP.CertFile,
		KeyFile:      cfg.SMTP.KeyFile,
		MaxBytes:     cfg.SMTP.MaxBytes,
		Limits:       gateway.Limits{MaxConnections: cfg.SMTP.MaxConnections, MaxPerAddress: cfg.SMTP.MaxPerAddress},
		MaxMemory:    cfg.SMTP.Memory,
		ExchangeIMAP: cfg.Read.ExchangeIMAP, ExchangePOP: cfg.Read.ExchangePOP, ExchangeTLS: exchangeTLS, ServicePrincipal: cfg.ClientID,
		Now:    now,
		Logger: log,
	}, gateway.Deps{
		Mailboxes: graph, Applications: graph, Verifier: graph, Sender: graph, Upstream: upstream, Records: db, Failures: db, Alerter: alert,
		Scopes: db, ExchangeTokens: tokens, ReadingAlerter: reading, AlertClaims: db,
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

// gatewayListeners are the gateway's open listeners; any may be nil.
type gatewayListeners struct {
	starttls, implicit       net.Listener
	imap, imaps, pop3, pop3s net.Listener
}

// listenGateway opens the configured listeners, so that a port in use
// stops start-up before anything else runs.
func listenGateway(cfg config.SMTP, read config.Read) (gatewayListeners, error) {
	var l gatewayListeners
	var err error
	for _, r := range []struct {
		ln         *net.Listener
		name, addr string
	}{{&l.imap, "APPPASS_IMAP_ADDR", read.IMAPAddr}, {&l.imaps, "APPPASS_IMAPS_ADDR", read.IMAPSAddr},
		{&l.pop3, "APPPASS_POP3_ADDR", read.POP3Addr}, {&l.pop3s, "APPPASS_POP3S_ADDR", read.POP3SAddr}} {
		if r.addr == "" {
			continue
		}
		if *r.ln, err = net.Listen("tcp", r.addr); err != nil {
			l.close()
			return gatewayListeners{}, fmt.Errorf("mail gateway: listen on %s %s: %w", r.name, r.addr, err)
		}
	}
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
	for _, ln := range []net.Listener{l.starttls, l.implicit, l.imap, l.imaps, l.pop3, l.pop3s} {
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
	l, err := listenGateway(m.Config.SMTP, m.Config.Read)
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
	m.Log.Info("mail gateway listening", "starttls", addr(l.starttls), "implicit_tls", addr(l.implicit), "hostname", m.Config.SMTP.Hostname,
		"imap", addr(l.imap), "imaps", addr(l.imaps), "pop3", addr(l.pop3), "pop3s", addr(l.pop3s))
	return g, l, nil
}

// serveGateway runs g on l until ctx ends; it returns nil on a clean stop.
func serveGateway(ctx context.Context, g *gateway.Gateway, l gatewayListeners) error {
	var serves []func() error
	if l.starttls != nil || l.implicit != nil {
		serves = append(serves, func() error { return g.Serve(ctx, l.starttls, l.implicit) })
	}
	if l.imap != nil || l.imaps != nil {
		serves = append(serves, func() error { return g.ServeIMAP(ctx, l.imap, l.imaps) })
	}
	if l.pop3 != nil || l.pop3s != nil {
		serves = append(serves, func() error { return g.ServePOP3(ctx, l.pop3, l.pop3s) })
	}
	errc := make(chan error, len(serves))
	for _, serve := range serves {
		go func() { errc <- serve() }()
	}
	var first error
	for range serves {
		if err := <-errc; err != nil && first == nil {
			first = err
			g.Close()
		}
	}
	return first
}

// guessingAlerts is the gateway's Alerter: the helpdesk channel, through
// apppass's one Slack client.
type guessingAlerts struct{ slack *bot.Slack }

func (a guessingAlerts) AlertGuessing(ctx context.Context, g gateway.GuessingAlert) error {
	return a.slack.AlertGatewayGuessing(ctx, g.UserName, g.ClientAddr, g.Failures, g.Window)
}

// AlertReadingDisabled is the gateway's ReadingAlerter, on the same
// channel.
func (a guessingAlerts) AlertReadingDisabled(ctx context.Context, r gateway.ReadingAlert) error {
	return a.slack.AlertReadingDisabled(ctx, r.Mailbox, r.Protocol, r.Commands)
}
