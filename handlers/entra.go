package handlers

import (
	"context"
	"time"

	"github.com/apppass/apppass/domain"
)

// Entra's method groups, as the store's (store.go): each method is
// declared once; each service's Entra (Directory for Identity,
// OwnershipChecker for Trust, ReconcileEntra, PasswordEntra,
// RevocationEntra) is what that service calls. *graphclient.Client
// satisfies them all. Their errors are KindUpstream unless said otherwise.

// Directory is Identity's Entra: it finds employees.
type Directory interface {
	// FindUser returns the user whose UPN or mail is email; a KindNotFound
	// error when there is none, KindUpstream when Entra fails.
	// It may answer from a cache.
	FindUser(ctx context.Context, email string) (domain.User, error)
	// FreshUser returns user id as Entra answers now, never from a cache;
	// KindNotFound when the user is gone, KindUpstream when Entra fails.
	FreshUser(ctx context.Context, id string) (domain.User, error)
	// MemberGroups returns which of groupIDs userID belongs to,
	// transitively, as Entra answers now; KindUpstream when Entra fails.
	MemberGroups(ctx context.Context, userID string, groupIDs []string) ([]string, error)
}

// ApplicationReader lists the applications tagged for an employee in
// Entra. Which of them apppass may use is Trust's decision.
type ApplicationReader interface {
	// FindApplications returns every application tagged for ownerID,
	// oldest first; it may answer from a cache that apppass's own writes
	// keep current. KindUpstream when Entra fails.
	FindApplications(ctx context.Context, ownerID string) ([]domain.Application, error)
}

// FreshApplicationReader lists applications without any cache, for
// decisions another replica's writes may have changed.
type FreshApplicationReader interface {
	// FreshApplications is FindApplications without any cache.
	FreshApplications(ctx context.Context, ownerID string) ([]domain.Application, error)
}

// CredentialRemover removes password credentials.
type CredentialRemover interface {
	// RemovePassword removes credential keyID from app. It returns a
	// KindNotFound error when keyID is gone, KindUpstream when Entra fails.
	RemovePassword(ctx context.Context, app domain.Application, keyID string) error
}

// ReconcileEntra is the Reconciler's Entra.
type ReconcileEntra interface {
	FreshApplicationReader
	CredentialRemover
}

// RevocationEntra is the Revocations' Entra.
type RevocationEntra interface {
	ApplicationReader
	FreshApplicationReader
	CredentialRemover
}

// PasswordEntra is the Passwords' Entra: employees' applications and
// their password credentials.
type PasswordEntra interface {
	ApplicationReader
	FreshApplicationReader
	CredentialRemover
	// CreateApplication creates owner's application and its service
	// principal. It returns a KindLimit error when Entra's directory
	// object quota is exhausted. The application it returns may carry an
	// ObjectID even with an error (the service principal failed; then
	// HasServicePrincipal is false).
	CreateApplication(ctx context.Context, owner domain.User) (domain.Application, error)
	// EnsureServicePrincipal creates the service principal of the
	// application with client id appID unless it exists, waiting out
	// Entra's replication of a new application.
	EnsureServicePrincipal(ctx context.Context, appID string) error
	// AddPassword adds a password credential called name to app. It is not
	// idempotent: after an error a credential may exist nonetheless.
	AddPassword(ctx context.Context, app domain.Application, name string, expires time.Time) (domain.Password, domain.Secret, error)
	// LastUsed returns the last sign-in per key id of the application with
	// client id appID; empty where unknown.
	LastUsed(ctx context.Context, appID string) (map[string]time.Time, error)
	// TenantID is the tenant a device signs in to.
	TenantID() string
	// CredentialPolicy reads the tenant's default app management policy,
	// to say what to change when it refuses a password's lifetime.
	CredentialPolicy(ctx context.Context) (domain.CredentialPolicy, error)
}
