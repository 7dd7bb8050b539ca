package domain

import "time"

// RevocationStatus is where a revocation request stands.
type RevocationStatus string

// The revocation statuses. Only pending and partial requests can be
// decided (partial: retried).
const (
	RevocationPending   RevocationStatus = "pending"
	RevocationApproving RevocationStatus = "approving"
	RevocationDone      RevocationStatus = "done"
	RevocationPartial   RevocationStatus = "partial"
	RevocationDenied    RevocationStatus = "denied"
	RevocationExpired   RevocationStatus = "expired"
	RevocationCancelled RevocationStatus = "cancelled"
)

// Outcomes of one password in a revocation.
const (
	OutcomeRemoved = "removed"
	OutcomeGone    = "already gone"
	// A failure is "failed: " and a reason safe to show.
)

// RevocationItem is one password a request covers and what happened to it.
type RevocationItem struct {
	Password Password
	Outcome  string // empty until tried
}

// Done reports whether the item needs no further removal attempt.
func (i RevocationItem) Done() bool { return i.Outcome == OutcomeRemoved || i.Outcome == OutcomeGone }

// RevocationRequest is an admin's request to revoke someone's app
// passwords, waiting for, or carrying out, a helpdesk decision.
type RevocationRequest struct {
	ID             int64
	RequesterSlack string
	RequesterID    string
	TargetSlack    string
	TargetID       string
	TargetName     string // UPN
	All            bool
	Reason         string
	Items          []RevocationItem
	Status         RevocationStatus
	DecidedSlack   string
	DecidedID      string
	DecidedAt      time.Time
	DenyReason     string
	Channel        string // where the request message is
	MessageTS      string
	CreatedAt      time.Time
	ExpiresAt      time.Time
}
