package gateway

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/apppass/apppass/domain"
)

// maxUserName is the longest address-shaped user name (RFC 5321's 64
// bytes of local part, @, 255 of domain).
const maxUserName = 320

// addressShaped reports whether user (trimmed, lower-cased) can be an
// address: one '@' with something on both sides, at most maxUserName
// bytes, valid UTF-8, no spaces or control characters. Nothing else a
// client types is looked up, logged, counted by name or shown.
func addressShaped(user string) bool {
	if len(user) == 0 || len(user) > maxUserName || !utf8.ValidString(user) || strings.Count(user, "@") != 1 {
		return false
	}
	if i := strings.IndexByte(user, '@'); i == 0 || i == len(user)-1 {
		return false
	}
	return strings.IndexFunc(user, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) < 0
}

// authenticate decides req; it returns the login, or the kind of refusal.
// The order matters: the cache and the removed-password check need no
// look-up; the address's failures are checked before any look-up; the
// owner is resolved before counting, so that all of a person's addresses
// share one budget; and an attempt holds the owner's place in the store
// before Entra is asked, so that parallel attempts on any replica wait
// for each other's outcome instead of each asking Entra.
func (g *Gateway) authenticate(ctx context.Context, req AuthRequest, now time.Time) (Login, AuthErrorKind) {
	user := strings.ToLower(strings.TrimSpace(req.User))
	addr := req.ClientAddr.String()
	shaped := addressShaped(user)
	if err := g.cache.sync(ctx, g.records, now); err != nil {
		g.log.WarnContext(ctx, "gateway: reading removals failed; cached logins dropped", "err", err)
	}
	var id [32]byte
	if shaped {
		id = g.cache.id(user, req.Password)
		if l, ok := g.cache.get(id, now); ok {
			if g.cache.refused(l.Mailbox.ID, l.KeyID, req.Password) {
				g.cache.drop(id)
				g.refusedRemoved(ctx, l.Mailbox.ID, req, now)
				return Login{}, AuthBadCredentials
			}
			if scopeRefusal(l.Scope, req) != "" {
				g.refusedScope(ctx, l.Mailbox.ID, l.KeyID, req, now)
				return Login{Scope: l.Scope}, AuthOutOfScope
			}
			g.succeeded(ctx, ownerSubject(l.Mailbox.ID), addr)
			g.loggedIn(ctx, l, req, now, "ok (cached)")
			return l, 0
		}
	}
	switch blocked, err := g.blocked(ctx, addressSubject, addr, g.opts.MaxAddressFailures, now); {
	case err != nil:
		g.log.ErrorContext(ctx, "gateway: guessing limit unavailable; login refused", "client", addr, "err", err)
		g.metrics.login("temporary")
		return Login{}, AuthTemporary
	case blocked:
		g.metrics.login("limited")
		return Login{}, AuthTooManyFailures
	}
	if !shaped {
		// Not a name anyone has: counted against the address only, and
		// never looked up or written down.
		g.failed(ctx, "", nil, req.ClientAddr, now)
		g.metrics.login("refused")
		return Login{}, AuthBadCredentials
	}
	mb, found, err := g.findOwner(ctx, user)
	if err != nil {
		g.log.WarnContext(ctx, "gateway: finding the mailbox failed", "err", err)
		g.metrics.login("temporary")
		return Login{}, AuthTemporary
	}
	subject := g.nameSubject(ctx, user)
	if found {
		subject = ownerSubject(mb.ID)
		if g.cache.refused(mb.ID, "", req.Password) {
			g.refusedRemoved(ctx, mb.ID, req, now)
			return Login{}, AuthBadCredentials
		}
	}
	switch blocked, err := g.blocked(ctx, subject, addr, g.opts.MaxFailures, now); {
	case err != nil:
		g.log.ErrorContext(ctx, "gateway: guessing limit unavailable; login refused", "client", addr, "err", err)
		g.metrics.login("temporary")
		return Login{}, AuthTemporary
	case blocked:
		g.metrics.login("limited")
		return Login{}, AuthTooManyFailures
	}
	release, err := g.reserve(ctx, subject)
	if err != nil {
		g.log.WarnContext(ctx, "gateway: no place for the login attempt", "client", addr, "err", err)
		g.metrics.login("temporary")
		return Login{}, AuthTemporary
	}
	defer release()
	// The place was held by someone else's attempt a moment ago: its
	// failure may have used up the budget.
	if blocked, err := g.blocked(ctx, subject, addr, g.opts.MaxFailures, g.now()); err != nil || blocked {
		if err != nil {
			g.metrics.login("temporary")
			return Login{}, AuthTemporary
		}
		g.metrics.login("limited")
		return Login{}, AuthTooManyFailures
	}
	if !found {
		g.failed(ctx, subject, nil, req.ClientAddr, now)
		g.metrics.login("refused")
		return Login{}, AuthBadCredentials
	}
	l, kind := g.verify(ctx, mb, req, now)
	switch kind {
	case 0:
		g.succeeded(ctx, subject, addr)
		g.cache.put(id, l, now, g.expiryOf(ctx, l))
		g.loggedIn(ctx, l, req, now, "ok")
		return l, 0
	case AuthTemporary:
		g.metrics.login("temporary")
		return Login{}, kind
	case AuthOutOfScope:
		return l, kind // counted by refusedScope; not a guess
	}
	g.failed(ctx, subject, &mb, req.ClientAddr, now)
	g.metrics.login("refused")
	return Login{}, kind
}

