// Package config reads apppass's settings from the environment and, for
// everything else, from an optional YAML file named by APPPASS_CONFIG.
//
// It is the one place that holds defaults (Default): the limits, the
// jobs' rules and schedules, timeouts and apppass's own timings. The
// other packages take their settings from a Config, through app.go.
//
// Tokens and client secrets are held as domain.Secret so that printing or
// logging a Config never shows them.
package config

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/apppass/apppass/domain"
)

// Config is every setting apppass reads at start-up.
type Config struct {
	SlackAppToken domain.Secret `yaml:"-"`
	SlackBotToken domain.Secret `yaml:"-"`
	SlackAPIURL   string        `yaml:"slack_api_url"`

	TenantID      string        `yaml:"tenant_id"`
	ClientID      string        `yaml:"client_id"`
	ClientSecret  domain.Secret `yaml:"-"` // empty: use the rest of the azidentity environment chain
	AuthorityHost string        `yaml:"authority_host"`
	GraphBaseURL  string        `yaml:"graph_base_url"`
	// ServicePrincipalID is the object id of apppass's own service
	// principal, which must own every application apppass acts on; empty:
	// apppass reads it from Graph once.
	ServicePrincipalID string `yaml:"service_principal_id"`

	DBPath string `yaml:"db"`

	AdminGroup    string `yaml:"admin_group"`
	HelpdeskGroup string `yaml:"helpdesk_group"`
	// CreatorsGroup, when set, is the Entra group whose (transitive)
	// members may create app passwords; empty: every employee may.
	CreatorsGroup   string `yaml:"creators_group"`
	HelpdeskChannel string `yaml:"helpdesk_channel"`
	ReportChannel   string `yaml:"report_channel"`

	// SlackTeam is the Slack workspace (T…) or Enterprise Grid
	// organisation (E…) apppass serves; payloads from anywhere else are
	// refused.
	SlackTeam string `yaml:"slack_team"`
	// Workers bounds how many commands and clicks are worked on at once.
	Workers int `yaml:"workers"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`

	MaxPerUser int `yaml:"max_per_user"`
	WarnAt     int `yaml:"warn_at"`
	// AppNamePrefix starts every employee application's displayName; the
	// UPN follows it.
	AppNamePrefix string `yaml:"app_name_prefix"`
	// PasswordLifetime sets endDateTime on new passwords; zero leaves it to
	// Entra (two years).
	PasswordLifetime time.Duration `yaml:"password_lifetime"`
	// CommandTimeout bounds the work behind one command or click.
	CommandTimeout time.Duration `yaml:"command_timeout"`
	// ShutdownGrace bounds how long in-flight commands may run after a stop
	// signal.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`

	RequestTTL     time.Duration `yaml:"request_ttl"`
	NotifyCooldown time.Duration `yaml:"notify_cooldown"`
	StaleAfter     time.Duration `yaml:"stale_after"`
	UnusedAfter    time.Duration `yaml:"unused_after"`
	ExpiryWarning  time.Duration `yaml:"expiry_warning"`
	TimeZone       string        `yaml:"time_zone"`
	// Schedules maps a scheduled job's name to its cron expression; a YAML
	// file overrides the defaults job by job.
	Schedules map[string]string `yaml:"schedules"`
	// OffboardingAction is what the offboarding job does with the app
	// passwords of someone disabled or deleted: "remove" them, or
	// "request" a --all revocation for the helpdesk.
	OffboardingAction string `yaml:"offboarding_action"`
	// AuditRetention is how long audit events, notifications sent and job
	// runs are kept; the retention job prunes older ones daily.
	AuditRetention time.Duration `yaml:"audit_retention"`

	// The timings below are apppass's own, not settings; they live here so
	// that every default is in one place.

	// BackgroundInterval is how often the background jobs run: reconciling
	// credentials left by failures, expiring revocation requests and
	// resuming approvals a crash interrupted.
	BackgroundInterval time.Duration `yaml:"-"`
	// LagWindow is how long apppass trusts its own record of a credential
	// it created or removed over Graph's listing, which can lag.
	LagWindow time.Duration `yaml:"-"`
	// ReconcileAfter is how old an open credential record must be before
	// the reconciler takes it over from the request that began it.
	ReconcileAfter time.Duration `yaml:"-"`
	// GiveUpAfter is how long the reconciler looks for a credential that
	// an ambiguous addPassword may have created.
	GiveUpAfter time.Duration `yaml:"-"`

	// HTTPAddr serves /healthz, /readyz and /metrics; empty: not served.
	HTTPAddr string `yaml:"http_addr"`

	// SMTP is the mail gateway (smtp.go).
	SMTP SMTP `yaml:",inline"`
	// Read is the gateway's IMAP and POP3 side (read.go).
	Read Read `yaml:",inline"`
	// Upstream is how the gateway delivers (upstream.go).
	Upstream Upstream `yaml:",inline"`
}

