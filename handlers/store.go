package handlers

import (
	"context"
	"time"

	"github.com/apppass/apppass/domain"
)

// Store is all the state the handlers keep; *store.DB satisfies it. Each
// concept uses only the small interfaces it needs. Unless a method says
// otherwise, its errors are internal (the database failed).
type Store interface {
	Locker
	PasswordsLastUsed(ctx context.Context, ownerID string) (map[string]time.Time, error)
	RemovalRecorder
	UserStore
	ApplicationStore
	CredentialStore
	ReconcileStore
	RevocationStore
	AuditLog
	AuditReader
	ScopeStore
}

// ScopeStore keeps what each password may be used for (SPEC §16), by key
// id; a password without a record is send-only.
type ScopeStore interface {
	SavePasswordScope(ctx context.Context, ownerID, keyID string, s domain.Scope) error
	PasswordScopes(ctx context.Context, ownerID string) (map[string]domain.Scope, error)
}

// UserStore remembers which Slack user is which Entra user.
type UserStore interface {
	// PinUser records that slackID is u on first use and returns the
	// Entra id slackID is pinned to, which a later u never changes.
	PinUser(ctx context.Context, slackID string, u domain.User) (string, error)
}

// ApplicationStore remembers each employee's application, so that a
// retry reuses one Entra does not list yet instead of making a second.
type ApplicationStore interface {
	TrustStore
	// SaveApplication records app as the one its owner uses.
	SaveApplication(ctx context.Context, app domain.Application) error
	// SetServicePrincipal records that the service principal of ownerID's
	// application objectID exists.
	SetServicePrincipal(ctx context.Context, ownerID, objectID string) error
}

// CredentialStore keeps the metadata (never the secret) of every
// credential apppass asks Entra for, from before the request until it is
// delivered, removed or abandoned.
type CredentialStore interface {
	// BeginCredential records an addPassword about to be sent, with the
	// key ids the application held before it, and returns the record id.
	BeginCredential(ctx context.Context, ownerID, appObjectID, name string, knownKeys []string) (int64, error)
	// CredentialIssued records what Entra answered for record id.
	CredentialIssued(ctx context.Context, id int64, p domain.Password, state domain.CredentialState) error
	SetCredentialState(ctx context.Context, id int64, state domain.CredentialState) error
	// CredentialRemoved records that p was removed from ownerID's
	// application, so listings hide it while Graph still lists it.
	CredentialRemoved(ctx context.Context, ownerID, appObjectID string, p domain.Password) error
	// RecentCredentials returns ownerID's records changed since since.
	RecentCredentials(ctx context.Context, ownerID string, since time.Time) ([]domain.CredentialRecord, error)
}

// ReconcileStore is what the reconciler reads and writes.
type ReconcileStore interface {
	// CredentialsToReconcile returns records still pending or issued that
	// were begun at or before olderThan.
	CredentialsToReconcile(ctx context.Context, olderThan time.Time) ([]domain.CredentialRecord, error)
	RecentCredentials(ctx context.Context, ownerID string, since time.Time) ([]domain.CredentialRecord, error)
	SetCredentialState(ctx context.Context, id int64, state domain.CredentialState) error
}

// RevocationStore keeps revocation requests and their outcomes.
type RevocationStore interface {
	// CreateRevocation stores r and sets its ID, status and creation time.
	CreateRevocation(ctx context.Context, r *domain.RevocationRequest) error
	// Revocation returns a KindNotFound error when there is none.
	Revocation(ctx context.Context, id int64) (domain.RevocationRequest, error)
	// Revocations returns the requests in any of statuses.
	Revocations(ctx context.Context, statuses ...domain.RevocationStatus) ([]domain.RevocationRequest, error)
	// ClaimRevocation is a compare-and-set: it reports whether this caller
	// moved the request from one of from to to.
	ClaimRevocation(ctx context.Context, id int64, to domain.RevocationStatus, deciderSlack, deciderID, denyReason string, from ...domain.RevocationStatus) (bool, error)
	SetRevocationStatus(ctx context.Context, id int64, status domain.RevocationStatus) error
	SetRevocationOutcome(ctx context.Context, id int64, keyID, outcome string) error
	// AddRevocationItems adds passwords to request id.
	AddRevocationItems(ctx context.Context, id int64, ps []domain.Password) error
	SetRevocationMessage(ctx context.Context, id int64, channel, ts string) error
	// ExpireRevocations marks pending requests past their time as expired
	// and returns them.
	ExpireRevocations(ctx context.Context, now time.Time) ([]domain.RevocationRequest, error)
	// ClaimResume makes holder the one process to resume approving
	// request id until at+ttl, unless another holds a live claim; it
	// reports whether holder won.
	ClaimResume(ctx context.Context, id int64, holder string, at time.Time, ttl time.Duration) (bool, error)
	CredentialRemoved(ctx context.Context, ownerID, appObjectID string, p domain.Password) error
	ApplicationStore
}

// AuditLog appends to the audit trail.
type AuditLog interface {
	Audit(ctx context.Context, e domain.AuditEvent) error
}

// AuditReader reads a person's audit trail, newest first.
type AuditReader interface {
	AuditFor(ctx context.Context, subjectID string, limit int) ([]domain.AuditEvent, error)
}
