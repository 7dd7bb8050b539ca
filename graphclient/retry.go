package graphclient

import (
	"context"
	"log/slog"
	"time"
)

// retryPolicy bounds the retries of one kind of idempotent call. It is
// never used for addPassword or POST /applications: a retried one can
// create a second secret or application (SPEC §3), so those handle only
// the failures where Graph certainly did nothing (passwords.go).
type retryPolicy struct {
	attempts   int           // calls in all, the first included
	first      time.Duration // wait before the second call when Graph names none; doubles
	maxBackoff time.Duration // cap on that doubling
	// maxWait caps one wait. A Retry-After beyond it ends the retries:
	// calling sooner than Graph asked only earns another 429.
	maxWait time.Duration
	// budget caps the waits in all (0: only attempts and ctx bound them).
	budget time.Duration
	// also names failures beyond the transient ones worth retrying, such
	// as Entra's replication lag; nil: none.
	also func(*graphError) bool
}

var (
	// graphRetry is every idempotent Graph call's policy: reads, removals,
	// and each step of sending mail.
	graphRetry = retryPolicy{attempts: 6, first: time.Second, maxBackoff: 8 * time.Second, maxWait: time.Minute}
	// spRetry waits out a new application's replication before its
	// service principal can be created: 400 "…does not reference a valid
	// application object" or 403 "…backing application…" (SPEC §3).
	spRetry = retryPolicy{attempts: 40, first: 500 * time.Millisecond, maxBackoff: 8 * time.Second, maxWait: time.Minute,
		budget: 2 * time.Minute, also: spReplicating}
)

// waiter is what retries need from outside: a clock, a way to sleep and
// a source of jitter, all injectable so tests neither sleep nor guess.
type waiter struct {
	// now is the wall clock that ctx deadlines and Retry-After dates are
	// in. It is not Options.Now, which tests may move by days.
	now func() time.Time
	// sleep waits d or until ctx ends (domain.Sleep).
	sleep func(ctx context.Context, d time.Duration) error
	// jitter returns a number in [0, 1).
	jitter func() float64
	log    *slog.Logger
}

// retry calls fn until it succeeds, fails in a way p does not retry, or
// the next wait would break p's caps or pass ctx's deadline; it returns
// fn's last error, unclassified, so that callers can still look at
// Graph's answer (classify makes it a domain error).
func (w waiter) retry(ctx context.Context, p retryPolicy, op string, fn func() error) error {
	backoff := p.first
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		ge := inspect(op, err)
		if attempt >= p.attempts || ctx.Err() != nil || !(ge.transient() || (p.also != nil && p.also(ge))) {
			return err
		}
		d, ok := w.delay(p, ge.RetryAfter, backoff)
		if !ok || (p.budget > 0 && waited+d > p.budget) || w.pastDeadline(ctx, d) {
			return err
		}
		w.log.InfoContext(ctx, "graph: waiting to retry", "op", op, "status", ge.Status, "code", ge.Code,
			"request_id", ge.RequestID, "wait", d, "attempt", attempt)
		if w.sleep(ctx, d) != nil {
			return err
		}
		waited += d
		backoff = min(2*backoff, p.maxBackoff)
	}
}

// delay is the wait before the next call: Graph's Retry-After (seconds or
// an HTTP date) plus up to a tenth more, so that many callers told the
// same second do not return together, never sooner than asked; without
// one, backoff less up to half (from backoff/2 to backoff). ok is false
// when Graph asks for a wait longer than p.maxWait.
func (w waiter) delay(p retryPolicy, retryAfterHeader string, backoff time.Duration) (time.Duration, bool) {
	if ra, ok := retryAfter(retryAfterHeader, w.now()); ok && ra > 0 {
		if ra > p.maxWait {
			return 0, false
		}
		return min(ra+time.Duration(w.jitter()*float64(ra)/10), p.maxWait), true
	}
	return backoff - time.Duration(w.jitter()*float64(backoff)/2), true
}

// pastDeadline reports whether waiting d would end after ctx's deadline,
// when the call could only fail for lack of time.
func (w waiter) pastDeadline(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return ok && w.now().Add(d).After(dl)
}

// call is retry for a call with a result.
func call[T any](ctx context.Context, w waiter, p retryPolicy, op string, fn func() (T, error)) (T, error) {
	var res T
	err := w.retry(ctx, p, op, func() error {
		var err error
		res, err = fn()
		return err
	})
	return res, err
}
