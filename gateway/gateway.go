package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Options configures a Gateway. Zero values take the documented defaults.
type Options struct {
	// Hostname is the name devices connect to, announced in the greeting.
	Hostname string
	// CertFile and KeyFile are the PEM certificate chain and key; they are
	// re-read when they change.
	CertFile, KeyFile string
	// MaxBytes is the largest message accepted (SIZE); config holds the
	// default (35 MiB), and zero means that too.
	MaxBytes int64
	// MaxRecipients per message; default 500.
	MaxRecipients int
	// CacheTTL bounds a cached login; default and maximum 60 s.
	CacheTTL time.Duration
	// RemovalPoll is how often the store's removals are read; default 5 s.
	RemovalPoll time.Duration
	// MaxFailures per user name and client address within FailureWindow,
	// counted by every replica through Deps.Failures, before logins are
	// refused without asking Entra; default 5 in 15 min, window at most a
	// day (the store keeps failures that long).
	MaxFailures   int
	FailureWindow time.Duration
	// ReplicationWindow: a refused password matching the hint of one
	// created this recently gets 454, not 535; default 15 min.
	ReplicationWindow time.Duration
	// DeliveryTimeout bounds delivery to Graph, retries included; default
	// 4 min (devices wait up to 10 min for the answer to DATA).
	DeliveryTimeout time.Duration
	// CertCheck is how often the certificate files' modification times are
	// looked at; default 10 s.
	CertCheck time.Duration
	// Debug, when set, receives go-smtp's protocol trace with AUTH
	// exchanges and message content removed.
	Debug io.Writer
	// Now is the clock; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Deps are the gateway's collaborators (see ports.go).
type Deps struct {
	Mailboxes    Mailboxes
	Applications Applications
	Verifier     Verifier
	// Upstream delivers messages; nil: a GraphUpstream over Sender.
	Upstream Upstream
	// Sender is Graph, for the default upstream; unused with Upstream.
	Sender   Sender
	Records  Records
	Failures Failures
	Alerter  Alerter // may be nil: guessing is only logged
}

// Gateway is the SMTP submission server. Create it with New, run it with
// Serve, stop it with Close.
type Gateway struct {
	opts      Options
	now       func() time.Time
	log       *slog.Logger
	mailboxes Mailboxes
	apps      Applications
	verifier  Verifier
	upstream  Upstream
	records   Records
	failures  Failures
	alerter   Alerter

	cache   *successCache
	certs   *certReloader
	metrics *Metrics
	server  *smtp.Server

	closeOnce sync.Once
}

// New builds a Gateway and loads its certificate. It returns an error when
// a setting is missing or the certificate cannot be loaded.
func New(opts Options, deps Deps) (*Gateway, error) {
	if opts.Hostname == "" {
		return nil, errors.New("gateway: a hostname is required")
	}
	if deps.Mailboxes == nil || deps.Applications == nil || deps.Verifier == nil || (deps.Sender == nil && deps.Upstream == nil) || deps.Records == nil || deps.Failures == nil {
		return nil, errors.New("gateway: mailboxes, applications, verifier, an upstream (or sender), records and failures are required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.CacheTTL, time.Minute)
	opts.CacheTTL = min(opts.CacheTTL, time.Minute)
	def(&opts.RemovalPoll, 5*time.Second)
	def(&opts.FailureWindow, 15*time.Minute)
	opts.FailureWindow = min(opts.FailureWindow, 24*time.Hour)
	def(&opts.ReplicationWindow, 15*time.Minute)
	def(&opts.DeliveryTimeout, 4*time.Minute)
	def(&opts.CertCheck, 10*time.Second)
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 35 << 20
	}
	if opts.MaxRecipients <= 0 {
		opts.MaxRecipients = 500
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 5
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	certs, err := newCertReloader(opts.CertFile, opts.KeyFile, opts.CertCheck, opts.Now, opts.Logger)
	if err != nil {
		return nil, err
	}
	g := &Gateway{
		opts: opts, now: opts.Now, log: opts.Logger,
		mailboxes: deps.Mailboxes, apps: deps.Applications, verifier: deps.Verifier, upstream: deps.Upstream,
		records: deps.Records, failures: deps.Failures, alerter: deps.Alerter,
		cache:   newSuccessCache(opts.CacheTTL, opts.RemovalPoll, opts.ReplicationWindow),
		certs:   certs,
		metrics: &Metrics{},
	}
	if g.upstream == nil {
		g.upstream = &GraphUpstream{Sender: deps.Sender, MaxBytes: opts.MaxBytes}
	}
	s := smtp.NewServer(smtp.BackendFunc(g.newSession))
	s.Domain = opts.Hostname
	s.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.get}
	s.MaxMessageBytes = opts.MaxBytes
	s.MaxRecipients = opts.MaxRecipients
	s.ReadTimeout = 5 * time.Minute
	s.WriteTimeout = time.Minute
	s.ErrorLog = slogLogger{opts.Logger}
	if opts.Debug != nil {
		s.Debug = newRedactor(opts.Debug)
	}
	g.server = s
	return g, nil
}

// Serve accepts connections on starttls (plain, upgraded with STARTTLS) and
// implicit (TLS from the first byte) until ctx ends or Close is called;
// either listener may be nil. It closes the listeners and returns nil on
// a clean stop.
func (g *Gateway) Serve(ctx context.Context, starttls, implicit net.Listener) error {
	if starttls == nil && implicit == nil {
		return errors.New("gateway: no listener")
	}
	errc := make(chan error, 2)
	n := 0
	if starttls != nil {
		n++
		go func() { errc <- g.server.Serve(starttls) }()
	}
	if implicit != nil {
		n++
		tl := tls.NewListener(implicit, g.server.TLSConfig)
		go func() { errc <- g.server.Serve(tl) }()
	}
	stop := context.AfterFunc(ctx, g.Close)
	defer stop()
	var first error
	for range n {
		if err := <-errc; err != nil && !errors.Is(err, smtp.ErrServerClosed) && first == nil {
			first = fmt.Errorf("gateway: %w", err)
			g.Close()
		}
	}
	return first
}

// Close stops accepting connections and closes open ones.
func (g *Gateway) Close() {
	g.closeOnce.Do(func() { _ = g.server.Close() })
}

// Stats returns the gateway's counters.
func (g *Gateway) Stats() Stats { return g.metrics.snapshot() }

// slogLogger adapts go-smtp's error log to slog.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Printf(format string, v ...any) {
	s.l.Warn("smtp: " + fmt.Sprintf(format, v...))
}
func (s slogLogger) Println(v ...any) { s.l.Warn("smtp: " + fmt.Sprint(v...)) }
