package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/apppass/apppass/bot"
	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/metrics"
)

// observe builds the health and metrics endpoint for a running apppass and
// opens its listener, so a port already in use stops start-up with a
// clear error. The listener is nil when APPPASS_HTTP_ADDR is off.
func (m *Main) observe(p *parts, b *bot.Bot) (*metrics.Server, net.Listener, error) {
	s := metrics.NewServer(m.Metrics, p.log)
	s.AddCheck("database", p.db.Ping)
	s.AddCheck("slack", b.CheckConnected)
	s.AddCheck("graph", func(ctx context.Context) error {
		_, _, err := p.graph.TokenRoles(ctx)
		return err
	})
	m.Metrics.GaugeFunc("apppass_revocations_pending", "Revocation requests waiting for a helpdesk decision.", func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		rs, err := p.db.Revocations(ctx, domain.RevocationPending)
		if err != nil {
			return -1
		}
		return float64(len(rs))
	})
	m.Metrics.GaugeFunc("apppass_commands_in_progress", "Commands and clicks being worked on now (at most APPPASS_WORKERS).",
		func() float64 { return float64(b.Working()) })
	if m.Config.HTTPAddr == "" {
		return s, nil, nil
	}
	ln, err := net.Listen("tcp", m.Config.HTTPAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("APPPASS_HTTP_ADDR %s: %w", m.Config.HTTPAddr, err)
	}
	return s, ln, nil
}
