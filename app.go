package main

import (
	"context"
	"crypto/rand"
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
	"github.com/apppass/apppass/graphclient"
	"github.com/apppass/apppass/handlers"
	"github.com/apppass/apppass/jobs"
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
	Now             func() time.Time
	// Ready, when set, is called once everything is built and the bot is
	// about to connect.
	Ready func(*App)
}

// App is a running apppass's parts, for tests.
type App struct {
	DB       *store.DB
	Graph    *graphclient.Client
	Handlers *handlers.Handlers
	Slack    *bot.Slack
	Bot      *bot.Bot
	Jobs     *jobs.Runner
}

// NewMain reads the configuration. Its error names the setting at fault.
func NewMain(getenv func(string) string, log *slog.Logger) (*Main, error) {
	cfg, err := config.Load(getenv)
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

// open opens the database and builds every part but the socket-mode bot.
// The caller closes the database.
func (m *Main) open(ctx context.Context) (*parts, error) {
	cfg := m.Config
	if m.Log == nil {
		m.Log = slog.Default()
	}
	if m.Now == nil {
		m.Now = time.Now
	}
	db, err := store.Open(ctx, cfg.DBPath)
	if err != nil {
		return nil, err
	}
	db.Now = m.Now
	p := &parts{db: db, log: m.Log}
	instance := instanceName()
	p.graph, err = graphclient.New(graphclient.Options{
		TenantID: cfg.TenantID, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		AuthorityHost: cfg.AuthorityHost, GraphBaseURL: cfg.GraphBaseURL, AppNamePrefix: cfg.AppNamePrefix,
		ServicePrincipalID: cfg.ServicePrincipalID,
		Transport:          m.GraphTransport, Now: m.Now, Logger: m.Log,
	})
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
		Directory: p.graph, Offboarding: p.handlers.Revocations, Now: m.Now, Log: m.Log,
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
		HelpdeskChannel: cfg.HelpdeskChannel, CommandTimeout: cfg.CommandTimeout, ShutdownGrace: cfg.ShutdownGrace,
		HTTPClient: m.SlackHTTPClient, Now: m.Now,
	}
}

// Run opens the database, connects to Slack, schedules the jobs and
// serves until ctx ends; then in-flight commands finish (bounded by the
// shutdown grace), running jobs stop, the socket closes and the database
// closes.
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

	b := bot.New(m.botConfig(), p.slack, p.handlers, log)
	if m.Ready != nil {
		m.Ready(&App{DB: p.db, Graph: p.graph, Handlers: p.handlers, Slack: p.slack, Bot: b, Jobs: p.jobs})
	}

	bg, stopBG := context.WithCancel(ctx)
	jobsDone := make(chan struct{})
	go func() {
		defer close(jobsDone)
		if err := p.jobs.Start(bg); err != nil && bg.Err() == nil {
			log.Error("job runner stopped", "err", err)
		}
	}()
	err = b.Run(ctx)
	stopBG()
	<-jobsDone
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
