// Package jobs runs all of apppass's scheduled and background work
// through one Runner (runner.go), under a lease per job and with every run
// recorded in the store:
//
//   - the hygiene jobs of SPEC §7, on cron schedules: limit, stale and
//     expiry warnings (limit.go, stale.go, expiry.go, notify.go) and the
//     weekly hygiene report (report.go);
//   - offboarding (offboarding.go), every 10 minutes: the users delta,
//     and the app passwords of everyone disabled or deleted;
//   - retention (retention.go), daily: pruning records past
//     AuditRetention;
//   - the background jobs, every BackgroundInterval and at start-up
//     (background.go): reconciling credentials nobody received,
//     expiring revocation requests and finishing approvals a crash
//     interrupted, and telling the helpdesk of applications apppass will
//     not use (look-alikes, duplicates; findings.go).
//
// Each hygiene job makes one streaming pass over every apppass
// application in Entra (scan.go), so memory grows with the people to
// notify, not with the tenant; applications that are not apppass's
// (Trust) are left out. People are found in Slack through the
// store's mapping first, then through one paged users.list per run
// (people.go). A notification is recorded right after it is sent and
// checked right before, so a run that dies half way sends nobody the same
// warning twice when it runs again.
//
// The package knows neither Slack, Graph nor SQL: it declares the small
// interfaces it needs (Scanner, Slack, one store per concern such as
// RunStore and NoticeStore, Reconciler, Revocations), which
// *graphclient.Client, *bot.Slack, *store.DB and the handlers satisfy. It reuses the handlers' limit rules (handlers.Limits).
package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
)

// The jobs' names, as used in schedules, `apppass job run NAME` and the
// store.
const (
	LimitWarning  = "limit-warning"
	StaleWarning  = "stale-warning"
	ExpiryWarning = "expiry-warning"
	HygieneReport = "hygiene-report"
	Offboarding   = "offboarding"
	Retention     = "retention"

	ReconcileCredentials = "reconcile-credentials"
	RevocationUpkeep     = "revocation-upkeep"
	ApplicationAlerts    = "application-alerts"
)

// definition is one job: its name, whether it is a background job (run
// every BackgroundInterval and at start-up) rather than a scheduled one
// (run on its cron schedule), and what it does. Adding a job is adding a
// definition.
type definition struct {
	name       string
	background bool
	run        func(r *Runner, ctx context.Context) (domain.Counts, error)
}

// definitions are every job, in the order `apppass job list` shows them.
func definitions() []definition {
	return []definition{
		{name: LimitWarning, run: (*Runner).limitWarningJob},
		{name: StaleWarning, run: (*Runner).staleWarningJob},
		{name: ExpiryWarning, run: (*Runner).expiryWarningJob},
		{name: HygieneReport, run: (*Runner).hygieneReportJob},
		{name: Offboarding, run: (*Runner).offboardingJob},
		{name: Retention, run: (*Runner).retentionJob},
		{name: ReconcileCredentials, background: true, run: (*Runner).reconcileCredentialsJob},
		{name: RevocationUpkeep, background: true, run: (*Runner).revocationUpkeepJob},
		{name: ApplicationAlerts, background: true, run: (*Runner).applicationAlertsJob},
	}
}

// Names lists every job in the order `apppass job list` shows them.
func Names() []string {
	var out []string
	for _, d := range definitions() {
		out = append(out, d.name)
	}
	return out
}

// Config is the jobs' settings. It has no defaults of its own:
// config.Default holds them all.
type Config struct {
	Limits handlers.Limits
	// NotifyCooldown is the least time between two limit (or two stale)
	// warnings to one person.
	NotifyCooldown time.Duration
	StaleAfter     time.Duration // older is stale
	UnusedAfter    time.Duration // without sign-in for this long is stale, when sign-in data exists
	ExpiryWarning  time.Duration // warn of expiry this far ahead, inclusive
	// Location is the time zone of the schedules; nil means UTC.
	Location *time.Location
	// Schedules holds the cron expression of every scheduled job, by name.
	Schedules map[string]string
	// BackgroundInterval is how often the background jobs run.
	BackgroundInterval time.Duration
	// ReportChannel is the Slack channel id of the hygiene report; without
	// it the report is not scheduled and `job run` of it fails.
	ReportChannel string
	// Instance names this process in job leases and runs, e.g.
	// hostname:pid.
	Instance string
	// OffboardingAction is handlers.OffboardRemove or
	// handlers.OffboardRequest.
	OffboardingAction string
	// AuditRetention is how long the audit trail, notifications sent, job
	// runs and gateway removal records are kept.
	AuditRetention time.Duration
	// GatewayLastUse: the mail gateway runs, so its last-use records count
	// as last-use data (the "unused" rule applies without Entra P1/P2).
	GatewayLastUse bool
}

