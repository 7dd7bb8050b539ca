package app

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
	"sync"
	"text/tabwriter"
	"time"

	"github.com/apppass/apppass/bot"
	"github.com/apppass/apppass/config"
	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/gateway"
	"github.com/apppass/apppass/graphclient"
	"github.com/apppass/apppass/handlers"
	"github.com/apppass/apppass/internal/wiring"
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

// open opens the database and Entra's client and, withBot, builds the
// handlers, the Slack client and the job runner (not yet the socket-mode
// bot). The caller closes the database.
func (m *Main) open(ctx context.Context, withBot bool) (*parts, error) {
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
	if !withBot {
		return p, nil
	}
	// Each service gets only the interfaces it calls; the graph client
	// and the store satisfy them all.
	hcfg := wiring.Handlers(cfg, instance, m.Now)
	h := &handlers.Handlers{Trust: handlers.NewTrust(p.graph, db)}
	h.Identity = handlers.NewIdentity(p.graph, db, hcfg, m.Log)
	h.Reconciler = handlers.NewReconciler(p.graph, db, hcfg, m.Log)
	h.Passwords = handlers.NewPasswords(h.Identity, h.Trust, h.Reconciler, p.graph, db, hcfg, m.Log)
	h.Revocations = handlers.NewRevocations(h.Identity, h.Trust, p.graph, db, hcfg, m.Log)
	h.Home = handlers.NewHome(h.Passwords, h.Identity, db, hcfg, m.Log)
	p.handlers = h
	p.slack = bot.NewSlack(m.botConfig(), m.Log)
	p.jobs, err = jobs.New(jobs.Deps{
		Entra: p.graph, Trust: p.handlers.Trust, Slack: p.slack, Reconciler: p.handlers.Reconciler, Revocations: p.handlers.Revocations,
		// One store per concern (issue 14 item 4); the database is each.
		Runs: db, Notices: db, LastUse: db, Reports: db, Findings: db, Prune: db, DeltaLinks: db,
		Directory: p.graph, Offboarding: p.handlers.Revocations, Observer: m.Metrics, Now: m.Now, Log: m.Log,
	}, wiring.Jobs(cfg, instance))
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
		Gateway: bot.Gateway{Hostname: cfg.SMTP.Hostname, SubmissionAddr: cfg.SMTP.Addr, TLSAddr: cfg.SMTP.TLSAddr,
			IMAPAddr: cfg.Read.IMAPAddr, IMAPSAddr: cfg.Read.IMAPSAddr, POP3Addr: cfg.Read.POP3Addr, POP3SAddr: cfg.Read.POP3SAddr},
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

// Run is `apppass serve`: the bot, the jobs and, when configured, the
// mail gateway, until ctx ends (see serve).
func (m *Main) Run(ctx context.Context) error {
	return m.serve(ctx, serveParts{bot: true, gateway: m.Config.SMTP.Enabled() || m.Config.Read.Enabled()})
}

// RunGateway is `apppass gateway`: the mail gateway alone, without the
// bot or the jobs, until ctx ends. Guessing alerts reach the helpdesk
// channel when SLACK_BOT_TOKEN and APPPASS_HELPDESK_CHANNEL are set, and
// are only logged otherwise.
func (m *Main) RunGateway(ctx context.Context) error {
	if !m.Config.SMTP.Enabled() && !m.Config.Read.Enabled() {
		return errors.New("apppass gateway needs APPPASS_SMTP_ADDR or APPPASS_SMTPS_ADDR (or an IMAP or POP3 listener)")
	}
	return m.serve(ctx, serveParts{gateway: true})
}

// serveParts says which of apppass's long-running parts a process runs;
// the database, Entra's client and the health endpoint it always has.
type serveParts struct {
	bot     bool // the Slack bot and the jobs
	gateway bool // the mail gateway
}

// serve is the one start-up path of `apppass serve` and `apppass
// gateway`. It opens the database and the parts asked for, opens every
// listener before anything runs (a port in use stops start-up, and what
// was opened is closed again), calls Ready, and serves until ctx ends or
// a part fails; then it stops every part, waits for each, and closes the
// database. A gateway or health endpoint that fails stops the process
// with its error.
func (m *Main) serve(ctx context.Context, want serveParts) (err error) {
	cfg := m.Config
	p, err := m.open(ctx, want.bot)
	if err != nil {
		return err
	}
	var closers []func()
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
		if cerr := p.db.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close database: %w", cerr))
		}
	}()
	log := p.log
	log.Info("apppass starting", "version", Version, "bot", want.bot, "gateway", want.gateway, "slack_api", cfg.SlackAPIURL,
		"graph", cfg.GraphBaseURL, "authority", cfg.AuthorityHost, "tenant", cfg.TenantID, "db", cfg.DBPath, "max_per_user", cfg.MaxPerUser)

	app := &App{DB: p.db, Graph: p.graph, Handlers: p.handlers, Slack: p.slack, Jobs: p.jobs}
	health := m.healthServer(p.db, p.graph)
	var b *bot.Bot
	if want.bot {
		bcfg := m.botConfig()
		bcfg.Writes = p.db // the write limit holds across replicas
		b = bot.New(bcfg, p.slack, p.handlers, log)
		app.Bot = b
		m.observeBot(health, p, b)
	}
	var gw *gateway.Gateway
	var listeners gatewayListeners
	if want.gateway {
		gw, listeners, err = m.startGateway(p.graph, p.db, m.guessingAlerter(p))
		if err != nil {
			return err
		}
		closers = append(closers, listeners.close)
		app.Gateway, app.SMTPAddr, app.SMTPSAddr = gw, addr(listeners.starttls), addr(listeners.implicit)
	}
	httpLn, err := m.listenHTTP()
	if err != nil {
		return err
	}
	if httpLn != nil {
		closers = append(closers, func() { httpLn.Close() })
		app.HTTPAddr = httpLn.Addr().String()
	}
	if m.Ready != nil {
		m.Ready(app)
	}

	// Every part runs until ctx ends or one of them fails; the first
	// failure stops the others, and serve returns once all have stopped.
	ctx, stopAll := context.WithCancelCause(ctx)
	defer stopAll(nil)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	run := func(name string, fatal bool, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rerr := f(ctx)
			if rerr == nil || ctx.Err() != nil && errors.Is(rerr, context.Canceled) {
				return
			}
			rerr = fmt.Errorf("%s: %w", name, rerr)
			mu.Lock()
			errs = append(errs, rerr)
			mu.Unlock()
			if fatal {
				log.Error(name+" stopped; stopping apppass", "err", rerr)
				stopAll(rerr)
			} else {
				log.Error(name+" stopped", "err", rerr)
			}
		}()
	}
	if httpLn != nil {
		run("health and metrics endpoint", true, func(ctx context.Context) error { return health.ServeListener(ctx, httpLn) })
	}
	if gw != nil {
		run("mail gateway", true, func(ctx context.Context) error { return serveGateway(ctx, gw, listeners) })
	}
	if want.bot {
		// The job runner shares the bot's fate: a bot that stops (Slack
		// refused its token) stops the process, the jobs with it.
		run("job runner", false, p.jobs.Start)
		run("bot", true, func(ctx context.Context) error {
			berr := b.Run(ctx)
			if berr == nil {
				stopAll(nil)
			}
			return berr
		})
	}
	<-ctx.Done()
	wg.Wait()
	log.Info("apppass stopped")
	return errors.Join(errs...)
}

// guessingAlerter is where the gateway tells the helpdesk about guessing:
// the bot's Slack client, or one made for `apppass gateway` when a bot
// token and helpdesk channel are set; nil (only logged) otherwise.
func (m *Main) guessingAlerter(p *parts) gateway.Alerter {
	switch {
	case p.slack != nil:
		return guessingAlerts{p.slack}
	case !m.Config.SlackBotToken.IsZero() && m.Config.HelpdeskChannel != "":
		return guessingAlerts{bot.NewSlack(m.botConfig(), m.Log)}
	}
	return nil
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
	p, err := m.open(ctx, true)
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
