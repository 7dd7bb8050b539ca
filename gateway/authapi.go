package gateway

import (
	"context"
	"errors"
	"net/netip"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/logging"
)

// The login decision is protocol-neutral: SMTP, IMAP and POP3 listeners
// all call Authenticate and map its AuthError to their own answers
// (SMTP 535/454, IMAP NO [AUTHENTICATIONFAILED]/[UNAVAILABLE], POP3
// -ERR [AUTH]/[SYS/TEMP]).

// AuthRequest is one login attempt.
type AuthRequest struct {
	Protocol Protocol
	// User is the user name as typed; only an address-shaped one is ever
	// looked up, logged or counted by name.
	User     string
	Password domain.Secret
	// ClientAddr is the client's IP address (Conn.ClientAddr).
	ClientAddr netip.Addr
}

// Login is a verified sign-in: who, with which application and, when the
// password's hint identifies it, which password.
type Login struct {
	Mailbox     domain.Mailbox
	AppID       string
	AppObjectID string
	KeyID       string // "" when the hint does not identify one password
	// Scope is what the password may be used for (SPEC §16): send-only
	// when no scope was recorded or the hint does not identify it.
	Scope domain.Scope
}

// AuthErrorKind says why a login was refused; each protocol has its own
// answer for each kind.
type AuthErrorKind int

const (
	// AuthBadCredentials: the same answer for an unknown user, a user
	// without an application, a disabled owner, a removed or wrong
	// password (SMTP 535 5.7.8). Permanent.
	AuthBadCredentials AuthErrorKind = iota + 1
	// AuthTooManyFailures: the guessing limit for this owner (or name)
	// from this client address, or for the address, is reached; Entra
	// was not asked (SMTP 454 4.7.0). Temporary.
	AuthTooManyFailures
	// AuthTemporary: Entra, Graph or the store could not answer, or
	// another attempt for the owner held the place too long (SMTP 454
	// 4.7.0). Temporary.
	AuthTemporary
	// AuthOutOfScope: the password is right but may not be used for this
	// protocol or from this network (password scopes). Permanent.
	AuthOutOfScope
)

// AuthError is Authenticate's refusal. Ref is the correlation id of the
// attempt (from the context), for the device's error message.
type AuthError struct {
	Kind AuthErrorKind
	Ref  string
	// Detail says, for AuthOutOfScope, what the password is for, in words
	// safe to show the device ("this app password is for sending mail
	// only").
	Detail string
}

func (e *AuthError) Error() string {
	var s string
	switch e.Kind {
	case AuthBadCredentials:
		s = "authentication credentials invalid"
	case AuthTooManyFailures:
		s = "too many failed logins; try again later"
	case AuthTemporary:
		s = "temporary authentication failure; try again later"
	case AuthOutOfScope:
		s = "this password may not be used here"
		if e.Detail != "" {
			s = e.Detail
		}
	default:
		s = "login refused"
	}
	if e.Ref != "" {
		s += " (ref " + e.Ref + ")"
	}
	return s
}

// AuthKindOf returns err's AuthErrorKind, or 0 when err is no *AuthError.
func AuthKindOf(err error) AuthErrorKind {
	var ae *AuthError
	if errors.As(err, &ae) {
		return ae.Kind
	}
	return 0
}

// Authenticate decides a login. ctx should carry the session's
// correlation id (Conn.Context does). It returns the login, or an
// *AuthError. Every refusal as bad credentials answers no sooner than
// Options.FailureFloor after the attempt began, so that which look-ups a
// refusal took does not show in its timing.
func (g *Gateway) Authenticate(ctx context.Context, req AuthRequest) (Login, error) {
	start := g.now()
	l, kind := g.authenticate(ctx, req, start)
	if kind == 0 {
		return l, nil
	}
	if kind == AuthBadCredentials {
		if wait := g.opts.FailureFloor - g.now().Sub(start); wait > 0 {
			_ = g.opts.Sleep(ctx, wait)
		}
	}
	ae := &AuthError{Kind: kind, Ref: logging.Ref(ctx)}
	if kind == AuthOutOfScope {
		ae.Detail = scopeRefusal(l.Scope, req)
	}
	return Login{}, ae
}

// readsMail reports whether p reads mail (IMAP, POP3) rather than sends.
func readsMail(p Protocol) bool { return p == ProtocolIMAP || p == ProtocolPOP3 }

// scopeRefusal is why sc does not allow req, in words for the device, or
// "" when it does (SPEC §16).
func scopeRefusal(sc domain.Scope, req AuthRequest) string {
	switch {
	case readsMail(req.Protocol) && !sc.Read:
		return "this app password is for sending mail only"
	case !readsMail(req.Protocol) && !sc.Send:
		return "this app password is for reading mail only"
	case !sc.AllowsFrom(req.ClientAddr.String()):
		return "this app password may not be used from this network"
	}
	return ""
}