// Deps are the jobs' collaborators.
type Deps struct {
	Entra       Scanner
	Trust       Trust
	Slack       Slack
	Reconciler  Reconciler
	Revocations Revocations
	// The stores, by concern; each job reaches only its own.
	Runs     RunStore
	Notices  NoticeStore
	LastUse  LastUseStore
	Reports  ReportStore
	Findings FindingStore
	Prune    Pruner
	// Directory, DeltaLinks and Offboarding serve the offboarding job;
	// without them it is not scheduled.
	Directory   Directory
	DeltaLinks  DeltaLinkStore
	Offboarding Offboarder
	// Observer, when set, is told of every finished run (metrics).
	Observer Observer
	Now      func() time.Time // nil: time.Now
	Log      *slog.Logger     // nil: slog.Default()
}

// Observer is told how each job run ended; *metrics.Metrics satisfies it.
type Observer interface {
	JobRun(job, outcome string, took time.Duration)
}

// Trust decides which applications apppass acts on; *handlers.Trust
// satisfies it.
type Trust interface {
	// Check returns the verdict on an application Entra lists (owner from
	// its tag); only handlers.Trusted ones are apppass's.
	Check(ctx context.Context, app domain.Application) (handlers.Verdict, error)
	// Settled reports whether the store already records app, so that
	// Check can decide about it without asking Entra for its owners.
	Settled(ctx context.Context, app domain.Application) (bool, error)
}

// Reconciler removes credentials nobody received; *handlers.Reconciler
// satisfies it.
type Reconciler interface {
	// Reconcile looks at every open credential record once and returns
	// its tallies; an error when some records could not be handled now.
	Reconcile(ctx context.Context) (domain.Counts, error)
}

// Revocations keeps revocation requests moving without anyone clicking;
// *handlers.Revocations satisfies it.
type Revocations interface {
	// Expire marks requests past their time as expired and returns them.
	Expire(ctx context.Context) ([]domain.RevocationRequest, error)
	// ResumeApprovals finishes approvals a crash interrupted and returns
	// them.
	ResumeApprovals(ctx context.Context) ([]domain.RevocationRequest, error)
	// Told records that the owners of request id's passwords keyIDs were
	// told of their removal.
	Told(ctx context.Context, id int64, keyIDs []string) error
}

// Scanner reads the apppass estate from Entra. *graphclient.Client
// satisfies it.
type Scanner interface {
	// ScanHolders calls fn with every apppass application and its owner's
	// UPN ("" when unknown), streaming page by page. Before each page it
	// asks withOwners (nil: never) whether the page should bring the
	// applications' owners (OwnersKnown, OwnedByApppass).
	ScanHolders(ctx context.Context, withOwners func() bool, fn func(app domain.Application, upn string) error) error
	// CredentialSignIns calls fn with the last sign-in of every credential
	// that has one. available is false, with no error, where the tenant
	// has no sign-in data.
	CredentialSignIns(ctx context.Context, fn func(keyID string, last time.Time) error) (available bool, err error)
}

// Slack reaches people and channels. *bot.Slack satisfies it.
type Slack interface {
	// SlackUsersByEmail returns the Slack user id of every active person
	// in the workspace by lower-cased email, from one paged users.list.
	SlackUsersByEmail(ctx context.Context) (map[string]string, error)
	// SendNotice sends n to Slack user slackID as a direct message. An
	// error means it was not delivered.
	SendNotice(ctx context.Context, slackID string, n domain.Notice) error
	// PostReport posts r to channel.
	PostReport(ctx context.Context, channel string, r domain.Report) error
	// PublishRevocation shows everyone concerned how req now stands, and
	// returns the removed passwords whose owners it told (to be recorded
	// with Revocations.Told); failures are the adapter's to log.
	PublishRevocation(ctx context.Context, req domain.RevocationRequest) (told []string)
	// AlertHelpdesk posts text to the helpdesk channel; an error when it
	// was not posted.
	AlertHelpdesk(ctx context.Context, text string) error
	// PostRevocationRequest posts a new request to the helpdesk channel
	// with its Approve and Deny buttons and returns where it is.
	PostRevocationRequest(ctx context.Context, req domain.RevocationRequest) (channel, ts string, err error)
}

