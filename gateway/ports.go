package gateway

import (
	"context"
	"time"

	"github.com/apppass/apppass/domain"
)

// Mailboxes finds the person behind a user name. graphclient.Client
// implements it.
type Mailboxes interface {
	// FindMailbox returns the user whose UPN, primary address or SMTP proxy
	// address is address, with all their addresses, asking Entra every
	// time. KindNotFound when there is none.
	FindMailbox(ctx context.Context, address string) (domain.Mailbox, error)
}

// Applications lists the applications tagged for an owner as Graph has
// them, for the password metadata (hints, expiry) of the one apppass
// recorded. graphclient.Client implements it.
type Applications interface {
	FindApplications(ctx context.Context, ownerID string) ([]domain.Application, error)
}

// Verifier asks Entra whether a password opens an application.
// graphclient.Client implements it.
type Verifier interface {
	// VerifyPassword returns nil when Entra accepts password for appID,
	// KindForbidden when it refuses, KindUpstream when it could not answer.
	VerifyPassword(ctx context.Context, appID string, password domain.Secret) error
}

// Sender delivers a message as a mailbox through Graph, for the
// GraphUpstream. graphclient.Client implements it.
type Sender interface {
	// SendMail returns once Graph accepted msg (Unconfirmed when its
	// answer was lost and the message may have gone); KindUpstream when
	// the device should retry later; any other kind when it never will
	// work.
	SendMail(ctx context.Context, userID string, msg []byte) (domain.Sent, error)
}

// Records is what the gateway reads from and writes to apppass's store.
// store.DB implements it.
type Records interface {
	// Application returns the application apppass recorded as created for
	// ownerID (SPEC §11: only those are used); KindNotFound when none.
	Application(ctx context.Context, ownerID string) (domain.Application, error)
	// RecentCredentials returns ownerID's credential records changed since.
	RecentCredentials(ctx context.Context, ownerID string, since time.Time) ([]domain.CredentialRecord, error)
	// RemovalsSince returns removals recorded at or after since, so that
	// every replica drops the cached logins they end.
	RemovalsSince(ctx context.Context, since time.Time) ([]domain.Removal, error)
	// PasswordUsed sets a password's last use.
	PasswordUsed(ctx context.Context, ownerID, keyID string, at time.Time) error
	// Audit appends an audit event.
	Audit(ctx context.Context, e domain.AuditEvent) error
}

// Failures are the failed logins every replica counts, so that the
// guessing limit holds across replicas (SPEC §10), and the places that
// keep one attempt per owner in flight. store.DB implements it. A
// subject is an owner ("o:…"), a keyed hash of an unknown name ("u:…")
// or "*" (the client address alone); nothing typed is passed.
type Failures interface {
	// GatewayKey returns the key, the same for every replica, under
	// which unknown user names are hashed.
	GatewayKey(ctx context.Context) ([]byte, error)
	// LoginFailed counts a failed login of subject from addr at at, in a
	// window that starts with the pair's first failure and lasts window,
	// and returns the count in the window.
	LoginFailed(ctx context.Context, subject, addr string, at time.Time, window time.Duration) (int, error)
	// LoginFailures returns the pair's count when its window started at
	// or after since, else 0.
	LoginFailures(ctx context.Context, subject, addr string, since time.Time) (int, error)
	// ForgetLoginFailures forgets the pair's failures and alert claim
	// after a successful login.
	ForgetLoginFailures(ctx context.Context, subject, addr string) error
	// ClaimGuessingAlert returns true to exactly one caller, across
	// replicas, unless the pair's alert was claimed at or after since.
	ClaimGuessingAlert(ctx context.Context, subject, addr string, at, since time.Time) (bool, error)
	// ClaimLoginAttempt gives subject's one place for an attempt in
	// flight to holder until at+ttl, unless another holder has it.
	ClaimLoginAttempt(ctx context.Context, subject, holder string, at time.Time, ttl time.Duration) (bool, error)
	// ReleaseLoginAttempt gives holder's place back.
	ReleaseLoginAttempt(ctx context.Context, subject, holder string) error
}

// GuessingAlert tells the helpdesk that an owner (OwnerID and their
// principal name, both from the directory, never as typed) or, with
// OwnerID empty, a client address passed the failure limit.
type GuessingAlert struct {
	OwnerID    string
	UserName   string // the owner's user principal name; "" for an address alert
	ClientAddr string
	Failures   int
	Window     time.Duration
	At         time.Time
}

// Alerter tells the helpdesk channel about guessing; the wiring connects
// it to Slack. It is called at most once per owner (or address) and
// client address per window, and rate-limited beyond that.
type Alerter interface {
	AlertGuessing(ctx context.Context, a GuessingAlert) error
}
