package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/apppass/apppass/config"
	"github.com/apppass/apppass/demo"
	"github.com/apppass/apppass/logging"
	"github.com/apppass/apppass/store"
)

// The command line is spf13/cobra's. It was chosen over alecthomas/kong
// because it is what most Go operators' tools use (kubectl, gh, hugo), so
// `apppass help`, `apppass COMMAND --help` and the flag syntax look the
// way they expect; commands are plain values built here, which keeps the
// environment, clock and writers injected (Run is what the tests call),
// where kong's struct tags would put them in globals or bindings.

// Version is set at build time with
// -ldflags "-X github.com/apppass/apppass/app.Version=…".
var Version = "dev"

// UsageError is a command line apppass cannot take; main exits 2 for it.
type UsageError struct{ msg string }

func (e UsageError) Error() string { return e.msg }

// commandEnv is what every command is built with: nothing is read from
// the process itself, so that tests run commands as the binary does.
type commandEnv struct {
	ctx            context.Context
	getenv         func(string) string
	stdout, stderr io.Writer
}

// Run is apppass without the process: main calls it with the command
// line and environment, and the tests call it too. A bare `apppass`
// prints the help.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	root := newRoot(commandEnv{ctx: ctx, getenv: getenv, stdout: stdout, stderr: stderr})
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

func newRoot(env commandEnv) *cobra.Command {
	root := &cobra.Command{
		Use:   "apppass",
		Short: "Employees manage their Microsoft 365 app passwords in Slack; devices send mail with them",
		Long: `apppass is a Slack app through which employees create, list and revoke their own
Microsoft 365 / Entra app passwords, with a mail gateway that lets devices (scanners,
printers, old programs) send mail as their owner with such a password.

Settings come from the environment (and APPPASS_CONFIG, a YAML file); the README lists
them. Each command reads only the settings it uses.

Try it without any credentials:  apppass demo`,
		Version: Version,
		// Arguments that are no command end up here, to be refused as a
		// usage error rather than run as anything.
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return UsageError{fmt.Sprintf("unknown command %q; see apppass help", args[0])}
		},
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate("apppass {{.Version}}\n")
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetOut(env.stdout)
	root.SetErr(env.stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return UsageError{fmt.Sprintf("%v; see %s --help", err, cmd.CommandPath())}
	})
	root.AddCommand(
		serveCommand(env),
		gatewayCommand(env),
		demoCommand(env),
		checkCommand(env),
		healthCommand(env),
		jobCommand(env),
		auditCommand(env),
		versionCommand(env),
		storeCommand(env),
	)
	return root
}

// args turns cobra's argument checks into usage errors (exit status 2).
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return UsageError{fmt.Sprintf("%s: %v; see %s --help", cmd.CommandPath(), err, cmd.CommandPath())}
		}
		return nil
	}
}

func (env commandEnv) logger() *slog.Logger {
	return logging.New(env.stderr, env.getenv("APPPASS_LOG_LEVEL"))
}

func serveCommand(env commandEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the Slack bot, the scheduled jobs and (when configured) the mail gateway",
		Long: `Run the Slack bot (socket mode), the scheduled jobs and, when APPPASS_SMTP_ADDR or
APPPASS_SMTPS_ADDR is set, the mail gateway, until stopped (SIGINT or SIGTERM).

Needs SLACK_APP_TOKEN, SLACK_BOT_TOKEN, APPPASS_SLACK_TEAM, AZURE_TENANT_ID,
AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or a workload or managed identity).
Run apppass check first: it reports every missing setting at once.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := NewMain(env.getenv, env.logger())
			if err != nil {
				return err
			}
			return portHint(m.Run(cmd.Context()), "APPPASS_HTTP_ADDR, APPPASS_SMTP_ADDR or APPPASS_SMTPS_ADDR")
		},
	}
}

func gatewayCommand(env commandEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "gateway",
		Short: "Run the mail gateway alone, without the Slack bot",
		Long: `Run the mail gateway alone (no Slack bot, no jobs), for a separate host or container.

Needs AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, APPPASS_SMTP_ADDR and/or
APPPASS_SMTPS_ADDR, APPPASS_SMTP_TLS_CERT, APPPASS_SMTP_TLS_KEY and APPPASS_SMTP_HOSTNAME.
SLACK_BOT_TOKEN is optional: with it, guessing alerts reach the helpdesk channel.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := NewMain(env.getenv, env.logger(), config.ForGateway())
			if err != nil {
				return err
			}
			return portHint(m.RunGateway(cmd.Context()), "APPPASS_HTTP_ADDR, APPPASS_SMTP_ADDR or APPPASS_SMTPS_ADDR")
		},
	}
}

