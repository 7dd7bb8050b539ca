package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apppass/apppass/bot"
	"github.com/apppass/apppass/config"
	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/gateway"
	"github.com/apppass/apppass/graphclient"
	"github.com/apppass/apppass/handlers"
	"github.com/apppass/apppass/jobs"
	"github.com/apppass/apppass/logging"
	"github.com/apppass/apppass/metrics"
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
	// ExchangeTLS, when set, is the TLS configuration for Exchange
	// Online's SMTP (tests trust their fake with RootCAs); nil: the
	// system's roots.
	ExchangeTLS *tls.Config
	// SlackHTTPClient carries Slack Web API calls and response URL posts.
	SlackHTTPClient *http.Client
	Now             func() time.Time
	// Observer is told how each command, click and submission ended
	// (*metrics.Metrics satisfies it); nil: nobody.
	Observer bot.Observer
	// Ready, when set, is called once everything is built and the bot is
	// about to connect.
	Ready func(*App)
	// Metrics collects what /metrics serves; open builds it when nil.
	Metrics *metrics.Metrics
}

// App is a running apppass's parts, for tests.
type App struct {
	DB       *store.DB
	Graph    *graphclient.Client
	Handlers *handlers.Handlers
	Slack    *bot.Slack
	Bot      *bot.Bot
	Jobs     *jobs.Runner
	// HTTPAddr is where /healthz, /readyz and /metrics are served ("" when
	// APPPASS_HTTP_ADDR is off).
	HTTPAddr string
	// Gateway is the mail gateway, nil when none is configured; SMTPAddr
	// and SMTPSAddr are its listeners' addresses ("" when not listening).
	Gateway             *gateway.Gateway
	SMTPAddr, SMTPSAddr string
}

// NewMain reads the configuration (opts relax it for verbs that need
// less, such as config.ForGateway). Its error names the setting at fault.
func NewMain(getenv func(string) string, log *slog.Logger, opts ...config.LoadOption) (*Main, error) {
	cfg, err := config.Load(getenv, opts...)
	if err != nil {
		return nil, err
	}
	return &Main{Config: cfg, Log: log, Now: time.Now}, nil
}

// parts are apppass's pieces, built once per command. Arrows point down:
// bot and jobs use handlers; handlers, jobs and bot use the adapters only
// through the interfaces they declare.
type parts struct {
	db       *store.DB
	graph    *graphclient.Client
	handlers *handlers.Handlers
	slack    *bot.Slack
	jobs     *jobs.Runner
	log      *slog.Logger
}

// defaults fills in the Log, Now and Metrics a test or NewMain left nil,
// and makes every verb's logger add correlation ids and redact response
// URLs (wrapping again does nothing).
func (m *Main) defaults() {
	if m.Log == nil {
		m.Log = slog.Default()
	}
	m.Log = logging.Wrap(m.Log)
	if m.Now == nil {
		m.Now = time.Now
	}
	if m.Metrics == nil {
		m.Metrics = metrics.New()
	}
}