// The jobs' stores, one per concern, so that each job reaches only what it
// calls; *store.DB satisfies them all.

// RunStore keeps the Runner's leases and run records.
type RunStore interface {
	// AcquireLease makes instance the only runner of job until at+ttl, if
	// no other holds an unexpired lease on it at at. It reports whether
	// instance got it.
	AcquireLease(ctx context.Context, job, instance string, at time.Time, ttl time.Duration) (bool, error)
	// RenewLease extends instance's lease to at+ttl; false when instance no
	// longer holds it.
	RenewLease(ctx context.Context, job, instance string, at time.Time, ttl time.Duration) (bool, error)
	// ReleaseLease gives up instance's lease on job, if it still has it.
	ReleaseLease(ctx context.Context, job, instance string) error

	// StartJobRun records that a run of job began at at and returns its id.
	StartJobRun(ctx context.Context, job, instance string, at time.Time) (int64, error)
	// FinishJobRun records how run r.ID ended.
	FinishJobRun(ctx context.Context, r domain.JobRun) error
	// LastJobRun returns the latest run of job; false when it never ran.
	LastJobRun(ctx context.Context, job string) (domain.JobRun, bool, error)
}

// NoticeStore is the warning jobs' memory: who uses apppass, and who was
// told what when.
type NoticeStore interface {
	// KnownPeople returns what the store remembers of those of entraIDs
	// who have used apppass, by Entra id.
	KnownPeople(ctx context.Context, entraIDs []string) (map[string]domain.KnownPerson, error)
	// LastNotified returns when person last got a notice of kind; zero
	// when never.
	LastNotified(ctx context.Context, kind domain.NoticeKind, person string) (time.Time, error)
	// NotifiedKeys returns the keys person was already notified of, for
	// kind.
	NotifiedKeys(ctx context.Context, kind domain.NoticeKind, person string) (map[string]bool, error)
	// RecordNotification records that person got a notice of kind about
	// keys at at.
	RecordNotification(ctx context.Context, kind domain.NoticeKind, person string, keys []string, at time.Time) error
}

// LastUseStore is the mail gateway's record of use, which the scan of the
// warning jobs and the report adds to Entra's sign-in data.
type LastUseStore interface {
	// PasswordsLastUsed returns when each of ownerID's passwords last
	// opened the mail gateway, by key id.
	PasswordsLastUsed(ctx context.Context, ownerID string) (map[string]time.Time, error)
}

// ReportStore gives the hygiene report its figures.
type ReportStore interface {
	// LastReportSnapshot returns the figures of the previous report and
	// when it was posted; a zero time when there was none.
	LastReportSnapshot(ctx context.Context) (time.Time, domain.Counts, error)
	// SaveReportSnapshot records the figures of a report posted at at.
	SaveReportSnapshot(ctx context.Context, at time.Time, figures domain.Counts) error
	// AuditCounts counts app passwords created, deleted and revoked since
	// since, from the audit trail.
	AuditCounts(ctx context.Context, since time.Time) (created, deleted, revoked int, err error)
	// OffboardedSince counts the people the offboarding job acted on
	// since since.
	OffboardedSince(ctx context.Context, since time.Time) (int, error)
	// PendingRevocations counts revocation requests awaiting a decision.
	PendingRevocations(ctx context.Context) (int, error)
	// FindingCounts counts the applications found, by kind.
	FindingCounts(ctx context.Context) (map[string]int, error)
}

// FindingStore is the application-alerts job's store.
type FindingStore interface {
	// UnreportedFindings returns the applications found not to be used
	// (look-alikes, duplicates) that the helpdesk has not been told of.
	UnreportedFindings(ctx context.Context) ([]domain.ApplicationFinding, error)
	// FindingReported records that the helpdesk was told of objectID.
	FindingReported(ctx context.Context, objectID string, at time.Time) error
}

// DeltaLinkStore keeps the offboarding job's place in the users delta.
type DeltaLinkStore interface {
	// DeltaLink returns the delta link stored under name; "" when none.
	DeltaLink(ctx context.Context, name string) (string, error)
	// SaveDeltaLink stores the delta link for the next run.
	SaveDeltaLink(ctx context.Context, name, link string) error
}

// Pruner is the retention job's store.
type Pruner interface {
	// Prune deletes audit events, notifications and job runs older than
	// before and returns how many, by table.
	Prune(ctx context.Context, before time.Time) (domain.Counts, error)
}
