package domain

import (
	"errors"
	"fmt"
	"time"
)

// ErrLifetimePolicy is in the chain of an error for an addPassword that
// the tenant's app management policy refused because of the password's
// lifetime (Entra's CredentialInvalidLifetimeAsPerAppPolicy).
var ErrLifetimePolicy = errors.New("the tenant's app management policy refused the password's lifetime")

// CredentialPolicy is what the tenant's default app management policy
// says about password credentials.
type CredentialPolicy struct {
	// MaxPasswordLifetime is the longest lifetime the tenant allows a
	// password credential; zero when the policy does not restrict it.
	MaxPasswordLifetime time.Duration
}

// Allows reports whether a password of lifetime (zero: Entra's default of
// two years, as apppass sends no endDateTime then) passes the policy.
func (p CredentialPolicy) Allows(lifetime time.Duration) bool {
	if p.MaxPasswordLifetime <= 0 {
		return true
	}
	return lifetime > 0 && lifetime <= p.MaxPasswordLifetime
}

// FormatLifetime writes a lifetime for people: "180 days", or hours when
// it is not a whole number of days.
func FormatLifetime(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d%day == 0 && d == day:
		return "1 day"
	case d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	default:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
}
