package domain

import "time"

// NoticeKind is what a hygiene warning is about; notices are recorded, and
// cooled down, per person and kind.
type NoticeKind string

// The notice kinds.
const (
	NoticeLimit  NoticeKind = "limit"  // holding warn_at or more
	NoticeStale  NoticeKind = "stale"  // holding stale passwords
	NoticeExpiry NoticeKind = "expiry" // passwords expiring soon
)

// Notice is one hygiene warning to one person, for the Slack adapter to
// render with a Delete button per password named.
type Notice struct {
	Kind NoticeKind
	At   time.Time // when the job ran
	Held int       // how many app passwords the person holds
	Max  int       // the per-person limit
	// Passwords are the ones the notice names: the oldest first for limit
	// and stale notices, the soonest to expire first for expiry notices.
	Passwords []Password
	// More counts further passwords the notice is about but does not name.
	More int
	// The rules that selected the passwords, for the wording.
	StaleAfter    time.Duration
	UnusedAfter   time.Duration
	LastUseKnown  bool // sign-in data exists; Password.LastUsed is set where there was a sign-in
	ExpiryWarning time.Duration
}
