package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
)

// Directory reads the users delta of Entra; *graphclient.Client
// satisfies it.
type Directory interface {
	// UsersDelta calls fn with each user changed since link (every user
	// when link is empty) and returns the next delta link. An error
	// wrapping domain.ErrDeltaExpired means link is no longer valid.
	UsersDelta(ctx context.Context, link string, fn func(domain.DirectoryChange) error) (string, error)
}

// Offboarder acts on people who left; *handlers.Revocations satisfies
// it.
type Offboarder interface {
	// Offboard removes, or asks the helpdesk to revoke, the app passwords
	// of a person whose account was disabled or deleted.
	Offboard(ctx context.Context, c domain.DirectoryChange, action string) (handlers.Leaver, error)
	// Posted records where a request was posted for the helpdesk.
	Posted(ctx context.Context, id int64, channel, ts string) error
	// Cancel withdraws a request that could not be posted.
	Cancel(ctx context.Context, id int64) error
}

// usersDeltaLink names the stored users delta link.
const usersDeltaLink = "users"

// offboardingJob reads the users delta from the stored delta link (a full
// sync the first time, or when Graph expired the link) and acts on every
// person disabled or deleted who holds app passwords, by
// Config.OffboardingAction. The new delta link is stored only when every
// leaver was handled, so a failure is retried with the same changes next
// run; Offboard is idempotent.
func (r *Runner) offboardingJob(ctx context.Context) (domain.Counts, error) {
	counts := domain.Counts{"changes": 0, "leavers": 0, "holders": 0, "removed": 0, "requested": 0, "failed": 0, "full_sync": 0}
	link, err := r.deltaLinks.DeltaLink(ctx, usersDeltaLink)
	if err != nil {
		return counts, fmt.Errorf("offboarding: %w", err)
	}
	var leavers []domain.DirectoryChange
	var seen map[string]bool // a full sync's users: whoever is missing was deleted
	collect := func(c domain.DirectoryChange) error {
		counts["changes"]++
		if seen != nil {
			seen[c.UserID] = true
		}
		if c.Left() {
			leavers = append(leavers, c)
		}
		return ctx.Err()
	}
	if link == "" {
		seen = map[string]bool{}
	}
	next, err := r.directory.UsersDelta(ctx, link, collect)
	if errors.Is(err, domain.ErrDeltaExpired) {
		r.log.WarnContext(ctx, "users delta link expired; reading the directory in full", "err", err)
		link, leavers, seen, counts["changes"] = "", nil, map[string]bool{}, 0
		next, err = r.directory.UsersDelta(ctx, "", collect)
	}
	if err != nil {
		return counts, fmt.Errorf("offboarding: read users delta: %w", err)
	}
	if link == "" {
		counts["full_sync"] = 1
		if leavers, err = r.onlyHolders(ctx, leavers, seen); err != nil {
			return counts, fmt.Errorf("offboarding: %w", err)
		}
	}
	counts["leavers"] = len(leavers)
	var errs []error
	for _, c := range leavers {
		if err := r.offboardOne(ctx, c, counts); err != nil {
			counts["failed"]++
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return counts, fmt.Errorf("offboarding: %d of %d leavers not done; retried next run: %w", len(errs), len(leavers), errors.Join(errs...))
	}
	if err := r.deltaLinks.SaveDeltaLink(ctx, usersDeltaLink, next); err != nil {
		return counts, fmt.Errorf("offboarding: %w", err)
	}
	return counts, nil
}

// onlyHolders keeps, of the leavers a full sync found (possibly every
// disabled account of the tenant), those who hold an apppass application,
// and adds the holders the full sync did not list at all: deleted while
// no delta link was valid. One paged scan instead of a look-up per person.
func (r *Runner) onlyHolders(ctx context.Context, leavers []domain.DirectoryChange, seen map[string]bool) ([]domain.DirectoryChange, error) {
	left := make(map[string]bool, len(leavers))
	for _, c := range leavers {
		left[c.UserID] = true
	}
	holders := map[string]bool{}
	var gone []domain.DirectoryChange
	err := r.entra.ScanHolders(ctx, nil, func(app domain.Application, upn string) error {
		switch {
		case left[app.OwnerID]:
			holders[app.OwnerID] = true
		case !seen[app.OwnerID] && !holders[app.OwnerID]:
			holders[app.OwnerID] = true
			gone = append(gone, domain.DirectoryChange{UserID: app.OwnerID, UPN: upn, Removed: "deleted"})
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("scan holders: %w", err)
	}
	var out []domain.DirectoryChange
	for _, c := range leavers {
		if holders[c.UserID] {
			out = append(out, c)
		}
	}
	return append(out, gone...), nil
}

// offboardOne acts on one leaver and tells the helpdesk.
func (r *Runner) offboardOne(ctx context.Context, c domain.DirectoryChange, counts domain.Counts) error {
	l, err := r.offboarding.Offboard(ctx, c, r.cfg.OffboardingAction)
	if l.Held > 0 {
		counts["holders"]++
	}
	counts["removed"] += l.Removed
	if l.Removed > 0 {
		msg := fmt.Sprintf("Offboarding: removed %s of %s because their Entra account was %s.",
			domain.Plural(l.Removed, "the only app password", "all "+domain.Count(l.Removed, "app password", "app passwords")), l.Name, l.Reason)
		if l.Failed > 0 {
			msg = fmt.Sprintf("Offboarding: removed %d of %s of %s because their Entra account was %s; %s and %s retried.",
				l.Removed, domain.Count(l.Held, "app password", "app passwords"), l.Name, l.Reason,
				domain.Count(l.Failed, "removal failed", "removals failed"), domain.Plural(l.Failed, "is", "are"))
		}
		if aerr := r.slack.AlertHelpdesk(ctx, msg); aerr != nil {
			r.log.WarnContext(ctx, "offboarding: helpdesk not told", "owner", c.UserID, "err", aerr)
		}
	}
	if err != nil {
		return fmt.Errorf("offboard %s: %w", c.UserID, err)
	}
	if l.Request == nil {
		return nil
	}
	channel, ts, err := r.slack.PostRevocationRequest(ctx, *l.Request)
	if err != nil {
		if cerr := r.offboarding.Cancel(context.WithoutCancel(ctx), l.Request.ID); cerr != nil {
			r.log.ErrorContext(ctx, "offboarding: unposted request not withdrawn", "request", l.Request.ID, "err", cerr)
		}
		return fmt.Errorf("offboard %s: post request: %w", c.UserID, err)
	}
	if err := r.offboarding.Posted(ctx, l.Request.ID, channel, ts); err != nil {
		r.log.ErrorContext(ctx, "offboarding: request message not recorded", "request", l.Request.ID, "err", err)
	}
	counts["requested"]++
	return nil
}
