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

	"github.com/apppass/apppass/logging"
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
	// MaxAddressFailures from one client address, whatever the names,
	// within FailureWindow before every login from it is refused without
	// a look-up; default 20.
	MaxAddressFailures int
	// ReplicationWindow: a refused password matching the hint of one
	// created this recently is asked about again, every ReplicationRetry
	// (default 5 s) until ReplicationWait (default 20 s) passes, since
	// Entra's token service lags behind a new password; default 15 min.
	ReplicationWindow time.Duration
	ReplicationWait   time.Duration
	ReplicationRetry  time.Duration
	// RemovedHintWindow: a typed password starting with the hint of one
	// of the owner's passwords removed this recently is refused; default
	// and minimum 24 h.
	RemovedHintWindow time.Duration
	// FailureFloor is the least time a refusal as bad credentials takes,
	// so that an unknown user, a user without an application and a wrong
	// password answer alike; default 2 s (more than a token request).
	FailureFloor time.Duration
	// ReserveTTL bounds how long one attempt holds its owner's place
	// (default 30 s); a waiting attempt looks again every ReservePoll
	// (default 50 ms) for up to ReserveWait (default 20 s).
	ReserveTTL, ReservePoll, ReserveWait time.Duration
	// AlertBurst helpdesk alerts at most per AlertWindow from one
	// replica; default 5 per 10 min. Past them lockouts are only logged.
	AlertBurst  int
	AlertWindow time.Duration
	// Upstream is APPPASS_MAIL_UPSTREAM: "graph" (the default) delivers
	// to the header's recipients, so they must all be in the envelope;
	// "smtp" delivers to the envelope as is. New sets it to "smtp" when
	// Deps.Upstream is an *SMTPUpstream.
	Upstream string
	// Limits are the connection limits (limiter.go).
	Limits Limits
	// MaxMemory bounds the bytes of message bodies held at once, over all
	// sessions; default 512 MiB. MaxMessagesPerOwner bounds one owner's
	// messages in flight; default 2. Beyond: 451 4.3.0.
	MaxMemory           int64
	MaxMessagesPerOwner int
	// DeliveryTimeout bounds delivery to Graph, retries included; default
	// 4 min (devices wait up to 10 min for the answer to DATA).
	DeliveryTimeout time.Duration
	// CertCheck is how often the certificate files' modification times are
	// looked at; default 10 s.
	CertCheck time.Duration
	// Debug, when set, receives go-smtp's protocol trace with AUTH
	// exchanges and message content removed.
	Debug io.Writer
	// ExchangeIMAP and ExchangePOP are Exchange Online's IMAP and POP3
	// endpoints (implicit TLS), SPEC §15; defaults
	// outlook.office365.com:993 and :995.
	ExchangeIMAP, ExchangePOP string
	// ExchangeTLS, when set, is the TLS configuration for connecting to
	// Exchange (tests trust their fake's certificate with RootCAs); the
	// certificate is always verified.
	ExchangeTLS *tls.Config
	// ServicePrincipal names apppass's principal in the PowerShell lines
	// of the helpdesk's alerts (its application id).
	ServicePrincipal string
	// ReadIdle ends a reading session whose device sent nothing for that
	// long; default 30 min (RFC 9051's floor, which IDLE relies on).
	// Limits.SessionTimeout ends every session.
	ReadIdle time.Duration
	// ReadCheck is how often the owners of live reading sessions are
	// asked about in Entra; default 30 s.
	ReadCheck time.Duration
	// Now is the clock; default time.Now. Sleep waits d or until ctx
	// ends; default a timer.
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
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
	// Scopes may be nil: every password then only sends.
	Scopes Scopes
	// ExchangeTokens is needed by the IMAP and POP3 listeners only.
	ExchangeTokens ExchangeTokens
	// ReadingAlerter may be nil: Exchange's refusals are only logged.
	ReadingAlerter ReadingAlerter
	// AlertClaims shares the helpdesk alerts' quotas among replicas; nil:
	// each replica keeps its own.
	AlertClaims AlertClaims
}