// findOwner resolves an address-shaped user name to its owner; found is
// false when nobody has it.
func (g *Gateway) findOwner(ctx context.Context, user string) (domain.Mailbox, bool, error) {
	mb, err := g.mailboxes.FindMailbox(ctx, user)
	switch {
	case err == nil:
		return mb, true, nil
	case domain.KindOf(err) == domain.KindNotFound:
		return domain.Mailbox{}, false, nil
	}
	return domain.Mailbox{}, false, err
}

// refusedRemoved audits a password refused because it matches a removed
// one. It is not counted as guessing: a device still holding a dead
// password is not an attacker, and must not lock its owner's other
// devices out.
func (g *Gateway) refusedRemoved(ctx context.Context, ownerID string, req AuthRequest, now time.Time) {
	g.metrics.login("refused")
	g.audit(ctx, domain.AuditEvent{ActorID: ownerID, SubjectID: ownerID, Action: loginAction(req.Protocol),
		Outcome: "refused: password removed", Name: "from " + req.ClientAddr.String(), At: now})
}

// refusedScope records a login refused because the password's scope does
// not allow it.
func (g *Gateway) refusedScope(ctx context.Context, ownerID, keyID string, req AuthRequest, now time.Time) {
	g.metrics.login("refused")
	g.audit(ctx, domain.AuditEvent{ActorID: ownerID, SubjectID: ownerID, Action: loginAction(req.Protocol), KeyID: keyID,
		Outcome: "refused: out of scope", Name: "from " + req.ClientAddr.String(), At: now})
}

// loginAction is the audit action of a login over p.
func loginAction(p Protocol) string {
	if p == "" {
		p = ProtocolSMTP
	}
	return string(p) + "-login"
}

