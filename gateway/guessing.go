package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/logging"
)

// The guessing limit (SPEC §10). Failures are counted in the store, by
// every replica, per subject and client address: the subject is the
// owner ("o:" and their object id, so that all their addresses share one
// budget), or, for an address-shaped name nobody has, a keyed hash of
// the name ("u:…", the key kept in the store so that replicas agree), so
// that an unknown name runs out exactly as a known one does; and every
// failure also counts against the client address alone ("*"), which
// junk names count against only. The store keeps one row per pair, not
// one per attempt, so its size does not grow with the traffic.

// storeTimeout bounds the limit's writes, which outlive the client's
// connection: hanging up does not keep a failure from being counted.
const storeTimeout = 10 * time.Second

// addressSubject counts every failure from a client address.
const addressSubject = "*"

// ownerSubject is the subject of an owner's failures.
func ownerSubject(ownerID string) string { return "o:" + strings.ToLower(ownerID) }

// nameSubject is the subject of an address-shaped name nobody has: a
// keyed hash, so the name itself is never stored. Without the store's
// key (unreadable) it falls back to a per-process key: the limit then
// holds per replica.
func (g *Gateway) nameSubject(ctx context.Context, user string) string {
	key, err := g.hashKey(ctx)
	if err != nil {
		g.log.WarnContext(ctx, "gateway: reading the user name key failed; using this process's", "err", err)
		key = g.cache.key[:]
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(user))
	return "u:" + hex.EncodeToString(m.Sum(nil)[:16])
}

// hashKey returns the store's key for user names, read once.
func (g *Gateway) hashKey(ctx context.Context) ([]byte, error) {
	g.keyMu.Lock()
	defer g.keyMu.Unlock()
	if g.nameKey != nil {
		return g.nameKey, nil
	}
	k, err := g.failures.GatewayKey(ctx)
	if err != nil {
		return nil, err
	}
	g.nameKey = k
	return k, nil
}

// windowStart is the oldest failure time that still counts at now.
func (g *Gateway) windowStart(now time.Time) time.Time {
	return now.Add(-g.opts.FailureWindow + time.Millisecond)
}

// blocked reports whether subject from addr has used up its limit. It
// returns the store's error when the failures cannot be counted; the
// caller then refuses the attempt rather than ask Entra unbounded.
func (g *Gateway) blocked(ctx context.Context, subject, addr string, limit int, now time.Time) (bool, error) {
	n, err := g.failures.LoginFailures(ctx, subject, addr, g.windowStart(now))
	if err != nil {
		return false, fmt.Errorf("counting failed logins: %w", err)
	}
	return n >= limit, nil
}

// reserve holds subject's place for one attempt, waiting (up to
// ReserveWait) while another attempt, on any replica, holds it: at most
// one token request per owner is in flight, and each attempt sees the
// outcome of the one before. It returns the release.
func (g *Gateway) reserve(ctx context.Context, subject string) (func(), error) {
	holder := g.holder + "/" + logging.NewRef() + refOf(ctx)
	deadline := g.now().Add(g.opts.ReserveWait)
	for {
		won, err := g.failures.ClaimLoginAttempt(ctx, subject, holder, g.now(), g.opts.ReserveTTL)
		if err != nil {
			return nil, fmt.Errorf("reserving the login attempt: %w", err)
		}
		if won {
			return func() {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
				defer cancel()
				if err := g.failures.ReleaseLoginAttempt(rctx, subject, holder); err != nil {
					g.log.WarnContext(ctx, "gateway: releasing the login attempt failed; it expires", "err", err)
				}
			}, nil
		}
		if !g.now().Before(deadline) {
			return nil, fmt.Errorf("another attempt held the place for %s", g.opts.ReserveWait)
		}
		if err := g.opts.Sleep(ctx, g.opts.ReservePoll); err != nil {
			return nil, fmt.Errorf("waiting for the login attempt: %w", err)
		}
	}
}