func demoCommand(env commandEnv) *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Try apppass in a browser, with stand-ins for Slack and Entra (no credentials needed)",
		Long: `Start stand-ins for Slack and Microsoft Entra with a small seeded organisation, the real
apppass against them, its mail gateway, and a page that plays Slack; print the page's URL.
Nothing is needed from the environment; data live in a temporary directory removed on
exit unless APPPASS_DB names a database to keep.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return portHint(runDemo(cmd.Context(), o, env.getenv, env.stdout), "--addr, --smtp-addr, --imap-addr or --pop3-addr")
		},
	}
	cmd.Flags().StringVar(&o.addr, "addr", demo.DefaultAddr, "where the demo page listens (HOST:PORT)")
	cmd.Flags().StringVar(&o.smtpAddr, "smtp-addr", "127.0.0.1:2587", `where the demo's mail gateway listens, STARTTLS (HOST:PORT, or "off" for no gateway)`)
	cmd.Flags().StringVar(&o.imapAddr, "imap-addr", "127.0.0.1:2143", "where the gateway's IMAP listener (STARTTLS) reads the stand-in mailboxes")
	cmd.Flags().StringVar(&o.pop3Addr, "pop3-addr", "127.0.0.1:2110", "where the gateway's POP3 listener (STLS) reads the stand-in mailboxes")
	return cmd
}

func checkCommand(env commandEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Report every missing setting, then try each one against Slack and Entra",
		Long: `First report every missing or malformed setting, one line each. When all are present,
try them against the services: the Slack tokens, the bot's channels, apppass's Entra token,
each Graph permission, the admin and helpdesk groups and the gateway's certificate, one
line each, ✓ or ✗ with what to do. Each probe is given at most 10 seconds.
Changes nothing. Exit status 0 only if everything required passed.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(cmd.Context(), env)
		},
	}
}

func healthCommand(env commandEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "health [URL]",
		Short: "Ask a running apppass whether it is ready (for container health checks)",
		Long: `Ask a running apppass's /readyz and fail unless it answers 200. Without URL it asks
APPPASS_HTTP_ADDR (default 127.0.0.1:9090) on this host. The container image has no shell
or curl; this is its health check.`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			return runHealth(cmd.Context(), a, env.getenv, env.stdout)
		},
	}
}

func jobCommand(env commandEnv) *cobra.Command {
	job := &cobra.Command{
		Use:   "job",
		Short: "List the scheduled jobs, or run one now",
	}
	job.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List every job with its schedule, next run and last run",
		Long: `List every job with its schedule, next run and last run, from apppass's database.
Needs only APPPASS_DB (default ./apppass.db), which must exist.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := newDatabaseMain(env)
			if err != nil {
				return err
			}
			return m.ListJobs(cmd.Context(), env.stdout)
		},
	}, &cobra.Command{
		Use:   "run NAME",
		Short: "Run one job now (its name as job list shows it)",
		Long: `Run one job now and report its outcome; it fails when the job is unknown, running
elsewhere, or failed. Jobs talk to Slack and Entra, so this needs the settings serve needs.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			m, err := NewMain(env.getenv, env.logger())
			if err != nil {
				return err
			}
			return m.RunJob(cmd.Context(), a[0], env.stdout)
		},
	})
	return job
}

func auditCommand(env commandEnv) *cobra.Command {
	audit := &cobra.Command{
		Use:   "audit",
		Short: "Export the audit trail",
	}
	var since string
	export := &cobra.Command{
		Use:   "export",
		Short: "Write the audit trail as JSON lines (one event a line), for a SIEM",
		Long: `Write the audit trail to standard output as JSON lines, oldest first.
Needs only APPPASS_DB (default ./apppass.db), which must exist.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var from time.Time
			if since != "" {
				var err error
				if from, err = parseSince(since, time.Now()); err != nil {
					return err
				}
			}
			m, err := newDatabaseMain(env)
			if err != nil {
				return err
			}
			return m.ExportAudit(cmd.Context(), from, env.stdout)
		},
	}
	export.Flags().StringVar(&since, "since", "", "only events from this time on: RFC 3339 (2026-01-31T00:00:00Z) or a duration back from now (720h)")
	audit.AddCommand(export)
	return audit
}

func versionCommand(env commandEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print apppass's version",
		Args:  args(cobra.NoArgs),
		Run: func(*cobra.Command, []string) {
			fmt.Fprintln(env.stdout, "apppass", Version)
		},
	}
}

// newDatabaseMain is a Main for the commands that only read the
// database. A SQLite file that does not exist is refused: opening it
// would create an empty database and report nothing, which looks like a
// working apppass with no data.
func newDatabaseMain(env commandEnv) (*Main, error) {
	m, err := NewMain(env.getenv, env.logger(), config.ForDatabase())
	if err != nil {
		return nil, err
	}
	m.databaseOnly = true
	if path := m.Config.DBPath; !store.IsPostgres(path) {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no database at %s: set APPPASS_DB to the database apppass serve uses (a SQLite file or postgres://…)", path)
		}
	}
	return m, nil
}

// portHint adds what to change to an error from a port already in use.
func portHint(err error, change string) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%w; stop what holds that port (another apppass?), or choose another with %s", err, change)
	}
	return err
}