// Default returns a Config holding every documented default.
func Default() Config {
	return Config{
		SlackAPIURL:    "https://slack.com/api/",
		AuthorityHost:  "https://login.microsoftonline.com/",
		GraphBaseURL:   "https://graph.microsoft.com/v1.0",
		DBPath:         "apppass.db",
		Workers:        32,
		LogLevel:       "info",
		MaxPerUser:     40,
		WarnAt:         35,
		AppNamePrefix:  "App passwords – ",
		CommandTimeout: 45 * time.Second,
		ShutdownGrace:  20 * time.Second,
		RequestTTL:     72 * time.Hour,
		NotifyCooldown: 7 * 24 * time.Hour,
		StaleAfter:     180 * 24 * time.Hour,
		UnusedAfter:    90 * 24 * time.Hour,
		ExpiryWarning:  14 * 24 * time.Hour,
		TimeZone:       "UTC",
		// The scheduled jobs' cron expressions, read in TimeZone.
		Schedules: map[string]string{
			"limit-warning":  "0 9 * * 1-5",  // weekdays 09:00
			"stale-warning":  "0 9 * * 1",    // Mondays 09:00
			"expiry-warning": "0 9 * * *",    // daily 09:00
			"hygiene-report": "0 8 * * 1",    // Mondays 08:00
			"offboarding":    "*/10 * * * *", // every 10 minutes
			"retention":      "30 3 * * *",   // daily 03:30
		},
		AuditRetention:    9600 * time.Hour, // 400 days
		OffboardingAction: "remove",

		BackgroundInterval: time.Minute,
		LagWindow:          15 * time.Minute,
		ReconcileAfter:     2 * time.Minute,
		GiveUpAfter:        30 * time.Minute,
		SMTP: SMTP{MaxBytes: DefaultSMTPMaxBytes, MaxConnections: DefaultGatewayMaxConnections,
			MaxPerAddress: DefaultGatewayMaxPerAddress, Memory: DefaultGatewayMemory},
		Upstream: DefaultUpstream(),
		HTTPAddr: DefaultHTTPAddr,
		Read:     Read{ExchangeIMAP: DefaultExchangeIMAP, ExchangePOP: DefaultExchangePOP},
	}
}

// Load builds a Config from the defaults, the YAML file named by
// APPPASS_CONFIG (when set) and then the environment, as read by getenv.
// Its error names every missing or malformed setting, one line each
// (errors.Join), so that one run tells an operator all that is wrong.
// Options relax what a verb does not need (ForGateway, ForDatabase).
func Load(getenv func(string) string, opts ...LoadOption) (Config, error) {
	c, problems := load(getenv, opts...)
	if len(problems) > 0 {
		return Config{}, errors.Join(problems...)
	}
	return c, nil
}

// Problems returns every missing or malformed setting that Load with the
// same options would refuse, one error each; none means Load succeeds.
// `apppass check` prints them all before trying any service.
func Problems(getenv func(string) string, opts ...LoadOption) []error {
	_, problems := load(getenv, opts...)
	return problems
}

