package domain

import "time"

// CredentialState is where a credential apppass asked for stands.
type CredentialState string

// The credential states. Pending and Issued are open: a secret may
// exist that nobody holds, and the reconciler must look at them.
const (
	CredentialPending   CredentialState = "pending"   // addPassword sent; outcome unknown
	CredentialIssued    CredentialState = "issued"    // Entra answered; not yet shown
	CredentialDelivered CredentialState = "delivered" // shown once to its owner
	CredentialRemoved   CredentialState = "removed"   // deleted by its owner or a revocation
	CredentialAbandoned CredentialState = "abandoned" // never shown; removed or never created
)

// CredentialRecord is the metadata apppass keeps about one credential it
// asked Entra for. It never holds the secret.
type CredentialRecord struct {
	ID          int64
	OwnerID     string
	AppObjectID string
	Name        string
	// KnownKeys are the key ids the application held before addPassword:
	// anything new with this name was created by this request.
	KnownKeys []string
	Password  Password // KeyID empty while pending
	State     CredentialState
	CreatedAt time.Time
	UpdatedAt time.Time
}
