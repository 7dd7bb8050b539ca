package gateway

import (
	"context"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/apppass/apppass/domain"
)

// The answers to a login; the same 535 whatever was wrong.
var (
	errBadCredentials = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
	errTooManyFails   = &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Too many failed logins; try again later"}
	errNotYetActive   = &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "This password is new and not active yet; try again in a few minutes"}
	errAuthTemporary  = &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Temporary authentication failure; try again later"}
	// A password used outside its scope (SPEC §16): refused without asking
	// Entra, and not counted as a guess (the password was not tried).
	errSendOnly   = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "this app password is for sending mail only"}
	errReadOnly   = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "this app password is for reading mail only"}
	errNotNetwork = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "this app password may not be used from this network"}
)

// Protocol is what a login is for: sending (SMTP) or reading (IMAP,
// POP3). It names the audit action ("smtp-login") and picks the scope a
// password needs (SPEC §16).
type Protocol string

// The gateway's protocols.
const (
	ProtoSMTP Protocol = "smtp"
	ProtoIMAP Protocol = "imap"
	ProtoPOP3 Protocol = "pop3"
)

// reads reports whether p reads mail.
func (p Protocol) reads() bool { return p == ProtoIMAP || p == ProtoPOP3 }

// scopeError is the refusal for a password whose scope does not allow
// proto from addr, or nil.
func scopeError(sc domain.Scope, proto Protocol, addr string) error {
	switch {
	case proto.reads() && !sc.Read:
		return errSendOnly
	case !proto.reads() && !sc.Send:
		return errReadOnly
	case !sc.AllowsFrom(addr):
		return errNotNetwork
	}
	return nil
}

// isScopeError reports whether err is one of scopeError's refusals.
func isScopeError(err error) bool {
	return err == errSendOnly || err == errReadOnly || err == errNotNetwork
}

// authenticate decides a login for proto by user name and password from
// client address addr. It returns the login, or one of the SMTP errors
// above (which IMAP and POP3 translate). Every outcome but a cached
// success and a temporary failure is audited.
func (g *Gateway) authenticate(ctx context.Context, proto Protocol, user string, password domain.Secret, addr string) (login, error) {
	user = strings.ToLower(strings.TrimSpace(user))
	now := g.now()
	switch blocked, err := g.blocked(ctx, user, addr, now); {
	case err != nil:
		g.log.Error("gateway: guessing limit unavailable; login refused", "user", user, "client", addr, "err", err)
		g.metrics.login("temporary")
		return login{}, errAuthTemporary
	case blocked:
		g.metrics.login("limited")
		return login{}, errTooManyFails
	}
	if err := g.cache.sync(ctx, g.records, now); err != nil {
		g.log.Warn("gateway: reading removals failed; cached logins dropped", "err", err)
	}
	id := g.cache.id(user, password)
	if l, ok := g.cache.get(id, now); ok && !g.cache.wasRemoved(l.mailbox.ID, l.keyID) {
		if err := scopeError(l.scope, proto, addr); err != nil {
			g.audit(ctx, domain.AuditEvent{ActorID: l.mailbox.ID, SubjectID: l.mailbox.ID, Action: string(proto) + "-login", KeyID: l.keyID,
				Name: "from " + addr, Outcome: "refused: out of scope", At: now})
			g.metrics.login("refused")
			return login{}, err
		}
		g.loggedIn(ctx, proto, l, addr, now, "ok (cached)")
		return l, nil
	}
	l, err := g.verify(ctx, proto, user, password, addr, now)
	switch {
	case err == nil:
		g.succeeded(ctx, user, addr)
		g.cache.put(id, l, now, g.expiryOf(ctx, l))
		g.loggedIn(ctx, proto, l, addr, now, "ok")
		return l, nil
	case err == errAuthTemporary:
		g.metrics.login("temporary")
		return login{}, err
	case isScopeError(err):
		g.metrics.login("refused")
		return login{}, err
	}
	g.failed(ctx, user, addr, now)
	g.metrics.login("refused")
	return login{}, err
}