func load(getenv func(string) string, opts ...LoadOption) (Config, []error) {
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}
	c := Default()
	if path := getenv("APPPASS_CONFIG"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return Config{}, []error{fmt.Errorf("APPPASS_CONFIG: %w", err)}
		}
		if err := yaml.Unmarshal(b, &c); err != nil {
			return Config{}, []error{fmt.Errorf("APPPASS_CONFIG %s: %w", path, err)}
		}
	}
	e := envReader{getenv: getenv}
	c.SlackAppToken = domain.NewSecret(e.str("SLACK_APP_TOKEN", ""))
	c.SlackBotToken = domain.NewSecret(e.str("SLACK_BOT_TOKEN", ""))
	c.SlackAPIURL = e.str("SLACK_API_URL", c.SlackAPIURL)
	c.TenantID = e.str("AZURE_TENANT_ID", c.TenantID)
	c.ClientID = e.str("AZURE_CLIENT_ID", c.ClientID)
	c.ClientSecret = domain.NewSecret(e.str("AZURE_CLIENT_SECRET", ""))
	c.AuthorityHost = e.str("AZURE_AUTHORITY_HOST", c.AuthorityHost)
	c.GraphBaseURL = e.str("GRAPH_BASE_URL", c.GraphBaseURL)
	c.ServicePrincipalID = e.str("APPPASS_SERVICE_PRINCIPAL_ID", c.ServicePrincipalID)
	c.DBPath = e.str("APPPASS_DB", c.DBPath)
	c.AdminGroup = e.str("APPPASS_ADMIN_GROUP", c.AdminGroup)
	c.HelpdeskGroup = e.str("APPPASS_HELPDESK_GROUP", c.HelpdeskGroup)
	c.CreatorsGroup = e.str("APPPASS_CREATORS_GROUP", c.CreatorsGroup)
	c.HelpdeskChannel = e.str("APPPASS_HELPDESK_CHANNEL", c.HelpdeskChannel)
	c.ReportChannel = e.str("APPPASS_REPORT_CHANNEL", c.ReportChannel)
	c.SlackTeam = e.str("APPPASS_SLACK_TEAM", c.SlackTeam)
	c.Workers = e.int("APPPASS_WORKERS", c.Workers)
	c.LogLevel = strings.ToLower(e.str("APPPASS_LOG_LEVEL", c.LogLevel))
	c.MaxPerUser = e.int("APPPASS_MAX_PER_USER", c.MaxPerUser)
	c.WarnAt = e.int("APPPASS_WARN_AT", c.WarnAt)
	c.PasswordLifetime = e.duration("APPPASS_PASSWORD_LIFETIME", c.PasswordLifetime)
	c.RequestTTL = e.duration("APPPASS_REQUEST_TTL", c.RequestTTL)
	c.TimeZone = e.str("APPPASS_TIME_ZONE", c.TimeZone)
	c.OffboardingAction = e.str("APPPASS_OFFBOARDING_ACTION", c.OffboardingAction)
	c.AuditRetention = e.duration("APPPASS_AUDIT_RETENTION", c.AuditRetention)
	loadSMTP(&e, &c.SMTP)
	loadRead(&e, &c.Read)
	loadUpstream(&e, &c.Upstream)
	c.HTTPAddr = e.opt("APPPASS_HTTP_ADDR", c.HTTPAddr)
	problems := e.errs
	if o.databaseOnly {
		// The database verbs read nothing else; the rest of the settings
		// may be absent or belong to another process.
		return c, problems
	}
	problems = append(problems, split(c.validateFor(o))...)
	problems = append(problems, split(c.validate())...)
	if len(problems) > 0 {
		return Config{}, problems
	}
	return c, nil
}

// split undoes errors.Join, so that each problem is one line.
func split(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, split(e)...)
		}
		return out
	}
	return []error{err}
}