// failed counts a failed login from addr against the address and, when
// subject is set, against subject; when that reaches the limit and this
// replica is the first to claim the window's alert, it tells the
// helpdesk (naming the owner only when mb is set). Store errors are
// logged: the attempt is refused anyway, and the next one fails closed
// if the store is still failing.
func (g *Gateway) failed(ctx context.Context, subject string, mb *domain.Mailbox, client netip.Addr, now time.Time) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	addr := client.String()
	count := func(subject string, limit int) bool {
		n, err := g.failures.LoginFailed(ctx, subject, addr, now, g.opts.FailureWindow)
		if err != nil {
			g.log.ErrorContext(ctx, "gateway: recording a failed login failed", "client", addr, "err", err)
			return false
		}
		if n < limit {
			return false
		}
		won, err := g.failures.ClaimGuessingAlert(ctx, subject, addr, now, g.windowStart(now))
		if err != nil {
			g.log.ErrorContext(ctx, "gateway: claiming the guessing alert failed", "client", addr, "err", err)
			return false
		}
		return won
	}
	if count(addressSubject, g.opts.MaxAddressFailures) {
		g.alertGuessing(ctx, GuessingAlert{ClientAddr: addr, Failures: g.opts.MaxAddressFailures, Window: g.opts.FailureWindow, At: now})
	}
	if subject != "" && count(subject, g.opts.MaxFailures) {
		a := GuessingAlert{ClientAddr: addr, Failures: g.opts.MaxFailures, Window: g.opts.FailureWindow, At: now}
		if mb != nil {
			a.OwnerID, a.UserName = mb.ID, mb.UserPrincipalName
		}
		g.alertGuessing(ctx, a)
	}
}

// succeeded forgets subject's failures from addr after a login, cached
// or not; a store error is logged (the failures then age out).
func (g *Gateway) succeeded(ctx context.Context, subject, addr string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := g.failures.ForgetLoginFailures(ctx, subject, addr); err != nil {
		g.log.WarnContext(ctx, "gateway: forgetting failed logins failed", "client", addr, "err", err)
	}
}

// alertGuessing tells the helpdesk, once per lockout, and no more than
// AlertBurst times per AlertWindow from all replicas together (from this
// one, without AlertClaims): a flood of lockouts is logged, not posted.
func (g *Gateway) alertGuessing(ctx context.Context, a GuessingAlert) {
	g.log.WarnContext(ctx, "gateway: too many failed logins", "owner", a.OwnerID, "client", a.ClientAddr)
	if g.alerter == nil {
		return
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if !g.allowGuessingAlert(actx, a.At) {
		return
	}
	if err := g.alerter.AlertGuessing(actx, a); err != nil {
		g.log.WarnContext(ctx, "gateway: alerting the helpdesk failed", "err", err)
	}
}

// allowGuessingAlert takes one of the AlertBurst places of the current
// AlertWindow: shared by the replicas as AlertBurst alert claims (a place
// is free again a window after it was taken), or this process's own when
// there are no claims or the store cannot be asked.
func (g *Gateway) allowGuessingAlert(ctx context.Context, at time.Time) bool {
	if g.claims == nil {
		return g.alerts.allow(at)
	}
	for i := range g.opts.AlertBurst {
		ok, err := g.claims.ClaimAlert(ctx, fmt.Sprintf("gateway-guessing-%d", i), at, at.Add(-g.opts.AlertWindow))
		if err != nil {
			g.log.WarnContext(ctx, "gateway: alert quota not shared; this replica's own applies", "err", err)
			return g.alerts.allow(at)
		}
		if ok {
			return true
		}
	}
	return false
}

// alertRate allows burst alerts per window.
type alertRate struct {
	burst  int
	window time.Duration

	mu   sync.Mutex
	sent []time.Time
}

func (r *alertRate) allow(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.sent) > 0 && now.Sub(r.sent[0]) >= r.window {
		r.sent = r.sent[1:]
	}
	if len(r.sent) >= r.burst {
		return false
	}
	r.sent = append(r.sent, now)
	return true
}

// refOf is ctx's correlation id.
func refOf(ctx context.Context) string { return logging.Ref(ctx) }
