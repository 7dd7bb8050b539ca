package jobs

import (
	"context"
	"slices"
	"time"

	"github.com/apppass/apppass/domain"
)

// limitWarningJob DMs everyone holding WarnAt or more app passwords
// ("N of 40"), naming their oldest with Delete buttons, at most once per
// person per NotifyCooldown.
func (r *Runner) limitWarningJob(ctx context.Context) (domain.Counts, error) {
	return r.runWarning(ctx, warningJob{
		policy: notifyPolicy{kind: domain.NoticeLimit, cooldown: r.cfg.NotifyCooldown},
		pick:   r.limitNotice,
	})
}

func (r *Runner) limitNotice(h holder, now time.Time) (domain.Notice, bool) {
	if !r.cfg.Limits.Near(len(h.Passwords)) {
		return domain.Notice{}, false
	}
	ps := slices.Clone(h.Passwords)
	sortOldestFirst(ps)
	return domain.Notice{Kind: domain.NoticeLimit, At: now, Held: len(ps), Max: r.cfg.Limits.MaxPerUser, Passwords: ps}, true
}

// sortOldestFirst orders by creation, then name, so notices are stable.
func sortOldestFirst(ps []domain.Password) {
	slices.SortStableFunc(ps, func(a, b domain.Password) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return compareFold(a.Name, b.Name)
	})
}
