package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/apppass/apppass/bot"
	"github.com/apppass/apppass/config"
	"github.com/apppass/apppass/graphclient"
	"github.com/apppass/apppass/handlers"
	"github.com/apppass/apppass/store"
)

// Main wires apppass together. Tests build one, adjust its fields (a
// transport that trusts the fake Entra's certificate, a clock) and call
// Run, as the binary does.
type Main struct {
	Config config.Config
	Log    *slog.Logger
	// GraphTransport carries Entra and Graph requests; nil means the
	// default transport.
	GraphTransport http.RoundTripper
	// SlackHTTPClient carries Slack Web API calls and response URL posts.
	SlackHTTPClient *http.Client
	// SettleInterval is how often credentials left by failures are
	// reconciled.
	SettleInterval time.Duration
	Now            func() time.Time
	// Ready, when set, is called once everything is built and the bot is
	// about to connect.
	Ready func(*App)
}

// App is a running apppass's parts, for tests.
type App struct {
	DB      *store.DB
	Graph   *graphclient.Client
	Service *handlers.Service
	Bot     *bot.Bot
}

// NewMain reads the configuration. Its error names the setting at fault.
func NewMain(getenv func(string) string, log *slog.Logger) (*Main, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, err
	}
	return &Main{Config: cfg, Log: log, SettleInterval: time.Minute, Now: time.Now}, nil
}

// Run opens the database, connects to Slack and serves until ctx ends;
// then in-flight commands finish (bounded by the shutdown grace), the
// socket closes and the database closes.
func (m *Main) Run(ctx context.Context) (err error) {
	cfg := m.Config
	log := m.Log
	if log == nil {
		log = slog.Default()
	}
	if m.Now == nil {
		m.Now = time.Now
	}
	log.Info("apppass starting", "version", version, "slack_api", cfg.SlackAPIURL, "graph", cfg.GraphBaseURL,
		"authority", cfg.AuthorityHost, "tenant", cfg.TenantID, "db", cfg.DBPath, "max_per_user", cfg.MaxPerUser)

	db, err := store.Open(ctx, cfg.DBPath)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close database: %w", cerr))
		}
	}()
	db.Now = m.Now

	graph, err := graphclient.New(graphclient.Options{
		TenantID: cfg.TenantID, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		AuthorityHost: cfg.AuthorityHost, GraphBaseURL: cfg.GraphBaseURL, AppNamePrefix: cfg.AppNamePrefix,
		Transport: m.GraphTransport, Now: m.Now, Logger: log,
	})
	if err != nil {
		return err
	}
	var alerts alertProxy
	svc := handlers.New(graph, graph, db, &alerts, handlers.Config{
		MaxPerUser: cfg.MaxPerUser, PasswordLifetime: cfg.PasswordLifetime, Now: m.Now,
		AdminGroup: cfg.AdminGroup, HelpdeskGroup: cfg.HelpdeskGroup, RequestTTL: cfg.RequestTTL,
	}, log)
	b := bot.New(bot.Config{
		AppToken: cfg.SlackAppToken, BotToken: cfg.SlackBotToken, APIURL: cfg.SlackAPIURL,
		HelpdeskChannel: cfg.HelpdeskChannel, CommandTimeout: cfg.CommandTimeout, ShutdownGrace: cfg.ShutdownGrace,
		HTTPClient: m.SlackHTTPClient,
	}, svc, log)
	alerts.set(b)
	if m.Ready != nil {
		m.Ready(&App{DB: db, Graph: graph, Service: svc, Bot: b})
	}

	var wg sync.WaitGroup
	settleCtx, stopSettle := context.WithCancel(ctx)
	wg.Add(2)
	go func() { defer wg.Done(); svc.RunSettler(settleCtx, m.SettleInterval) }()
	go func() { defer wg.Done(); b.RunRevocationUpkeep(settleCtx, m.SettleInterval) }()
	err = b.Run(ctx)
	stopSettle()
	wg.Wait()
	log.Info("apppass stopped")
	return err
}

// alertProxy lets the service alert through the bot, which is built after
// it.
type alertProxy struct {
	mu  sync.Mutex
	bot *bot.Bot
}

func (a *alertProxy) set(b *bot.Bot) { a.mu.Lock(); a.bot = b; a.mu.Unlock() }

func (a *alertProxy) AlertHelpdesk(ctx context.Context, text string) error {
	a.mu.Lock()
	b := a.bot
	a.mu.Unlock()
	if b == nil {
		return errors.New("bot not started")
	}
	return b.AlertHelpdesk(ctx, text)
}
