package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/apppass/apppass/config"
	"github.com/apppass/apppass/gateway"
	"github.com/apppass/apppass/graphclient"
	"github.com/apppass/apppass/store"
)

// newGateway builds the mail gateway from cfg.SMTP, delivering and
// verifying through graph and recording in db. alert tells the helpdesk
// channel about guessing (nil: only logged). It returns nil, nil when no
// gateway listener is configured.
//
// The coordinator wires it into `apppass serve` (run serveGateway next to
// the socket-mode loop when cfg.SMTP.Enabled()) and a new `apppass
// gateway` verb (open the store and graphclient as Main.open does, no
// Slack, then serveGateway until the signal context ends).
func newGateway(cfg config.Config, graph *graphclient.Client, db *store.DB, alert gateway.Alerter, log *slog.Logger) (*gateway.Gateway, error) {
	if !cfg.SMTP.Enabled() {
		return nil, nil
	}
	g, err := gateway.New(gateway.Options{
		Hostname: cfg.SMTP.Hostname,
		CertFile: cfg.SMTP.CertFile,
		KeyFile:  cfg.SMTP.KeyFile,
		MaxBytes: cfg.SMTP.MaxBytes,
		Logger:   log,
	}, gateway.Deps{
		Mailboxes: graph, Applications: graph, Verifier: graph, Sender: graph, Records: db, Alerter: alert,
	})
	if err != nil {
		return nil, fmt.Errorf("mail gateway: %w", err)
	}
	return g, nil
}

// serveGateway runs g on the configured listeners until ctx ends.
func serveGateway(ctx context.Context, cfg config.Config, g *gateway.Gateway) error {
	return g.ListenAndServe(ctx, cfg.SMTP.Addr, cfg.SMTP.TLSAddr)
}
