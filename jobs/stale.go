package jobs

import (
	"context"
	"strings"
	"time"

	"github.com/apppass/apppass/domain"
)

// staleWarningJob DMs everyone holding stale app passwords (see isStale),
// naming them with Delete buttons, at most once per person per
// NotifyCooldown.
func (r *Runner) staleWarningJob(ctx context.Context) (domain.Counts, error) {
	return r.runWarning(ctx, warningJob{
		policy:  notifyPolicy{kind: domain.NoticeStale, cooldown: r.cfg.NotifyCooldown},
		lastUse: true,
		pick:    r.staleNotice,
	})
}

// isStale is the stale rule: created StaleAfter or longer ago (179 days
// no, 180 yes), or, where the tenant has sign-in data, not used for
// UnusedAfter or longer — counting from creation when it was never used.
func (r *Runner) isStale(p domain.Password, now time.Time, lastUseKnown bool) bool {
	if p.Created.IsZero() {
		return false
	}
	if now.Sub(p.Created) >= r.cfg.StaleAfter {
		return true
	}
	if !lastUseKnown {
		return false
	}
	since := p.Created
	if p.LastUsed != nil && p.LastUsed.After(since) {
		since = *p.LastUsed
	}
	return now.Sub(since) >= r.cfg.UnusedAfter
}

func (r *Runner) staleNotice(h holder, now time.Time) (domain.Notice, bool) {
	var stale []domain.Password
	for _, p := range h.Passwords {
		if r.isStale(p, now, h.LastUseKnown) {
			stale = append(stale, p)
		}
	}
	if len(stale) == 0 {
		return domain.Notice{}, false
	}
	sortOldestFirst(stale)
	return domain.Notice{
		Kind: domain.NoticeStale, At: now, Held: len(h.Passwords), Max: r.cfg.Limits.MaxPerUser, Passwords: stale,
		StaleAfter: r.cfg.StaleAfter, UnusedAfter: r.cfg.UnusedAfter, LastUseKnown: h.LastUseKnown,
	}, true
}

func compareFold(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }
