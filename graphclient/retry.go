package graphclient

import (
	"context"
	"errors"
	"time"

	"github.com/apppass/apppass/domain"
)

// retryPolicy retries the gateway's Graph calls on 429, 5xx and network
// failures, after Retry-After when Graph gives one, within the caller's
// deadline.
type retryPolicy struct {
	maxAttempts int
	backoff     time.Duration // first wait without Retry-After; doubles
	maxWait     time.Duration // cap on one wait, Retry-After included
	// until returns the time left before a deadline (time.Until); tests
	// may replace it.
	until func(time.Time) time.Duration
}

// defaultRetry is the gateway's policy: 6 attempts, 1 s doubling to 8 s,
// waits of at most 60 s.
func defaultRetry() retryPolicy {
	return retryPolicy{maxAttempts: 6, backoff: time.Second, maxWait: time.Minute, until: time.Until}
}

// do calls fn until it succeeds, fails for good, or the next wait would
// pass ctx's deadline; fn's failures are *sendFailure or domain errors,
// and what do returns is always a domain error (or nil).
func (p retryPolicy) do(ctx context.Context, fn func() error) error {
	wait := p.backoff
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		var sf *sendFailure
		if !errors.As(err, &sf) {
			return err
		}
		if !sf.transient() || attempt >= p.maxAttempts {
			return sf.domainError()
		}
		d := wait
		if s := sf.retryAfterSeconds(); s > 0 {
			d = time.Duration(s) * time.Second
		}
		if d > p.maxWait {
			return sf.domainError()
		}
		if dl, ok := ctx.Deadline(); ok && p.until(dl) < d {
			return sf.domainError()
		}
		if domain.Sleep(ctx, d) != nil {
			return sf.domainError()
		}
		wait = min(2*wait, 8*time.Second)
	}
}
