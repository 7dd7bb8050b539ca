package domain

import "time"

// Report is the weekly hygiene report, for the Slack adapter to render.
type Report struct {
	At time.Time
	// Since starts the period of Created, Deleted and Revoked: the
	// previous report, or 7 days back for the first one.
	Since time.Time

	Holders   int // people with an apppass application
	Passwords int // app passwords in total
	// Distribution counts holders by how many passwords they hold.
	Distribution []Bucket
	WarnAt, Max  int
	// NearLimit is everyone holding WarnAt or more, most first.
	NearLimit []HolderCount

	Stale        int // passwords matching the stale rule
	Expired      int // passwords past their expiry
	ExpiringSoon int // passwords expiring within ExpiryWarning
	// Unreachable counts holders of passwords whom apppass cannot find in
	// Slack (left the company? a different email?): nobody can warn them.
	Unreachable  int
	LastUseKnown bool // staleness includes "unused" as well as age

	StaleAfter, UnusedAfter, ExpiryWarning time.Duration

	Created, Deleted, Revoked int // in the period, from the audit trail
	PendingRevocations        int
	// Lookalikes and Duplicates count the applications tagged for someone
	// that apppass found and does not use (SPEC §11).
	Lookalikes, Duplicates int
	// Offboarded counts the owners disabled or deleted in Entra whose
	// passwords the offboarding job removed, or asked the helpdesk to
	// remove, in the period.
	Offboarded int

	// Previous holds the previous report's figures (keys Figure…); nil
	// for the first report.
	Previous Counts
}

// Bucket is one band of the distribution: holders of Min to Max passwords.
type Bucket struct {
	Min, Max int
	Holders  int
}

// HolderCount is one person near the limit.
type HolderCount struct {
	Name string // UPN, or the Entra id when apppass knows no name
	Held int
}

// The figures a report keeps for the next one's "change since".
const (
	FigureHolders     = "holders"
	FigurePasswords   = "passwords"
	FigureNearLimit   = "near_limit"
	FigureStale       = "stale"
	FigureExpired     = "expired"
	FigureUnreachable = "unreachable"
)

// Figures returns the report's figures by Figure… key.
func (r Report) Figures() Counts {
	return Counts{
		FigureHolders: r.Holders, FigurePasswords: r.Passwords, FigureNearLimit: len(r.NearLimit),
		FigureStale: r.Stale, FigureExpired: r.Expired, FigureUnreachable: r.Unreachable,
	}
}

// Change returns how figure moved since the previous report, and false
// when there was none to compare with.
func (r Report) Change(figure string) (int, bool) {
	prev, ok := r.Previous[figure]
	if !ok {
		return 0, false
	}
	return r.Figures()[figure] - prev, true
}
