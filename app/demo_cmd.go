package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/apppass/apppass/demo"
	"github.com/apppass/apppass/jobs"
)

// demoStartTimeout bounds how long apppass may take to connect to the
// stand-in Slack.
const demoStartTimeout = 30 * time.Second

// demoOptions are `apppass demo`'s flags (cli.go).
type demoOptions struct {
	addr     string // the page
	smtpAddr string // the gateway's STARTTLS listener, or "off"
	imapAddr string // its IMAP listener (STARTTLS), with the gateway
	pop3Addr string // its POP3 listener (STLS), with the gateway
}

// runDemo is `apppass demo [--addr HOST:PORT]`: it starts the Slack and
// Entra stand-ins with a seeded organisation and the page that plays
// Slack, runs the real apppass against them until ctx ends, and prints
// the page's URL on stdout. Its data live in a temporary directory that
// is removed on exit, unless APPPASS_DB names a database to keep; nothing
// else is read from the environment. It returns an error when something
// cannot start.
func runDemo(ctx context.Context, o demoOptions, getenv func(string) string, stdout io.Writer) (err error) {
	addr, smtpAddr := &o.addr, &o.smtpAddr
	dir, err := os.MkdirTemp("", "apppass-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
	dbPath := getenv("APPPASS_DB")
	if dbPath == "" {
		dbPath = filepath.Join(dir, "apppass.db")
	}
	logPath := filepath.Join(dir, "apppass.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer logFile.Close()
	log := slog.New(slog.NewJSONHandler(logFile, nil))

	d, err := demo.Start(demo.Options{Addr: *addr, Log: log.With("component", "demo")})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, d.Close()) }()
	env := d.Env(dbPath)
	var exchangeTLS *tls.Config
	if *smtpAddr != "off" {
		cert, key, err := demo.WriteGatewayCert(dir, time.Now())
		if err != nil {
			return err
		}
		env["APPPASS_SMTP_ADDR"] = *smtpAddr
		env["APPPASS_SMTP_TLS_CERT"], env["APPPASS_SMTP_TLS_KEY"] = cert, key
		env["APPPASS_SMTP_HOSTNAME"] = demo.GatewayHost
		d.UseEntraMailbox()
		// The stand-in Exchange holds the mailboxes the gateway's IMAP and
		// POP3 listeners read; it reuses the gateway's certificate, which
		// names 127.0.0.1 too.
		x, err := d.StartExchange(ctx, cert, key)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, x.Close()) }()
		env["APPPASS_IMAP_ADDR"], env["APPPASS_POP3_ADDR"] = o.imapAddr, o.pop3Addr
		env["APPPASS_EXCHANGE_IMAP"], env["APPPASS_EXCHANGE_POP"] = x.IMAP, x.POP
		exchangeTLS = &tls.Config{RootCAs: x.Pool, MinVersion: tls.VersionTLS12}
	}
	m, err := NewMain(func(k string) string { return env[k] }, log)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	m.GraphTransport = d.GraphTransport()
	m.ExchangeTLS = exchangeTLS
	ready := make(chan *App, 1)
	m.Ready = func(a *App) { ready <- a }

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx) }()
	waitCtx, cancelWait := context.WithTimeout(ctx, demoStartTimeout)
	connected := make(chan error, 1)
	go func() { connected <- d.Slack.WaitConnections(waitCtx, 1) }()
	select {
	case err := <-done:
		cancelWait()
		return fmt.Errorf("demo: apppass stopped before connecting: %w", stopped(err))
	case err := <-connected:
		cancelWait()
		if err != nil {
			stop()
			return errors.Join(fmt.Errorf("demo: apppass did not connect to the stand-in Slack: %w", err), <-done)
		}
	}

	// A first hygiene report, so that the report channel shows one.
	app := <-ready
	if _, err := app.Jobs.RunOnce(ctx, jobs.HygieneReport); err != nil {
		log.Warn("demo: the first hygiene report failed", "err", err)
	}

	fmt.Fprintf(stdout, "apppass demo is running: open %s\n", d.URL())
	fmt.Fprintln(stdout, "Be Alice (employee), Adam (admin), or Hana and Hugo (helpdesk); try /apppass help.")
	if app.SMTPAddr != "" {
		fmt.Fprintf(stdout, "Mail gateway: %s (STARTTLS, self-signed certificate for %s); user alice@contoso.test, password: an app password she created.\n",
			app.SMTPAddr, demo.GatewayHost)
	}
	if app.IMAPAddr != "" {
		fmt.Fprintf(stdout, "Reading mail: IMAP %s (STARTTLS), POP3 %s (STLS); the same user, with a password made with --read.\n", app.IMAPAddr, app.POP3Addr)
	}
	fmt.Fprintf(stdout, "Data and logs: %s (removed on exit). Stop with Ctrl-C.\n", filepath.Dir(logPath))
	if dbPath != filepath.Join(dir, "apppass.db") {
		fmt.Fprintf(stdout, "Database: %s (kept).\n", dbPath)
	}
	select {
	case <-ctx.Done():
		stop()
		return <-done
	case err := <-done:
		return fmt.Errorf("demo: apppass stopped: %w", stopped(err))
	}
}

// stopped is why apppass stopped on its own.
func stopped(err error) error {
	if err == nil {
		return errors.New("it returned without an error")
	}
	return err
}
