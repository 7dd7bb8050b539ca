package jobs

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/apppass/apppass/domain"
)

// maxNamed bounds the passwords one notice names (each is a Block Kit
// section with a Delete button; Slack allows 50 blocks).
const maxNamed = 10

// dmWorkers is how many notices are in flight at once. Slack's 429s pace
// them (the adapter waits Retry-After); there is no blanket throttle.
const dmWorkers = 4

// candidate is a person a warning job selected, with their notice.
type candidate struct {
	who    recipient
	notice domain.Notice
}

// notifyPolicy says when a person already had enough of a kind of notice.
type notifyPolicy struct {
	kind domain.NoticeKind
	// cooldown > 0: at most one notice per person per cooldown. Zero:
	// each password is named once, ever.
	cooldown time.Duration
}

// notifyAll sends each candidate their notice, unless the store says they
// had it already, and records each one right after it was sent. It
// returns the tallies; an error when the store fails (the run stops), the
// context ends, or some notices could not be delivered (the others are
// recorded and the failed ones are tried again next run).
func (r *Runner) notifyAll(ctx context.Context, p notifyPolicy, cands []candidate, now time.Time) (domain.Counts, error) {
	counts := domain.Counts{"selected": len(cands), "sent": 0}
	if len(cands) == 0 {
		return counts, nil
	}
	who := make([]recipient, len(cands))
	for i, c := range cands {
		who[i] = c.who
	}
	ws, err := r.readWorkspace(ctx)
	if err != nil {
		return counts, err
	}
	found, err := r.resolve(ctx, ws, who)
	if err != nil {
		return counts, err
	}

	fctx, abort := context.WithCancelCause(ctx)
	defer abort(nil)
	var mu sync.Mutex
	tally := func(name string) { mu.Lock(); counts[name]++; mu.Unlock() }
	work := make(chan candidate)
	var wg sync.WaitGroup
	for range min(dmWorkers, len(cands)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				outcome, err := r.notifyOne(fctx, p, c, found[c.who.id].SlackID, now)
				if err != nil {
					abort(err)
					return
				}
				tally(outcome)
			}
		}()
	}
feed:
	for _, c := range cands {
		select {
		case work <- c:
		case <-fctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := context.Cause(fctx); err != nil {
		return counts, err
	}
	if counts["failed"] > 0 {
		return counts, fmt.Errorf("%d of %d %s notices could not be sent; they are retried next run", counts["failed"], len(cands), p.kind)
	}
	return counts, nil
}

// notifyOne checks, sends and records one notice. It returns the tally it
// counts toward ("sent", "cooldown", "already", "unreachable", "failed"),
// or an error that must stop the run.
func (r *Runner) notifyOne(ctx context.Context, p notifyPolicy, c candidate, slackID string, now time.Time) (string, error) {
	n := c.notice
	if p.cooldown > 0 {
		last, err := r.notices.LastNotified(ctx, p.kind, c.who.id)
		if err != nil {
			return "", fmt.Errorf("check %s notices of %s: %w", p.kind, c.who.id, err)
		}
		if !last.IsZero() && now.Sub(last) < p.cooldown {
			return "cooldown", nil
		}
	} else {
		done, err := r.notices.NotifiedKeys(ctx, p.kind, c.who.id)
		if err != nil {
			return "", fmt.Errorf("check %s notices of %s: %w", p.kind, c.who.id, err)
		}
		fresh := n.Passwords[:0:0]
		for _, pw := range n.Passwords {
			if !done[pw.KeyID] {
				fresh = append(fresh, pw)
			}
		}
		if len(fresh) == 0 {
			return "already", nil
		}
		n.Passwords = fresh
	}
	if slackID == "" {
		return "unreachable", nil
	}
	if len(n.Passwords) > maxNamed {
		n.More, n.Passwords = len(n.Passwords)-maxNamed, n.Passwords[:maxNamed]
	}
	if err := r.slack.SendNotice(ctx, slackID, n); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("notify %s: %w", c.who.id, context.Cause(ctx))
		}
		r.log.WarnContext(ctx, "notice not delivered", "kind", p.kind, "person", c.who.id, "slack_id", slackID, "err", err)
		return "failed", nil
	}
	keys := make([]string, 0, len(n.Passwords))
	for _, pw := range n.Passwords {
		keys = append(keys, pw.KeyID)
	}
	if len(keys) == 0 {
		keys = []string{""}
	}
	// Sent: record it even if the run is being cancelled, or it would be
	// sent again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.notices.RecordNotification(rctx, p.kind, c.who.id, keys, now); err != nil {
		return "", fmt.Errorf("record %s notice to %s (sent; may be sent again): %w", p.kind, c.who.id, err)
	}
	return "sent", nil
}

// warningJob is a rule that picks people to warn, and how often.
type warningJob struct {
	policy  notifyPolicy
	lastUse bool // needs sign-in data
	// pick returns the notice for h, or false when h is not to be warned.
	// It keeps only what the notice needs.
	pick func(h holder, now time.Time) (domain.Notice, bool)
}

// runWarning scans the tenant once, keeping only the people w picks, then
// notifies them.
func (r *Runner) runWarning(ctx context.Context, w warningJob) (domain.Counts, error) {
	now := r.now()
	holders := 0
	var cands []candidate
	_, err := r.scan(ctx, w.lastUse, func(h holder) error {
		holders++
		if n, ok := w.pick(h, now); ok {
			cands = append(cands, candidate{who: h.recipient, notice: n})
		}
		return ctx.Err()
	})
	if err != nil {
		return domain.Counts{"holders": holders}, err
	}
	counts, err := r.notifyAll(ctx, w.policy, cands, now)
	counts["holders"] = holders
	return counts, err
}
