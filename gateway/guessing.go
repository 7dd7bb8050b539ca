package gateway

import (
	"context"
	"fmt"
	"time"
)

// The guessing limit (SPEC §10): failed logins are counted per user name
// and client address in the store, by every replica, so that N replicas
// behind a load balancer still allow only MaxFailures tries per window
// and tell the helpdesk once.

// storeTimeout bounds the limit's writes, which outlive the client's
// connection: hanging up does not keep a failure from being counted.
const storeTimeout = 10 * time.Second

// windowStart is the oldest failure time that still counts at now.
func (g *Gateway) windowStart(now time.Time) time.Time {
	return now.Add(-g.opts.FailureWindow + time.Millisecond)
}

// blocked reports whether user from addr has used up its attempts. It
// returns the store's error when the failures cannot be counted; the
// caller then refuses the attempt (454) rather than ask Entra unbounded.
func (g *Gateway) blocked(ctx context.Context, user, addr string, now time.Time) (bool, error) {
	n, err := g.failures.LoginFailures(ctx, user, addr, g.windowStart(now))
	if err != nil {
		return false, fmt.Errorf("counting failed logins: %w", err)
	}
	return n >= g.opts.MaxFailures, nil
}

// failed counts a failed login of user from addr and, when that reaches
// the limit and this replica is the first to claim the window's alert,
// tells the helpdesk. Store errors are logged: the attempt is refused
// anyway, and the next one fails closed if the store is still failing.
func (g *Gateway) failed(ctx context.Context, user, addr string, now time.Time) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := g.failures.LoginFailed(ctx, user, addr, now); err != nil {
		g.log.Error("gateway: recording a failed login failed", "user", user, "client", addr, "err", err)
		return
	}
	n, err := g.failures.LoginFailures(ctx, user, addr, g.windowStart(now))
	if err != nil {
		g.log.Error("gateway: counting failed logins failed", "user", user, "client", addr, "err", err)
		return
	}
	if n < g.opts.MaxFailures {
		return
	}
	won, err := g.failures.ClaimGuessingAlert(ctx, user, addr, now, g.windowStart(now))
	if err != nil {
		g.log.Error("gateway: claiming the guessing alert failed", "user", user, "client", addr, "err", err)
		return
	}
	if won {
		g.alertGuessing(ctx, user, addr, now)
	}
}

// succeeded forgets the failures of user from addr after a login Entra
// accepted; a store error is logged (the failures then age out).
func (g *Gateway) succeeded(ctx context.Context, user, addr string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := g.failures.ForgetLoginFailures(ctx, user, addr); err != nil {
		g.log.Warn("gateway: forgetting failed logins failed", "user", user, "client", addr, "err", err)
	}
}

// alertGuessing tells the helpdesk, once per lockout.
func (g *Gateway) alertGuessing(ctx context.Context, user, addr string, now time.Time) {
	g.log.Warn("gateway: too many failed logins", "user", user, "client", addr)
	if g.alerter == nil {
		return
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	a := GuessingAlert{UserName: user, ClientAddr: addr, Failures: g.opts.MaxFailures, Window: g.opts.FailureWindow, At: now}
	if err := g.alerter.AlertGuessing(actx, a); err != nil {
		g.log.Warn("gateway: alerting the helpdesk failed", "err", err)
	}
}
