// Command apppass is a Slack app through which employees manage their own
// Microsoft 365 / Entra app passwords.
//
//	apppass [serve]          run the bot (socket mode), the scheduled jobs and,
//	                         when configured, the mail gateway
//	apppass gateway          run the mail gateway alone (no Slack needed)
//	apppass demo [--addr A]  try it without credentials: stand-in Slack and Entra, and a page
//	apppass job run NAME     run one job once, now, and exit (non-zero if it failed)
//	apppass job list         show the jobs, their schedules and last runs
//	apppass check            try every setting against Slack and Entra, one line each
//	apppass health [URL]     ask a running apppass's /readyz (for container health checks)
//	apppass audit export [--since T]
//	                         write the audit trail as JSON lines (T: RFC 3339 or a duration back)
//	apppass version          print the version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/apppass/apppass/config"
	"github.com/apppass/apppass/logging"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "apppass:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

const usage = "usage: apppass [serve] | apppass gateway | apppass demo [--addr HOST:PORT] | apppass check | apppass health [URL] | apppass job run NAME | apppass job list | apppass audit export [--since T] | apppass version"

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// run is apppass without the process: the end-to-end tests call it too.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	verb := "serve"
	if len(args) > 0 {
		verb = args[0]
	}
	switch verb {
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "apppass", version)
		return nil
	case "serve":
		m, err := NewMain(getenv, logging.New(stderr, getenv("APPPASS_LOG_LEVEL")))
		if err != nil {
			return err
		}
		return m.Run(ctx)
	case "gateway":
		if len(args) > 1 {
			return usageError{usage}
		}
		m, err := NewMain(getenv, logging.New(stderr, getenv("APPPASS_LOG_LEVEL")), config.ForGateway())
		if err != nil {
			return err
		}
		return m.RunGateway(ctx)
	case "job":
		m, err := NewMain(getenv, logging.New(stderr, getenv("APPPASS_LOG_LEVEL")))
		if err != nil {
			return err
		}
		switch {
		case len(args) == 2 && args[1] == "list":
			return m.ListJobs(ctx, stdout)
		case len(args) == 3 && args[1] == "run":
			return m.RunJob(ctx, args[2], stdout)
		}
		return usageError{usage}
	case "check":
		m, err := NewMain(getenv, logging.New(stderr, "warn"))
		if err != nil {
			return err
		}
		return m.Check(ctx, stdout)
	case "health":
		return runHealth(ctx, args[1:], getenv, stdout)
	case "demo":
		return runDemo(ctx, args[1:], getenv, stdout)
	case "audit":
		if len(args) < 2 || args[1] != "export" || (len(args) != 2 && len(args) != 4) || (len(args) == 4 && args[2] != "--since") {
			return usageError{usage}
		}
		var since time.Time
		if len(args) == 4 {
			var err error
			if since, err = parseSince(args[3], time.Now()); err != nil {
				return err
			}
		}
		m, err := NewMain(getenv, logging.New(stderr, getenv("APPPASS_LOG_LEVEL")))
		if err != nil {
			return err
		}
		return m.ExportAudit(ctx, since, stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return usageError{fmt.Sprintf("unknown command %q; %s", verb, usage)}
	}
}