// verify looks the owner and their application up and asks Entra.
func (g *Gateway) verify(ctx context.Context, proto Protocol, user string, password domain.Secret, addr string, now time.Time) (login, error) {
	action := string(proto) + "-login"
	mb, err := g.mailboxes.FindMailbox(ctx, user)
	if err != nil {
		if domain.KindOf(err) == domain.KindNotFound {
			return login{}, errBadCredentials
		}
		g.log.Warn("gateway: finding the mailbox failed", "err", err)
		return login{}, errAuthTemporary
	}
	refuse := func(reason string) (login, error) {
		g.audit(ctx, domain.AuditEvent{ActorID: mb.ID, SubjectID: mb.ID, Action: action, Outcome: "refused: " + reason, Name: "from " + addr, At: now})
		return login{}, errBadCredentials
	}
	if !mb.AccountEnabled {
		return refuse("owner disabled")
	}
	if g.cache.wasRemoved(mb.ID, "") {
		return refuse("owner removed")
	}
	app, err := g.records.Application(ctx, mb.ID)
	if err != nil {
		if domain.KindOf(err) == domain.KindNotFound {
			return refuse("no application of apppass's")
		}
		g.log.Warn("gateway: reading the application failed", "owner", mb.ID, "err", err)
		return login{}, errAuthTemporary
	}
	pw := g.knownPasswords(ctx, mb.ID, app.ObjectID, now)
	key := identify(pw, password)
	if key != nil && g.cache.wasRemoved(mb.ID, key.KeyID) {
		return refuse("password removed")
	}
	if key != nil && !key.Expires.IsZero() && !now.Before(key.Expires) {
		return refuse("password expired")
	}
	// The scope is decided before Entra is asked (SPEC §16). Reading needs
	// a password the hint identifies: an unidentified one has no scope
	// but send-only.
	scope := domain.SendOnly
	if key != nil {
		sc, err := g.scopes.PasswordScope(ctx, mb.ID, key.KeyID)
		if err != nil {
			g.log.Warn("gateway: reading the password's scope failed", "owner", mb.ID, "key", key.KeyID, "err", err)
			return login{}, errAuthTemporary
		}
		scope = sc
	} else if proto.reads() {
		return refuse("password not identified by its hint")
	}
	if err := scopeError(scope, proto, addr); err != nil {
		g.audit(ctx, domain.AuditEvent{ActorID: mb.ID, SubjectID: mb.ID, Action: action, KeyID: key.KeyID, Outcome: "refused: out of scope",
			Name: "from " + addr, At: now})
		return login{}, err
	}
	err = g.verifier.VerifyPassword(ctx, app.AppID, password)
	switch domain.KindOf(err) {
	case domain.KindInternal:
		if err != nil {
			g.log.Warn("gateway: verifying failed", "owner", mb.ID, "err", err)
			return login{}, errAuthTemporary
		}
	case domain.KindUpstream:
		g.log.Warn("gateway: Entra could not verify", "owner", mb.ID, "err", err, "ref", domain.RefOf(err))
		return login{}, errAuthTemporary
	default:
		if key != nil && now.Sub(key.Created) < g.opts.ReplicationWindow {
			g.audit(ctx, domain.AuditEvent{ActorID: mb.ID, SubjectID: mb.ID, Action: action, KeyID: key.KeyID, Name: "from " + addr,
				Outcome: "not active yet", At: now})
			return login{}, errNotYetActive
		}
		return refuse("password not accepted by Entra")
	}
	l := login{mailbox: mb, appID: app.AppID, appObjectID: app.ObjectID, scope: scope}
	if key != nil {
		l.keyID = key.KeyID
	}
	return l, nil
}

// knownPasswords lists the metadata of ownerID's passwords: Graph's view
// of the recorded application and apppass's recent records (which Graph
// may not show yet). Failures leave the list short: hints only refine.
func (g *Gateway) knownPasswords(ctx context.Context, ownerID, appObjectID string, now time.Time) []domain.Password {
	var out []domain.Password
	if app, ok, err := g.listed(ctx, ownerID, appObjectID); err != nil {
		g.log.Warn("gateway: listing the application failed", "owner", ownerID, "err", err)
	} else if ok {
		out = append(out, app.Passwords...)
	}
	recs, err := g.records.RecentCredentials(ctx, ownerID, now.Add(-g.opts.ReplicationWindow))
	if err != nil {
		g.log.Warn("gateway: reading recent credentials failed", "owner", ownerID, "err", err)
	}
	for _, r := range recs {
		if r.Password.KeyID != "" && (r.State == domain.CredentialDelivered || r.State == domain.CredentialIssued) {
			p := r.Password
			if p.Created.IsZero() {
				p.Created = r.CreatedAt
			}
			out = append(out, p)
		}
	}
	return out
}

// listed returns application appObjectID of ownerID as Graph lists it:
// only the one apppass recorded is looked at, never a look-alike.
func (g *Gateway) listed(ctx context.Context, ownerID, appObjectID string) (domain.Application, bool, error) {
	apps, err := g.apps.FindApplications(ctx, ownerID)
	if err != nil {
		return domain.Application{}, false, err
	}
	for _, a := range apps {
		if strings.EqualFold(a.ObjectID, appObjectID) {
			return a, true, nil
		}
	}
	return domain.Application{}, false, nil
}

// identify returns the one password whose hint starts the typed password,
// or nil when none or several distinct ones do.
func identify(pw []domain.Password, password domain.Secret) *domain.Password {
	var found *domain.Password
	for i := range pw {
		p := &pw[i]
		if p.Hint == "" || !strings.HasPrefix(password.Reveal(), p.Hint) {
			continue
		}
		if found != nil && !strings.EqualFold(found.KeyID, p.KeyID) {
			return nil
		}
		found = p
	}
	return found
}

// expiryOf returns when l's password expires, when known, so that a cached
// login never outlives it.
func (g *Gateway) expiryOf(ctx context.Context, l login) time.Time {
	if l.keyID == "" {
		return time.Time{}
	}
	app, ok, err := g.listed(ctx, l.mailbox.ID, l.appObjectID)
	if err != nil || !ok {
		return time.Time{}
	}
	for _, p := range app.Passwords {
		if strings.EqualFold(p.KeyID, l.keyID) {
			return p.Expires
		}
	}
	return time.Time{}
}

// loggedIn records a successful login: audit and the password's last use.
func (g *Gateway) loggedIn(ctx context.Context, proto Protocol, l login, addr string, now time.Time, outcome string) {
	g.metrics.login("ok")
	g.audit(ctx, domain.AuditEvent{ActorID: l.mailbox.ID, SubjectID: l.mailbox.ID, Action: string(proto) + "-login", KeyID: l.keyID,
		Name: "from " + addr, Outcome: outcome, At: now})
	if l.keyID == "" {
		return
	}
	if err := g.records.PasswordUsed(ctx, l.mailbox.ID, l.keyID, now); err != nil {
		g.log.Warn("gateway: recording last use failed", "owner", l.mailbox.ID, "key", l.keyID, "err", err)
	}
}

// audit writes e, logging a failure (the login or message goes on).
func (g *Gateway) audit(ctx context.Context, e domain.AuditEvent) {
	if err := g.records.Audit(context.WithoutCancel(ctx), e); err != nil {
		g.log.Error("gateway: audit failed", "action", e.Action, "err", err)
	}
}
