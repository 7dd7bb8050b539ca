package domain

import (
	"errors"
	"strings"
	"time"
)

// Mailbox is an employee as the mail gateway sees them: who they are and
// every address they may send as.
type Mailbox struct {
	User
	// Addresses are the user principal name, the primary address and every
	// SMTP proxy address, lower-cased, without duplicates.
	Addresses []string
}

// Owns reports whether addr (compared ignoring case) is one of m's
// addresses.
func (m Mailbox) Owns(addr string) bool {
	addr = strings.ToLower(strings.TrimSpace(addr))
	for _, a := range m.Addresses {
		if a == addr {
			return true
		}
	}
	return false
}

// MailboxAddresses collects a user's sendable addresses from their UPN,
// mail and proxyAddresses ("SMTP:…" primary, "smtp:…" aliases; other
// address types such as "X500:" or "SIP:" are skipped).
func MailboxAddresses(upn, mail string, proxyAddresses []string) []string {
	var out []string
	add := func(a string) {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "" || !strings.Contains(a, "@") {
			return
		}
		for _, b := range out {
			if a == b {
				return
			}
		}
		out = append(out, a)
	}
	add(upn)
	add(mail)
	for _, p := range proxyAddresses {
		if kind, addr, ok := strings.Cut(p, ":"); ok && strings.EqualFold(kind, "smtp") {
			add(addr)
		}
	}
	return out
}

// Removal is a removal apppass made or recorded that must end the mail
// gateway's cached logins at once: a deleted, revoked or expired app
// password, or a disabled or deleted owner.
type Removal struct {
	OwnerID string
	KeyID   string // empty: every password of OwnerID (owner disabled or deleted)
	Reason  string // "deleted", "revoked", "disabled", …
	// Hint is the removed password's hint (its first characters), when
	// known: the gateway refuses a typed password starting with it for a
	// day, whatever Entra's token service still accepts.
	Hint string
	At   time.Time
}

// DirectoryChange is one user in the directory's delta (SPEC §3
// offboarding): changed (enabled or disabled) or removed.
type DirectoryChange struct {
	UserID  string
	UPN     string // "" for a removed user
	Enabled bool
	// Removed is "" for a user who exists, else Graph's reason: "changed"
	// (soft-deleted, restorable for 30 days) or "deleted" (permanently).
	Removed string
}

// Left reports whether the change means the person can no longer sign in:
// disabled or deleted.
func (c DirectoryChange) Left() bool { return c.Removed != "" || !c.Enabled }

// ErrDeltaExpired means a stored delta link is no longer valid
// (syncStateNotFound): the directory must be read in full again.
var ErrDeltaExpired = errors.New("the directory delta link expired; a full sync is needed")

// Sent is how Microsoft 365 took a message the gateway handed on.
type Sent struct {
	// Unconfirmed is true when the answer was lost after the message went
	// out and it is not known not to have been sent.
	Unconfirmed bool
	// Ref is Microsoft's reference for it (a Graph request id), if any.
	Ref string
}
