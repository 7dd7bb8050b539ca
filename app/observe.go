package app

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/apppass/apppass/bot"
	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/graphclient"
	"github.com/apppass/apppass/metrics"
	"github.com/apppass/apppass/store"
)

// observeBot adds the bot's readiness check and gauges to the health
// and metrics endpoint.
func (m *Main) observeBot(s *metrics.Server, p *parts, b *bot.Bot) {
	s.AddCheck("slack", b.CheckConnected)
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
}

// healthServer is the health and metrics endpoint with the readiness
// checks every running apppass has, `apppass gateway` too: the database
// and Entra.
func (m *Main) healthServer(db *store.DB, graph *graphclient.Client) *metrics.Server {
	s := metrics.NewServer(m.Metrics, m.Log)
	s.AddCheck("database", db.Ping)
	s.AddCheck("graph", func(ctx context.Context) error {
		_, _, err := graph.TokenRoles(ctx)
		return err
	})
	return s
}

// listenHTTP opens APPPASS_HTTP_ADDR for the health and metrics endpoint;
// the listener is nil when it is off. Its error names the setting.
func (m *Main) listenHTTP() (net.Listener, error) {
	if m.Config.HTTPAddr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", m.Config.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("APPPASS_HTTP_ADDR %s: %w", m.Config.HTTPAddr, err)
	}
	return ln, nil
}