// verify checks mb's application and asks Entra about the password. A
// password Entra refuses whose hint is that of one apppass made within
// the replication window is asked about again (Entra's token service can
// lag behind a new password) until ReplicationWait passes: accepted, the
// login succeeds; still refused, it is a wrong password like any other.
// No answer tells a wrong password with a known hint from another.
func (g *Gateway) verify(ctx context.Context, mb domain.Mailbox, req AuthRequest, now time.Time) (Login, AuthErrorKind) {
	refuse := func(reason string) (Login, AuthErrorKind) {
		g.audit(ctx, domain.AuditEvent{ActorID: mb.ID, SubjectID: mb.ID, Action: loginAction(req.Protocol), Outcome: "refused: " + reason,
			Name: "from " + req.ClientAddr.String(), At: now})
		return Login{}, AuthBadCredentials
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
		g.log.WarnContext(ctx, "gateway: reading the application failed", "owner", mb.ID, "err", err)
		return Login{}, AuthTemporary
	}
	pw := g.knownPasswords(ctx, mb.ID, app.ObjectID, now)
	key := identify(pw, req.Password)
	if key != nil && g.cache.wasRemoved(mb.ID, key.KeyID) {
		return refuse("password removed")
	}
	if key != nil && !key.Expires.IsZero() && !now.Before(key.Expires) {
		return refuse("password expired")
	}
	// The scope is decided before Entra is asked (SPEC §16), and a
	// refusal is not a guess: the password was not tried. Reading needs a
	// password its hint identifies; any other has no scope but send-only.
	scope := domain.SendOnly
	if key != nil {
		sc, err := g.scopes.PasswordScope(ctx, mb.ID, key.KeyID)
		if err != nil {
			g.log.WarnContext(ctx, "gateway: reading the password's scope failed", "owner", mb.ID, "key", key.KeyID, "err", err)
			return Login{}, AuthTemporary
		}
		scope = sc
	} else if readsMail(req.Protocol) {
		return refuse("password not identified by its hint")
	}
	if scopeRefusal(scope, req) != "" {
		g.refusedScope(ctx, mb.ID, key.KeyID, req, now)
		return Login{Scope: scope}, AuthOutOfScope
	}
	fresh := key != nil && now.Sub(key.Created) < g.opts.ReplicationWindow
	// Counted, not timed: the retries are a fixed number of Entra's
	// token requests whatever the clocks do.
	retries := int(g.opts.ReplicationWait / g.opts.ReplicationRetry)
	for try := 0; ; try++ {
		err = g.verifier.VerifyPassword(ctx, app.AppID, req.Password)
		if err == nil || !fresh || domain.KindOf(err) != domain.KindForbidden || try >= retries {
			break
		}
		g.log.InfoContext(ctx, "gateway: a new password is not accepted by Entra yet; asking again", "owner", mb.ID, "key", key.KeyID)
		if g.opts.Sleep(ctx, g.opts.ReplicationRetry) != nil {
			break
		}
	}
	switch {
	case err == nil:
	case domain.KindOf(err) == domain.KindForbidden:
		return refuse("password not accepted by Entra")
	default:
		g.log.WarnContext(ctx, "gateway: Entra could not verify", "owner", mb.ID, "err", err, "graph_ref", domain.RefOf(err))
		return Login{}, AuthTemporary
	}
	l := Login{Mailbox: mb, AppID: app.AppID, AppObjectID: app.ObjectID, Scope: scope}
	if key != nil {
		l.KeyID = key.KeyID
	}
	return l, 0
}

// knownPasswords lists the metadata of ownerID's passwords: Graph's view
// of the recorded application and apppass's recent records (which Graph
// may not show yet). Failures leave the list short: hints only refine.
func (g *Gateway) knownPasswords(ctx context.Context, ownerID, appObjectID string, now time.Time) []domain.Password {
	var out []domain.Password
	if app, ok, err := g.listed(ctx, ownerID, appObjectID); err != nil {
		g.log.WarnContext(ctx, "gateway: listing the application failed", "owner", ownerID, "err", err)
	} else if ok {
		out = append(out, app.Passwords...)
	}
	recs, err := g.records.RecentCredentials(ctx, ownerID, now.Add(-g.opts.ReplicationWindow))
	if err != nil {
		g.log.WarnContext(ctx, "gateway: reading recent credentials failed", "owner", ownerID, "err", err)
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
func (g *Gateway) expiryOf(ctx context.Context, l Login) time.Time {
	if l.KeyID == "" {
		return time.Time{}
	}
	app, ok, err := g.listed(ctx, l.Mailbox.ID, l.AppObjectID)
	if err != nil || !ok {
		return time.Time{}
	}
	for _, p := range app.Passwords {
		if strings.EqualFold(p.KeyID, l.KeyID) {
			return p.Expires
		}
	}
	return time.Time{}
}

// loggedIn records a successful login: audit and the password's last use.
func (g *Gateway) loggedIn(ctx context.Context, l Login, req AuthRequest, now time.Time, outcome string) {
	g.metrics.login("ok")
	g.audit(ctx, domain.AuditEvent{ActorID: l.Mailbox.ID, SubjectID: l.Mailbox.ID, Action: loginAction(req.Protocol), KeyID: l.KeyID,
		Name: "from " + req.ClientAddr.String(), Outcome: outcome, At: now})
	if l.KeyID == "" {
		return
	}
	if err := g.records.PasswordUsed(ctx, l.Mailbox.ID, l.KeyID, now); err != nil {
		g.log.WarnContext(ctx, "gateway: recording last use failed", "owner", l.Mailbox.ID, "key", l.KeyID, "err", err)
	}
}

// audit writes e with the context's correlation id, logging a failure
// (the login or message goes on).
func (g *Gateway) audit(ctx context.Context, e domain.AuditEvent) {
	if e.Ref == "" {
		e.Ref = refOf(ctx)
	}
	if err := g.records.Audit(context.WithoutCancel(ctx), e); err != nil {
		g.log.ErrorContext(ctx, "gateway: audit failed", "action", e.Action, "err", err)
	}
}
