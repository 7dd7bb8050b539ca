// Command apppass is a Slack app through which employees manage their own
// Microsoft 365 / Entra app passwords.
//
//	apppass [serve]          run the bot (socket mode) and the scheduled jobs
//	apppass job run NAME     run one job once, now, and exit (non-zero if it failed)
//	apppass job list         show the jobs, their schedules and last runs
//	apppass audit export [--since T]
//	                         write the audit trail as JSON lines (T: RFC 3339 or a duration back)
//	apppass version          print the version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
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

const usage = "usage: apppass [serve] | apppass job run NAME | apppass job list | apppass audit export [--since T] | apppass version"

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
		m, err := NewMain(getenv, slog.New(slog.NewJSONHandler(stderr, nil)))
		if err != nil {
			return err
		}
		return m.Run(ctx)
	case "job":
		m, err := NewMain(getenv, slog.New(slog.NewJSONHandler(stderr, nil)))
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
		m, err := NewMain(getenv, slog.New(slog.NewJSONHandler(stderr, nil)))
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