// validate returns every problem among the settings Load read, joined.
func (c Config) validate() error {
	var errs []error
	bad := func(cond bool, err error) {
		if cond {
			errs = append(errs, err)
		}
	}
	bad(c.TenantID == "", errors.New("AZURE_TENANT_ID is required (the Entra tenant id)"))
	bad(c.ClientID == "", errors.New("AZURE_CLIENT_ID is required (apppass's own application id)"))
	bad(c.Workers < 1, errors.New("APPPASS_WORKERS must be at least 1"))
	bad(c.LogLevel != "debug" && c.LogLevel != "info" && c.LogLevel != "warn" && c.LogLevel != "error",
		fmt.Errorf("APPPASS_LOG_LEVEL must be debug, info, warn or error, got %q", c.LogLevel))
	bad(c.MaxPerUser < 1, errors.New("APPPASS_MAX_PER_USER must be at least 1"))
	bad(c.MaxPerUser >= 1 && (c.WarnAt < 1 || c.WarnAt > c.MaxPerUser),
		fmt.Errorf("APPPASS_WARN_AT must be between 1 and APPPASS_MAX_PER_USER (%d)", c.MaxPerUser))
	bad(c.PasswordLifetime < 0, errors.New("APPPASS_PASSWORD_LIFETIME must not be negative"))
	bad(c.RequestTTL <= 0, errors.New("APPPASS_REQUEST_TTL must be positive"))
	bad(c.AuditRetention < 24*time.Hour, errors.New("APPPASS_AUDIT_RETENTION must be at least 24h"))
	bad(c.OffboardingAction != "remove" && c.OffboardingAction != "request",
		fmt.Errorf("APPPASS_OFFBOARDING_ACTION must be remove or request, got %q", c.OffboardingAction))
	bad(c.NotifyCooldown <= 0 || c.StaleAfter <= 0 || c.UnusedAfter <= 0 || c.ExpiryWarning <= 0,
		errors.New("notify_cooldown, stale_after, unused_after and expiry_warning must be positive"))
	bad(c.BackgroundInterval <= 0, errors.New("the background interval must be positive"))
	if err := validateSchedules(c.Schedules); err != nil {
		errs = append(errs, err)
	}
	for _, name := range []string{"SLACK_API_URL", "AZURE_AUTHORITY_HOST", "GRAPH_BASE_URL"} {
		raw := map[string]string{"SLACK_API_URL": c.SlackAPIURL, "AZURE_AUTHORITY_HOST": c.AuthorityHost, "GRAPH_BASE_URL": c.GraphBaseURL}[name]
		if u, err := url.Parse(raw); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			errs = append(errs, fmt.Errorf("%s must be an absolute http(s) URL, got %q", name, raw))
		}
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("APPPASS_TIME_ZONE: unknown time zone %q", c.TimeZone))
	}
	if err := validateHTTPAddr(c.HTTPAddr); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.Read.validate(c.SMTP))
	errs = append(errs, c.Upstream.validate())
	errs = append(errs, c.SMTP.validate())
	return errors.Join(errs...)
}

// slackTeamID is a Slack team (T…) or Enterprise Grid organisation (E…) id.
var slackTeamID = regexp.MustCompile(`^[TE][A-Z0-9]+$`)

// ResumeAfter is how long an approval may stay "approving" before the
// background job takes it for one a crash interrupted and finishes it:
// twice the time a command may run.
func (c Config) ResumeAfter() time.Duration { return 2 * c.CommandTimeout }

// Location returns the configured time zone; validate has checked it.
func (c Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// envReader reads typed variables and keeps every parse error.
type envReader struct {
	getenv func(string) string
	errs   []error
}

// fail records a malformed variable.
func (e *envReader) fail(err error) { e.errs = append(e.errs, err) }

func (e *envReader) str(name, def string) string {
	if v := strings.TrimSpace(e.getenv(name)); v != "" {
		return v
	}
	return def
}

// int reads a whole number; a malformed one is reported and the default
// kept, so that it is not reported a second time as out of range.
func (e *envReader) int(name string, def int) int {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.fail(fmt.Errorf("%s must be a whole number, got %q", name, v))
		return def
	}
	return n
}

func (e *envReader) duration(name string, def time.Duration) time.Duration {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.fail(fmt.Errorf("%s must be a duration such as 72h, got %q", name, v))
		return def
	}
	return d
}

// validateSchedules checks that every schedule names a scheduled job and
// is a cron expression robfig/cron can read (five fields or a descriptor
// such as @daily), so that a typo stops start-up with its name.
func validateSchedules(schedules map[string]string) error {
	known := Default().Schedules
	for name, spec := range schedules {
		if _, ok := known[name]; !ok {
			return fmt.Errorf("schedules: unknown job %q (scheduled jobs are %s)", name, strings.Join(slices.Sorted(maps.Keys(known)), ", "))
		}
		if _, err := cron.ParseStandard(strings.TrimSpace(spec)); err != nil {
			return fmt.Errorf("schedules: job %s: %q is not a cron expression: %w", name, spec, err)
		}
	}
	return nil
}
