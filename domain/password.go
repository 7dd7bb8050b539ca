package domain

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxNameLength is the longest app password name, in characters, after
// trimming.
const MaxNameLength = 64

// User is an employee as Entra knows them.
type User struct {
	ID                string // Entra object id
	DisplayName       string
	UserPrincipalName string
	Mail              string
	AccountEnabled    bool
}

// Actor is the Slack user who typed a command or clicked a button.
type Actor struct {
	SlackID string
	Email   string // from the Slack profile; empty when Slack has none
	Name    string
}

// Password is an app password's metadata: everything but the secret.
type Password struct {
	KeyID   string
	Name    string
	Hint    string
	Created time.Time
	Expires time.Time // zero when it never expires
	// LastUsed is the last sign-in with this password, when known.
	LastUsed *time.Time
	// Scope is what the password may be used for (SPEC §16), when looked
	// up (listings); nil otherwise.
	Scope *Scope
}

// Application is an employee's app-password holder in Entra.
type Application struct {
	ObjectID  string // Graph object id, used for addPassword / removePassword
	AppID     string // the client id a device signs in with
	OwnerID   string // Entra object id of the employee
	Passwords []Password
	// Created is the application's createdDateTime (zero when unknown).
	Created time.Time
	// HasServicePrincipal is true once apppass created or confirmed the
	// application's service principal: only then may it issue passwords
	// on it (a password without one cannot sign in).
	HasServicePrincipal bool
	// OwnersKnown is set when a listing brought the application's owners
	// along ($expand=owners); OwnedByApppass then says whether apppass's
	// service principal is its only owner, so trust needs no call.
	OwnersKnown    bool
	OwnedByApppass bool
}

// Created is a new app password as it is handed to the person: its
// metadata, the secret and what is needed to sign in with it.
type Created struct {
	Password Password
	Secret   Secret
	ClientID string
	TenantID string
	// Scope is what the new password may be used for.
	Scope Scope
}

// NormalizeName trims name and checks it against the naming rules: 1 to 64
// characters, no control or invisible format characters. It returns a
// KindInvalid *Error whose message explains the rule that was broken.
func NormalizeName(name string) (string, error) {
	n := strings.TrimSpace(name)
	if !utf8.ValidString(n) {
		return "", Errorf(KindInvalid, "That name is not valid text. Please use letters, digits and spaces.")
	}
	if n == "" {
		return "", Errorf(KindInvalid, "Please give the app password a name, for example `iPhone Mail`.")
	}
	if c := utf8.RuneCountInString(n); c > MaxNameLength {
		return "", Errorf(KindInvalid, "That name is %d characters long; names can be at most %d.", c, MaxNameLength)
	}
	for _, r := range n {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || r == utf8.RuneError {
			return "", Errorf(KindInvalid, "Names cannot contain line breaks, tabs or other control characters.")
		}
	}
	return n, nil
}

// SameName reports whether two names are the same app password name,
// ignoring case.
func SameName(a, b string) bool { return strings.EqualFold(a, b) }

// AuditEvent is one line of the audit trail. It never holds a secret: the
// Secret type cannot be put in it.
type AuditEvent struct {
	ID         int64
	At         time.Time
	ActorSlack string // who acted, in Slack
	ActorID    string // who acted, in Entra (empty when unresolved)
	SubjectID  string // whose app passwords, in Entra
	Action     string // e.g. "create", "delete", "refuse"
	KeyID      string
	Name       string
	Outcome    string // "ok", or why not
	Ref        string // correlation id shown to the person, when any
}

// The kinds of ApplicationFinding.
const (
	FindingLookalike = "lookalike" // not apppass's: another principal owns it
	FindingDuplicate = "duplicate" // apppass's, but another is its owner's
)

// ApplicationFinding is an application tagged for an employee that
// apppass will not use: a look-alike someone else registered, or a second
// application of apppass's for one person. The helpdesk is told once.
type ApplicationFinding struct {
	ObjectID  string
	AppID     string
	OwnerID   string // from its apppass:owner tag
	Kind      string // FindingLookalike or FindingDuplicate
	Passwords int    // how many password credentials it held when found
	FoundAt   time.Time
}