// AlertClaims hands out the right to send a helpdesk alert to one
// replica of all; *store.DB satisfies it.
type AlertClaims interface {
	// ClaimAlert reports whether this caller, of all replicas, sends
	// alert key at at: unless someone claimed it at or after since.
	ClaimAlert(ctx context.Context, key string, at, since time.Time) (bool, error)
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
	scopes    Scopes
	tokens    ExchangeTokens
	readAlert ReadingAlerter
	claims    AlertClaims
	read      *reader

	cache   *successCache
	certs   *certReloader
	metrics *Metrics
	server  *smtp.Server
	limiter *Limiter
	memory  *memoryBudget
	alerts  *alertRate
	holder  string // this process, in login-attempt reservations

	keyMu   sync.Mutex
	nameKey []byte // the store's key for unknown user names

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
	def(&opts.ReplicationWait, 20*time.Second)
	def(&opts.ReplicationRetry, 5*time.Second)
	def(&opts.RemovedHintWindow, 24*time.Hour)
	opts.RemovedHintWindow = max(opts.RemovedHintWindow, 24*time.Hour)
	def(&opts.FailureFloor, 2*time.Second)
	def(&opts.ReserveTTL, 30*time.Second)
	def(&opts.ReservePoll, 50*time.Millisecond)
	def(&opts.ReserveWait, 20*time.Second)
	def(&opts.AlertWindow, 10*time.Minute)
	if opts.AlertBurst <= 0 {
		opts.AlertBurst = 5
	}
	if opts.MaxAddressFailures <= 0 {
		opts.MaxAddressFailures = 20
	}
	if opts.MaxMemory <= 0 {
		opts.MaxMemory = 512 << 20
	}
	if opts.MaxMessagesPerOwner <= 0 {
		opts.MaxMessagesPerOwner = 2
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
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
	if opts.ExchangeIMAP == "" {
		opts.ExchangeIMAP = "outlook.office365.com:993"
	}
	if opts.ExchangePOP == "" {
		opts.ExchangePOP = "outlook.office365.com:995"
	}
	def(&opts.ReadIdle, 30*time.Minute)
	def(&opts.ReadCheck, 30*time.Second)
	if deps.Scopes == nil {
		deps.Scopes = sendOnlyScopes{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	// Every line of a session carries its correlation id.
	opts.Logger = logging.Wrap(opts.Logger)
	certs, err := newCertReloader(opts.CertFile, opts.KeyFile, opts.CertCheck, opts.Now, opts.Logger)
	if err != nil {
		return nil, err
	}
	g := &Gateway{
		opts: opts, now: opts.Now, log: opts.Logger,
		mailboxes: deps.Mailboxes, apps: deps.Applications, verifier: deps.Verifier, upstream: deps.Upstream,
		records: deps.Records, failures: deps.Failures, alerter: deps.Alerter,
		scopes: deps.Scopes, tokens: deps.ExchangeTokens, readAlert: deps.ReadingAlerter, claims: deps.AlertClaims, read: newReader(),
		cache:   newSuccessCache(opts.CacheTTL, opts.RemovalPoll, opts.ReplicationWindow, opts.RemovedHintWindow),
		certs:   certs,
		metrics: &Metrics{},
		limiter: NewLimiter(opts.Limits),
		memory:  newMemoryBudget(opts.MaxMemory, opts.MaxMessagesPerOwner),
		alerts:  &alertRate{burst: opts.AlertBurst, window: opts.AlertWindow},
		holder:  logging.NewRef(),
	}
	if g.upstream == nil {
		g.upstream = &GraphUpstream{Sender: deps.Sender, MaxBytes: opts.MaxBytes}
	}
	if _, ok := g.upstream.(*SMTPUpstream); ok {
		g.opts.Upstream = "smtp" // the envelope decides; headers.go need not
	}
	s := smtp.NewServer(smtp.BackendFunc(g.newSession))
	s.Domain = opts.Hostname
	s.TLSConfig = TLSConfig(certs.get)
	s.MaxMessageBytes = opts.MaxBytes
	s.MaxRecipients = opts.MaxRecipients
	// Read deadlines before login are clamped per command and per
	// session by the limiter's Conn; this is the idle limit after login.
	s.ReadTimeout = g.limiter.Limits().IdleTimeout
	s.WriteTimeout = time.Minute
	// RFC 5321's 512-byte command line (1,000 for a text line), doubled
	// for SASL initial responses: enough for AUTH PLAIN with a 320-byte
	// name and a long password, and no room for a 2 KB junk name.
	s.MaxLineLength = 2000
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
	refusal := "421 4.7.0 " + g.opts.Hostname + " Too many connections; try again later\r\n"
	tooMany := "421 4.7.0 Too many commands before login; closing\r\n"
	if starttls != nil {
		n++
		ln := g.limiter.Listen(ctx, starttls, ListenOptions{Protocol: ProtocolSMTP, Refusal: refusal, CountDeadlines: true, TooManyCommands: tooMany})
		go func() { errc <- g.server.Serve(ln) }()
	}
	if implicit != nil {
		n++
		ln := g.limiter.Listen(ctx, implicit, ListenOptions{Protocol: ProtocolSMTP, Refusal: refusal, TLS: g.server.TLSConfig,
			CountDeadlines: true, TooManyCommands: tooMany})
		go func() { errc <- g.server.Serve(ln) }()
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

// ServeIMAP accepts IMAP connections (SPEC §15) on starttls (plain,
// upgraded with STARTTLS) and implicit (TLS from the first byte) until ctx
// ends or Close is called; either may be nil. The gateway's limiter
// counts them with its other listeners. It returns nil on a clean stop.
func (g *Gateway) ServeIMAP(ctx context.Context, starttls, implicit net.Listener) error {
	return g.serveReading(ctx, ProtocolIMAP, starttls, implicit)
}

// ServePOP3 is ServeIMAP for POP3 (STLS on starttls).
func (g *Gateway) ServePOP3(ctx context.Context, starttls, implicit net.Listener) error {
	return g.serveReading(ctx, ProtocolPOP3, starttls, implicit)
}

func (g *Gateway) serveReading(ctx context.Context, proto Protocol, starttls, implicit net.Listener) error {
	if starttls == nil && implicit == nil {
		return errors.New("gateway: no listener")
	}
	if g.tokens == nil {
		return errors.New("gateway: reading mail needs apppass's Exchange token (Deps.ExchangeTokens)")
	}
	refusal := "* BYE Too many connections; try again later\r\n"
	if proto == ProtocolPOP3 {
		refusal = "-ERR [SYS/TEMP] Too many connections; try again later\r\n"
	}
	errc := make(chan error, 2)
	n := 0
	for _, l := range []struct {
		ln       net.Listener
		implicit bool
	}{{starttls, false}, {implicit, true}} {
		if l.ln == nil {
			continue
		}
		o := ListenOptions{Protocol: proto, Refusal: refusal}
		if l.implicit {
			o.TLS = g.server.TLSConfig
		}
		n++
		ln := g.limiter.Listen(ctx, l.ln, o)
		go func() { errc <- g.serveRead(ctx, ln, proto) }()
	}
	stop := context.AfterFunc(ctx, g.Close)
	defer stop()
	var first error
	for range n {
		if err := <-errc; err != nil && first == nil {
			first = err
			g.Close()
		}
	}
	return first
}

// Close stops accepting connections and closes open ones.
func (g *Gateway) Close() {
	g.closeOnce.Do(func() {
		_ = g.server.Close()
		g.closeRead()
	})
}

// Limiter is the gateway's connection limiter, to be shared by its other
// listeners (IMAP, POP3) so that the caps hold over all of them.
func (g *Gateway) Limiter() *Limiter { return g.limiter }

// TLS is the gateway's TLS configuration (its reloading certificate and
// suites), for its other listeners.
func (g *Gateway) TLS() *tls.Config { return g.server.TLSConfig }

// TLSConfig is the gateway's TLS configuration with certificate source
// get: TLS 1.2 with AEAD (GCM, ChaCha20-Poly1305) ECDHE suites only, and
// TLS 1.3 (whose suites are all AEAD).
func TLSConfig(get func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: get,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns the gateway's counters.
func (g *Gateway) Stats() Stats {
	s := g.metrics.snapshot()
	s.Connections = g.limiter.Stats()
	s.MemoryInUse, s.MemoryPeak = g.memory.usage()
	return s
}

// slogLogger adapts go-smtp's error log to slog.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Printf(format string, v ...any) {
	s.l.Warn("smtp: " + fmt.Sprintf(format, v...))
}
func (s slogLogger) Println(v ...any) { s.l.Warn("smtp: " + fmt.Sprint(v...)) }
