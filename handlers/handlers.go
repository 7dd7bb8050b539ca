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
// It knows neither Slack, Graph nor SQL. Each concept declares the small
// interfaces it needs (store.go, entra.go), which graphclient and store
// satisfy. Operations never call back into their caller: they return what
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

// Deps are the handlers' collaborators: *graphclient.Client is Directory
// and Entra, *store.DB is Store.
type Deps struct {
	Directory Directory
	Entra     Entra
	Store     Store
	Log       *slog.Logger // nil: slog.Default()
}

// Handlers are apppass's operations, one value per concept, sharing the
// per-person locks (the store's, which hold across replicas) that keep two
// fast clicks from both passing a check.
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

// New wires the handlers over deps.
func New(deps Deps, cfg Config) *Handlers {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Instance == "" {
		cfg.Instance = "apppass"
	}
	log := deps.Log
	if log == nil {
		log = slog.Default()
	}
	locks := deps.Store
	audit := auditor{store: deps.Store, log: log}
	trust := NewTrust(deps.Entra, deps.Store)
	apps := applications{entra: deps.Entra, store: deps.Store, trust: trust, log: log}
	holdings := holdings{apps: apps, entra: deps.Entra, store: deps.Store, cfg: cfg}
	id := &Identity{dir: deps.Directory, store: deps.Store, cfg: cfg, log: log, unknown: unknownPeople{now: cfg.Now}}
	rec := &Reconciler{entra: deps.Entra, store: deps.Store, audit: audit, locks: locks, cfg: cfg, log: log}
	passwords := &Passwords{id: id, entra: deps.Entra, store: deps.Store, audit: audit, locks: locks, apps: apps,
		holdings: holdings, reconciler: rec, cfg: cfg, log: log}
	return &Handlers{
		Trust:     trust,
		Identity:  id,
		Passwords: passwords,
		Revocations: &Revocations{id: id, entra: deps.Entra, store: deps.Store, offboard: deps.Store, audit: audit, locks: locks,
			apps: apps, holdings: holdings, cfg: cfg, log: log},
		Reconciler: rec,
		Home:       &Home{passwords: passwords, id: id, store: deps.Store, cfg: cfg, log: log},
	}
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
