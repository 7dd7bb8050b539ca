// Package handlers is what apppass does for each command, button and
// background task, by concept:
//
//   - identity (identity.go): who a Slack user is in Entra, and their roles;
//   - passwords (passwords.go, create.go, listing.go, profile.go): list,
//     create, delete and look up app passwords within the limit (limits.go);
//   - revocations (revocations.go, revocation_upkeep.go): the two-person
//     rule for revoking someone else's app passwords;
//   - reconciliation (reconcile.go): removing credentials nobody received;
//   - the Home tab (home.go): what a person sees there, and whose tab a
//     change alters.
//
// It knows neither Slack, Graph nor SQL. Each concept's constructor takes
// only the interfaces it calls (store.go, entra.go), which graphclient and
// store satisfy; the wiring calls each constructor. Operations never call back into their caller: they return what
// is left to do (an Issued password to deliver, Effects such as helpdesk
// alerts, a revocation request to publish) and the caller, bot or jobs,
// carries it out.
package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/apppass/apppass/domain"
)

// maxAuditText bounds user-supplied text kept in the audit trail or quoted
// back.
const maxAuditText = 100

// Config holds the policy the handlers enforce. It has no defaults of its
// own: config.Default holds them all.
type Config struct {
	Limits           Limits
	AdminGroup       string        // Entra group whose members may request revocations
	HelpdeskGroup    string        // Entra group whose members decide them and may show
	CreatorsGroup    string        // Entra group whose members may create; empty: everyone
	RequestTTL       time.Duration // revocation requests expire after this
	PasswordLifetime time.Duration // zero: Entra's default
	// LagWindow is how long apppass trusts its own record of a credential
	// it created or removed over Graph's listing, which can lag.
	LagWindow time.Duration
	// ReconcileAfter is how old an open credential record must be before
	// the reconciler takes it over from the request that began it.
	ReconcileAfter time.Duration
	// GiveUpAfter is how long the reconciler looks for a credential that
	// an ambiguous addPassword may have created.
	GiveUpAfter time.Duration
	// ResumeAfter is how long an approval may stay "approving" before it
	// is taken for one a crash interrupted and finished.
	ResumeAfter time.Duration
	// Instance names this process in resume claims, e.g. host:pid.
	Instance string
	Now      func() time.Time // nil: time.Now
}

// Handlers are apppass's operations, one value per concept, sharing the
// per-person locks (the store's, which hold across replicas) that keep two
// fast clicks from both passing a check. The wiring builds each with its
// constructor (NewIdentity, NewTrust, NewReconciler, NewPasswords,
// NewRevocations, NewHome), giving each only what it calls.
type Handlers struct {
	Identity    *Identity
	Passwords   *Passwords
	Revocations *Revocations
	Reconciler  *Reconciler
	Home        *Home
	// Trust decides which applications apppass acts on; the jobs use it
	// too.
	Trust *Trust
}

// withDefaults fills in what a Config left zero that has an obvious
// value: the clock and the instance name.
func (c Config) withDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Instance == "" {
		c.Instance = "apppass"
	}
	return c
}

// logOrDefault is log, or slog.Default() when it is nil.
func logOrDefault(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.Default()
	}
	return log
}

// Effects are what an operation leaves its caller to carry out once it
// returns, so that handlers never calls back into Slack. The zero value
// asks for nothing.
type Effects struct {
	// Alerts are for the helpdesk channel: trouble no single person can
	// fix, such as Entra's directory object quota.
	Alerts []string
	// RefreshHome are the Slack users whose Home tab the change alters
	// (home.go: OwnChange, RevocationChange), to publish again.
	RefreshHome []string
}

// auditor writes the audit trail. Losing an audit line is logged loudly
// rather than failing the person's request: the action itself happened.
type auditor struct {
	store AuditLog
	log   *slog.Logger
}

func (a auditor) record(ctx context.Context, e domain.AuditEvent) {
	if err := a.store.Audit(ctx, e); err != nil {
		a.log.ErrorContext(ctx, "audit event not recorded", "action", e.Action, "subject", e.SubjectID, "err", err)
	}
}
