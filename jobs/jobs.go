// Package jobs runs apppass's scheduled hygiene jobs (SPEC §7): it warns
// people who near the per-person limit, who hold stale app passwords or
// passwords about to expire, and posts a weekly hygiene report.
//
// Each job makes one streaming pass over every apppass application in
// Entra, so memory grows with the people to notify, not with the tenant.
// People are found in Slack through the store's mapping first, then
// through one paged users.list per run. A notification is recorded right
// after it is sent and checked right before, so a run that dies half way
// sends nobody the same warning twice when it runs again.
//
// The package knows neither Slack, Graph nor SQL: it declares the small
// interfaces it needs (Scanner, Slack, Store), which *graphclient.Client,
// *bot.JobSlack and *store.DB satisfy.
package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/apppass/apppass/domain"
)

// The jobs' names, as used in schedules, `apppass job run NAME` and the
// store.
const (
	LimitWarning  = "limit-warning"
	StaleWarning  = "stale-warning"
	ExpiryWarning = "expiry-warning"
	HygieneReport = "hygiene-report"
)

// Names lists every job in the order `apppass job list` shows them.
func Names() []string {
	return []string{LimitWarning, StaleWarning, ExpiryWarning, HygieneReport}
}

// DefaultSchedules returns each job's cron expression (SPEC §7), read in
// Config.Location.
func DefaultSchedules() map[string]string {
	return map[string]string{
		LimitWarning:  "0 9 * * 1-5", // weekdays 09:00
		StaleWarning:  "0 9 * * 1",   // Mondays 09:00
		ExpiryWarning: "0 9 * * *",   // daily 09:00
		HygieneReport: "0 8 * * 1",   // Mondays 08:00
	}
}

// Config is the jobs' settings. Zero values take SPEC defaults.
type Config struct {
	MaxPerUser int // 40
	WarnAt     int // 35: limit-warning at this many or more
	// NotifyCooldown is the least time between two limit (or two stale)
	// warnings to one person: 7 days.
	NotifyCooldown time.Duration
	StaleAfter     time.Duration // 180 days: older is stale
	UnusedAfter    time.Duration // 90 days without sign-in is stale, when sign-in data exists
	ExpiryWarning  time.Duration // 14 days: warn of expiry this far ahead, inclusive
	// Location is the time zone of the schedules; nil means UTC.
	Location *time.Location
	// Schedules overrides DefaultSchedules by job name.
	Schedules map[string]string
	// ReportChannel is the Slack channel id of the hygiene report; without
	// it the report is not scheduled and `job run` of it fails.
	ReportChannel string
	// Instance names this process in job leases and runs, e.g. hostname:pid.
	Instance string
}

// Deps are the jobs' collaborators.
type Deps struct {
	Entra Scanner
	Slack Slack
	Store Store
	Now   func() time.Time // nil: time.Now
	Log   *slog.Logger     // nil: slog.Default()
}

// Scanner reads the apppass estate from Entra. *graphclient.Client
// satisfies it.
type Scanner interface {
	// ScanHolders calls fn with every apppass application and its owner's
	// UPN ("" when unknown), streaming page by page.
	ScanHolders(ctx context.Context, fn func(app domain.Application, upn string) error) error
	// CredentialSignIns calls fn with the last sign-in of every credential
	// that has one. available is false, with no error, where the tenant
	// has no sign-in data.
	CredentialSignIns(ctx context.Context, fn func(keyID string, last time.Time) error) (available bool, err error)
}

// Slack reaches people and channels. *bot.JobSlack satisfies it.
type Slack interface {
	// SlackUsersByEmail returns the Slack user id of every active person
	// in the workspace by lower-cased email, from one paged users.list.
	SlackUsersByEmail(ctx context.Context) (map[string]string, error)
	// SendNotice sends n to Slack user slackID as a direct message. An
	// error means it was not delivered.
	SendNotice(ctx context.Context, slackID string, n domain.Notice) error
	// PostReport posts r to channel.
	PostReport(ctx context.Context, channel string, r domain.Report) error
}

// Store keeps job runs, leases, notifications sent and report snapshots.
// *store.DB satisfies it.
type Store interface {
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

	// LastReportSnapshot returns the figures of the previous report and
	// when it was posted; a zero time when there was none.
	LastReportSnapshot(ctx context.Context) (time.Time, domain.Counts, error)
	// SaveReportSnapshot records the figures of a report posted at at.
	SaveReportSnapshot(ctx context.Context, at time.Time, figures domain.Counts) error
	// AuditCounts counts app passwords created, deleted and revoked since
	// since, from the audit trail.
	AuditCounts(ctx context.Context, since time.Time) (created, deleted, revoked int, err error)
	// PendingRevocations counts revocation requests awaiting a decision.
	PendingRevocations(ctx context.Context) (int, error)
}
