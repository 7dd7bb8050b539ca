package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/apppass/apppass/config"
	"github.com/apppass/apppass/logging"
)

// Version is set at build time with
// -ldflags "-X github.com/apppass/apppass/app.Version=…".
var Version = "dev"

const usage = "usage: apppass [serve] | apppass gateway | apppass demo [--addr HOST:PORT] | apppass check | apppass health [URL] | apppass job run NAME | apppass job list | apppass audit export [--since T] | apppass store copy --to postgres://… | apppass version"

// UsageError is a command line apppass cannot take; main exits 2 for it.
type UsageError struct{ msg string }

func (e UsageError) Error() string { return e.msg }

// Run is apppass without the process: main calls it with the command
// line and environment, and the tests call it too.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	verb := "serve"
	if len(args) > 0 {
		verb = args[0]
	}
	switch verb {
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "apppass", Version)
		return nil
	case "serve":
		m, err := NewMain(getenv, logging.New(stderr, getenv("APPPASS_LOG_LEVEL")))
		if err != nil {
			return err
		}
		return m.Run(ctx)
	case "gateway":
		if len(args) > 1 {
			return UsageError{usage}
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
		return UsageError{usage}
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
			return UsageError{usage}
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
	case "store":
		if len(args) != 4 || args[1] != "copy" || args[2] != "--to" {
			return UsageError{usage}
		}
		from := getenv("APPPASS_DB")
		if from == "" {
			from = "apppass.db"
		}
		return StoreCopy(ctx, from, args[3], stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return UsageError{fmt.Sprintf("unknown command %q; %s", verb, usage)}
	}
}
