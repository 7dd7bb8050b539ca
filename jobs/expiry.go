package jobs

import (
	"context"
	"slices"
	"time"

	"github.com/apppass/apppass/domain"
)

// expiryWarningJob DMs everyone whose app passwords expire within
// ExpiryWarning, naming them. Each password is named once, ever: the
// cooldown is per password, not per person.
func (r *Runner) expiryWarningJob(ctx context.Context) (domain.Counts, error) {
	return r.runWarning(ctx, warningJob{
		policy: notifyPolicy{kind: domain.NoticeExpiry},
		pick:   r.expiryNotice,
	})
}

// expiresSoon is the expiry rule: not yet expired, and expiring at most
// ExpiryWarning from now, inclusive — with 14 days, a password expiring
// in 13 or exactly 14 days is warned of, one expiring in 14 days and a
// second is not (until the next day's run).
func (r *Runner) expiresSoon(p domain.Password, now time.Time) bool {
	return !p.Expires.IsZero() && p.Expires.After(now) && !p.Expires.After(now.Add(r.cfg.ExpiryWarning))
}

// expired reports whether p has expired by now.
func expired(p domain.Password, now time.Time) bool {
	return !p.Expires.IsZero() && !p.Expires.After(now)
}

func (r *Runner) expiryNotice(h holder, now time.Time) (domain.Notice, bool) {
	var soon []domain.Password
	for _, p := range h.Passwords {
		if r.expiresSoon(p, now) {
			soon = append(soon, p)
		}
	}
	if len(soon) == 0 {
		return domain.Notice{}, false
	}
	slices.SortStableFunc(soon, func(a, b domain.Password) int { return a.Expires.Compare(b.Expires) })
	return domain.Notice{
		Kind: domain.NoticeExpiry, At: now, Held: len(h.Passwords), Max: r.cfg.Limits.MaxPerUser, Passwords: soon,
		ExpiryWarning: r.cfg.ExpiryWarning,
	}, true
}
