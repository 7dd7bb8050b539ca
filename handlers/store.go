package handlers

import (
	"context"
	"time"

	"github.com/apppass/apppass/domain"
)

// The store's method groups. Each method is declared once, in one small
// group; each service's store (UserStore for Identity, TrustStore,
// ReconcileStore, PasswordStore, RevocationStore, RevocationLister for
// Home) is the groups and methods that service calls, and nothing more.
// *store.DB satisfies them all. Unless a method says otherwise, its
// errors are internal (the database failed).

// PersonLocker serialises work per person across every apppass process
// sharing the database: *store.DB satisfies it (PostgreSQL advisory locks;
// within the process on SQLite). The lock waits until held or ctx ends;
// unlock must be called once.
type PersonLocker interface {
	// LockPerson is taken around reading a person's passwords and creating
	// or deleting one, so that two fast clicks, or two replicas, cannot
	// both pass the limit or the name check; the reconciler and the
	// revocations take it too.
	LockPerson(ctx context.Context, entraID string) (unlock func(), err error)
}

// ApplicationLookup reads the application recorded for a person.
type ApplicationLookup interface {
	// Application returns the application recorded for ownerID;
	// KindNotFound when none is.
	Application(ctx context.Context, ownerID string) (domain.Application, error)
}

// CredentialHistory reads the metadata (never the secret) of the
// credentials apppass asked Entra for.
type CredentialHistory interface {
	// RecentCredentials returns ownerID's records changed since since.
	RecentCredentials(ctx context.Context, ownerID string, since time.Time) ([]domain.CredentialRecord, error)
}

// CredentialStates moves a credential record on.
type CredentialStates interface {
	SetCredentialState(ctx context.Context, id int64, state domain.CredentialState) error
}

// CredentialRemovals records removals apppass made.
type CredentialRemovals interface {
	// CredentialRemoved records that p was removed from ownerID's
	// application, so listings hide it while Graph still lists it.
	CredentialRemoved(ctx context.Context, ownerID, appObjectID string, p domain.Password) error
}

// RevocationLister reads revocation requests.
type RevocationLister interface {
	// Revocations returns the requests in any of statuses.
	Revocations(ctx context.Context, statuses ...domain.RevocationStatus) ([]domain.RevocationRequest, error)
}

// AuditLog appends to the audit trail.
type AuditLog interface {
	Audit(ctx context.Context, e domain.AuditEvent) error
}

// AuditReader reads a person's audit trail, newest first.
type AuditReader interface {
	AuditFor(ctx context.Context, subjectID string, limit int) ([]domain.AuditEvent, error)
}

// UserStore is Identity's store: it remembers which Slack user is which
// Entra user.
type UserStore interface {
	// PinUser records that slackID is u on first use and returns the
	// Entra id slackID is pinned to, which a later u never changes.
	PinUser(ctx context.Context, slackID string, u domain.User) (string, error)
}

// ReconcileStore is the Reconciler's store.
type ReconcileStore interface {
	PersonLocker
	CredentialHistory
	CredentialStates
	AuditLog
	// CredentialsToReconcile returns records still pending or issued that
	// were begun at or before olderThan.
	CredentialsToReconcile(ctx context.Context, olderThan time.Time) ([]domain.CredentialRecord, error)
}

// PasswordStore is the Passwords' store: each employee's application, so
// that a retry reuses one Entra does not list yet instead of making a
// second, and the metadata of every credential apppass asks Entra for,
// from before the request until it is delivered, removed or abandoned.
type PasswordStore interface {
	PersonLocker
	ScopeStore
	ApplicationLookup
	CredentialHistory
	CredentialStates
	CredentialRemovals
	RevocationLister
	AuditLog
	AuditReader
	// LockApplicationCreation is taken, inside LockPerson, while finding
	// or creating a person's application, so that two replicas cannot both
	// create one. As LockPerson, it waits until held or ctx ends.
	LockApplicationCreation(ctx context.Context, entraID string) (unlock func(), err error)
	// SaveApplication records app as the one its owner uses.
	SaveApplication(ctx context.Context, app domain.Application) error
	// SetServicePrincipal records that the service principal of ownerID's
	// application objectID exists.
	SetServicePrincipal(ctx context.Context, ownerID, objectID string) error
	// BeginCredential records an addPassword about to be sent, with the
	// key ids the application held before it, and returns the record id.
	BeginCredential(ctx context.Context, ownerID, appObjectID, name string, knownKeys []string) (int64, error)
	// CredentialIssued records what Entra answered for record id.
	CredentialIssued(ctx context.Context, id int64, p domain.Password, state domain.CredentialState) error
	// PasswordsLastUsed returns when each of ownerID's passwords last
	// opened the mail gateway, by key id.
	PasswordsLastUsed(ctx context.Context, ownerID string) (map[string]time.Time, error)
	// ClaimAlert reports whether this caller, of all replicas, sends the
	// helpdesk alert key now: true unless one was claimed at or after
	// since.
	ClaimAlert(ctx context.Context, key string, at, since time.Time) (bool, error)
}

// RevocationStore is the Revocations' store: revocation requests and
// their outcomes, and the removals the mail gateway must honour.
type RevocationStore interface {
	PersonLocker
	ApplicationLookup
	CredentialHistory
	CredentialRemovals
	RevocationLister
	AuditLog
	RemovalRecorder
	// CreateRevocation stores r and sets its ID, status and creation time.
	CreateRevocation(ctx context.Context, r *domain.RevocationRequest) error
	// Revocation returns a KindNotFound error when there is none.
	Revocation(ctx context.Context, id int64) (domain.RevocationRequest, error)
	// ClaimRevocation is a compare-and-set: it reports whether this caller
	// moved the request from one of from to to.
	ClaimRevocation(ctx context.Context, id int64, to domain.RevocationStatus, deciderSlack, deciderID, denyReason string, from ...domain.RevocationStatus) (bool, error)
	SetRevocationStatus(ctx context.Context, id int64, status domain.RevocationStatus) error
	SetRevocationOutcome(ctx context.Context, id int64, keyID, outcome string) error
	// SetRevocationNotified records that the owners of keyIDs were told.
	SetRevocationNotified(ctx context.Context, id int64, keyIDs []string) error
	// AddRevocationItems adds items to request id.
	AddRevocationItems(ctx context.Context, id int64, items []domain.RevocationItem) error
	SetRevocationMessage(ctx context.Context, id int64, channel, ts string) error
	// ExpireRevocations marks pending requests past their time as expired
	// and returns them.
	ExpireRevocations(ctx context.Context, now time.Time) ([]domain.RevocationRequest, error)
	// ClaimResume makes holder the one process to resume approving
	// request id until at+ttl, unless another holds a live claim; it
	// reports whether holder won.
	ClaimResume(ctx context.Context, id int64, holder string, at time.Time, ttl time.Duration) (bool, error)
}

// ScopeStore keeps what each password may be used for (SPEC §16), by key
// id; a password without a record is send-only.
type ScopeStore interface {
	SavePasswordScope(ctx context.Context, ownerID, keyID string, s domain.Scope) error
	PasswordScopes(ctx context.Context, ownerID string) (map[string]domain.Scope, error)
}