// open opens the database and builds every part but the socket-mode bot.
// The caller closes the database.
func (m *Main) open(ctx context.Context) (*parts, error) {
	cfg := m.Config
	m.defaults()
	db, err := store.Open(ctx, cfg.DBPath)
	if err != nil {
		return nil, err
	}
	db.Now = m.Now
	p := &parts{db: db, log: m.Log}
	instance := instanceName()
	p.graph, err = graphclient.New(m.graphOptions())
	if err != nil {
		db.Close()
		return nil, err
	}
	p.handlers = handlers.New(handlers.Deps{Directory: p.graph, Entra: p.graph, Store: db, Log: m.Log}, handlers.Config{
		Limits:     handlers.Limits{MaxPerUser: cfg.MaxPerUser, WarnAt: cfg.WarnAt},
		AdminGroup: cfg.AdminGroup, HelpdeskGroup: cfg.HelpdeskGroup, RequestTTL: cfg.RequestTTL,
		PasswordLifetime: cfg.PasswordLifetime, LagWindow: cfg.LagWindow, ReconcileAfter: cfg.ReconcileAfter,
		GiveUpAfter: cfg.GiveUpAfter, ResumeAfter: cfg.ResumeAfter(), Instance: instance, Now: m.Now,
	})
	p.slack = bot.NewSlack(m.botConfig(), m.Log)
	p.jobs, err = jobs.New(jobs.Deps{
		Entra: p.graph, Trust: p.handlers.Trust, Slack: p.slack, Store: db, Reconciler: p.handlers.Reconciler, Revocations: p.handlers.Revocations,
		Directory: p.graph, Offboarding: p.handlers.Revocations, Observer: m.Metrics, Now: m.Now, Log: m.Log,
	}, jobs.Config{
		Limits:         handlers.Limits{MaxPerUser: cfg.MaxPerUser, WarnAt: cfg.WarnAt},
		NotifyCooldown: cfg.NotifyCooldown, StaleAfter: cfg.StaleAfter, UnusedAfter: cfg.UnusedAfter,
		ExpiryWarning: cfg.ExpiryWarning, Location: cfg.Location(), Schedules: cfg.Schedules,
		BackgroundInterval: cfg.BackgroundInterval, ReportChannel: cfg.ReportChannel,
		Instance: instance, OffboardingAction: cfg.OffboardingAction, AuditRetention: cfg.AuditRetention,
		GatewayLastUse: cfg.SMTP.Enabled(),
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return p, nil
}

// instanceName names this process in job leases, runs and resume
// claims: host:pid and a random suffix, so that two apppass processes in
// one test binary differ too.
func instanceName() string {
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(os.Getpid()) + "-" + rand.Text()[:6]
}

func (m *Main) botConfig() bot.Config {
	cfg := m.Config
	return bot.Config{
		AppToken: cfg.SlackAppToken, BotToken: cfg.SlackBotToken, APIURL: cfg.SlackAPIURL,
		HelpdeskChannel: cfg.HelpdeskChannel, Team: cfg.SlackTeam, Workers: cfg.Workers, Observer: m.observer(),
		Gateway:        bot.Gateway{Hostname: cfg.SMTP.Hostname, SubmissionAddr: cfg.SMTP.Addr, TLSAddr: cfg.SMTP.TLSAddr},
		CommandTimeout: cfg.CommandTimeout, ShutdownGrace: cfg.ShutdownGrace,
		HTTPClient: m.slackHTTPClient(), Now: m.Now,
	}
}

// observer is told how each command ended: Observer when set, else the
// metrics.
func (m *Main) observer() bot.Observer {
	if m.Observer != nil {
		return m.Observer
	}
	return m.Metrics
}

// slackHTTPClient is the client for Slack calls, instrumented: a copy of
// SlackHTTPClient (or a 30 s client) whose transport records each call.
func (m *Main) slackHTTPClient() *http.Client {
	hc := &http.Client{Timeout: 30 * time.Second}
	if m.SlackHTTPClient != nil {
		c := *m.SlackHTTPClient
		hc = &c
	}
	hc.Transport = m.Metrics.Transport(hc.Transport, "slack", metrics.SlackOperation)
	return hc
}

// Run opens the database, connects to Slack, schedules the jobs, runs the
// mail gateway when one is configured and serves until ctx ends; then
// in-flight commands finish (bounded by the shutdown grace), running jobs
// stop, the gateway and the socket close and the database closes. A
// gateway that fails stops the whole process, with its error.
func (m *Main) Run(ctx context.Context) (err error) {
	cfg := m.Config
	p, err := m.open(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := p.db.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close database: %w", cerr))
		}
	}()
	log := p.log
	log.Info("apppass starting", "version", version, "slack_api", cfg.SlackAPIURL, "graph", cfg.GraphBaseURL,
		"authority", cfg.AuthorityHost, "tenant", cfg.TenantID, "db", cfg.DBPath, "max_per_user", cfg.MaxPerUser)

	bcfg := m.botConfig()
	bcfg.Writes = p.db // the write limit holds across replicas
	b := bot.New(bcfg, p.slack, p.handlers, log)
	health, httpLn, err := m.observe(p, b)
	if err != nil {
		return err
	}
	gw, listeners, err := m.startGateway(p.graph, p.db, guessingAlerts{p.slack})
	if err != nil {
		if httpLn != nil {
			httpLn.Close()
		}
		return err
	}
	app := &App{DB: p.db, Graph: p.graph, Handlers: p.handlers, Slack: p.slack, Bot: b, Jobs: p.jobs,
		Gateway: gw, SMTPAddr: addr(listeners.starttls), SMTPSAddr: addr(listeners.implicit)}
	if httpLn != nil {
		app.HTTPAddr = httpLn.Addr().String()
	}
	if m.Ready != nil {
		m.Ready(app)
	}

	ctx, stopAll := context.WithCancel(ctx)
	defer stopAll()
	gwDone := make(chan error, 1)
	if gw == nil {
		gwDone <- nil
	} else {
		go func() {
			gerr := serveGateway(ctx, gw, listeners)
			if gerr != nil {
				log.Error("mail gateway stopped; stopping apppass", "err", gerr)
				stopAll()
			}
			gwDone <- gerr
		}()
	}

	bg, stopBG := context.WithCancel(ctx)
	httpDone := make(chan struct{})
	go func() {
		defer close(httpDone)
		if httpLn == nil {
			return
		}
		if err := health.ServeListener(bg, httpLn); err != nil {
			log.Error("health and metrics endpoint stopped", "err", err)
		}
	}()
	jobsDone := make(chan struct{})
	go func() {
		defer close(jobsDone)
		if err := p.jobs.Start(bg); err != nil && bg.Err() == nil {
			log.Error("job runner stopped", "err", err)
		}
	}()
	err = b.Run(ctx)
	stopBG()
	stopAll()
	<-jobsDone
	<-httpDone
	err = errors.Join(err, <-gwDone)
	log.Info("apppass stopped")
	return err
}

// RunJob runs one job once, now, and reports it on out. It returns an
// error when the job is unknown, busy elsewhere, or failed.
func (m *Main) RunJob(ctx context.Context, name string, out io.Writer) error {
	return m.withJobs(ctx, func(runner *jobs.Runner) error {
		res, err := runner.RunOnce(ctx, name)
		fmt.Fprintf(out, "%s: %s in %s %s\n", name, res.Outcome, res.End.Sub(res.Start).Round(time.Millisecond), formatCounts(res.Counts))
		if err != nil {
			return fmt.Errorf("job %s: %w", name, err)
		}
		return nil
	})
}

// ListJobs prints every job, its schedule, next run and last run.
func (m *Main) ListJobs(ctx context.Context, out io.Writer) error {
	return m.withJobs(ctx, func(runner *jobs.Runner) error {
		statuses, err := runner.List(ctx)
		if err != nil {
			return err
		}
		return printStatuses(out, statuses)
	})
}

// withJobs opens apppass's parts, builds the job runner, calls f with it
// and closes the database.
func (m *Main) withJobs(ctx context.Context, f func(*jobs.Runner) error) (err error) {
	p, err := m.open(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, p.db.Close()) }()
	return f(p.jobs)
}

func printStatuses(out io.Writer, statuses []jobs.Status) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tSCHEDULE\tNEXT RUN\tLAST RUN\tOUTCOME\tCOUNTS")
	for _, s := range statuses {
		next := "-"
		if !s.Next.IsZero() {
			next = s.Next.Format(time.RFC3339)
		}
		if s.Disabled != "" {
			next = "disabled: " + s.Disabled
		}
		last, outcome, counts := "never", "-", ""
		if s.Last != nil {
			last = s.Last.Start.Format(time.RFC3339)
			if !s.Last.End.IsZero() {
				last += " (" + s.Last.End.Sub(s.Last.Start).Round(time.Millisecond).String() + ")"
			}
			outcome = s.Last.Outcome
			if s.Last.Error != "" {
				outcome += ": " + s.Last.Error
			}
			counts = formatCounts(s.Last.Counts)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Schedule, next, last, outcome, counts)
	}
	return tw.Flush()
}

func formatCounts(c domain.Counts) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%d", k, c[k])
	}
	return b.String()
}
