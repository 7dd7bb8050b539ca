// Package demo is apppass's first look without credentials (`apppass demo`,
// SPEC §13): it runs the in-repo Slack and Entra stand-ins (fakeslack,
// fakeentra) in-process with a small seeded organisation, and serves one
// local page that plays Slack for the people of that organisation. The real
// apppass is started by the caller against the stand-ins, with the
// environment [Demo.Env] returns and the transport [Demo.GraphTransport]
// returns; the page talks to it only through the stand-ins, over the same
// protocols Slack and Graph use.
package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeslack"
)

// DefaultAddr is where the page listens unless told otherwise.
const DefaultAddr = "127.0.0.1:8080"

// Options configure [Start].
type Options struct {
	// Addr is the page's listen address; empty means [DefaultAddr]. Use
	// "127.0.0.1:0" for a free port and read [Demo.URL].
	Addr string
	// Log receives the page's own log lines; nil discards them.
	Log *slog.Logger
	// Now is the clock for the seeded passwords' ages and the stand-ins;
	// nil means time.Now.
	Now func() time.Time
	// Mailbox lists the mail the gateway sent; nil shows the gateway as
	// not running (see also [Demo.SetMailbox]).
	Mailbox Mailbox
	// Interval is how often the page's event stream looks for changes;
	// zero means 250 ms.
	Interval time.Duration
}

// Mail is a message the mail gateway sent through Graph, as the page's
// mailbox pane lists it.
type Mail struct {
	From    string    `json:"from"`
	To      []string  `json:"to"`
	Subject string    `json:"subject"`
	Size    int       `json:"size"`
	Time    time.Time `json:"time"`
}

// Mailbox is where the page reads the mail the gateway sent, newest last.
type Mailbox interface {
	SentMail() []Mail
}

// Demo is a running demo: the stand-ins, the seeded organisation and the
// page.
type Demo struct {
	Slack  *fakeslack.Server
	Entra  *fakeentra.Server
	People []Person

	log      *slog.Logger
	now      func() time.Time
	interval time.Duration
	ln       net.Listener
	srv      *http.Server
	ctx      context.Context // ends at Close; bounds background deliveries
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu         sync.Mutex
	mailbox    Mailbox
	typed      map[string][]typedCommand    // user → commands typed on the page
	viewErrors map[string]map[string]string // view id → block id → error of the last submission
}

// Start starts the stand-ins, seeds them and serves the page. The caller
// must call [Demo.Close]. It returns an error when a listener cannot be
// opened (for instance when Addr is taken).
func Start(opts Options) (*Demo, error) {
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Interval <= 0 {
		opts.Interval = 250 * time.Millisecond
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("demo page: %w", err)
	}
	s, err := fakeslack.Start()
	if err != nil {
		ln.Close()
		return nil, err
	}
	e, err := fakeentra.Start()
	if err != nil {
		ln.Close()
		s.Close()
		return nil, err
	}
	s.SetNow(opts.Now)
	e.SetNow(opts.Now)
	d := &Demo{
		Slack: s, Entra: e, People: seededPeople(),
		log: opts.Log, now: opts.Now, interval: opts.Interval, ln: ln, mailbox: opts.Mailbox,
		typed: map[string][]typedCommand{}, viewErrors: map[string]map[string]string{},
	}
	seed(s, e, d.People, opts.Now())
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.srv = &http.Server{
		Handler:           d.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return d.ctx },
		ErrorLog:          slog.NewLogLogger(opts.Log.Handler(), slog.LevelWarn),
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("demo page stopped", "err", err)
		}
	}()
	return d, nil
}

// URL is the page's address, e.g. "http://127.0.0.1:8080/".
func (d *Demo) URL() string { return "http://" + d.ln.Addr().String() + "/" }

// SetMailbox sets where the mailbox pane reads sent mail from; nil shows
// the gateway as not running.
func (d *Demo) SetMailbox(m Mailbox) {
	d.mu.Lock()
	d.mailbox = m
	d.mu.Unlock()
}

// Env is the environment that points apppass at the stand-ins: Slack
// tokens and API URL, Entra credentials, authority and Graph base URL, the
// seeded groups and channels, and dbPath as APPPASS_DB. Nothing in it is a
// real credential.
func (d *Demo) Env(dbPath string) map[string]string {
	return map[string]string{
		"SLACK_APP_TOKEN":          fakeslack.AppToken,
		"SLACK_BOT_TOKEN":          fakeslack.BotToken,
		"SLACK_API_URL":            d.Slack.APIURL(),
		"AZURE_TENANT_ID":          fakeentra.TenantID,
		"AZURE_CLIENT_ID":          fakeentra.ClientID,
		"AZURE_CLIENT_SECRET":      fakeentra.ClientSecret,
		"AZURE_AUTHORITY_HOST":     d.Entra.AuthorityHost(),
		"GRAPH_BASE_URL":           d.Entra.GraphBaseURL(),
		"APPPASS_DB":               dbPath,
		"APPPASS_ADMIN_GROUP":      AdminGroup,
		"APPPASS_HELPDESK_GROUP":   HelpdeskGroup,
		"APPPASS_HELPDESK_CHANNEL": HelpdeskChannel,
		"APPPASS_REPORT_CHANNEL":   ReportChannel,
		"APPPASS_SLACK_TEAM":       fakeslack.TeamID,
		"APPPASS_HTTP_ADDR":        "127.0.0.1:0",
	}
}

// GraphTransport carries apppass's Entra and Graph requests to the Entra
// stand-in, trusting its self-signed certificate (and nothing else).
func (d *Demo) GraphTransport() http.RoundTripper { return d.Entra.Client().Transport }

// Close stops the page, then the stand-ins. Connected apppass instances
// lose their socket; stop them first for a quiet shutdown.
func (d *Demo) Close() error {
	d.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := d.srv.Shutdown(ctx)
	d.wg.Wait()
	d.Slack.Close()
	d.Entra.Close()
	if err != nil {
		return fmt.Errorf("demo page shutdown: %w", err)
	}
	return nil
}
