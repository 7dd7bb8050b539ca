package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/apppass/apppass/domain"
)

// reconcileCredentialsJob removes credentials that failed requests or
// crashed processes created and nobody received (handlers.Reconciler).
func (r *Runner) reconcileCredentialsJob(ctx context.Context) (domain.Counts, error) {
	counts, err := r.reconciler.Reconcile(ctx)
	if err != nil {
		return counts, fmt.Errorf("reconcile credentials: %w", err)
	}
	return counts, nil
}

// revocationUpkeepJob expires revocation requests past their time and
// finishes approvals a crash interrupted, and publishes each one changed:
// its helpdesk message says so and the people concerned are told.
func (r *Runner) revocationUpkeepJob(ctx context.Context) (domain.Counts, error) {
	counts := domain.Counts{"expired": 0, "resumed": 0}
	expired, expErr := r.revocations.Expire(ctx)
	for _, req := range expired {
		r.slack.PublishRevocation(ctx, req)
	}
	counts["expired"] = len(expired)
	resumed, resErr := r.revocations.ResumeApprovals(ctx)
	var toldErrs []error
	for _, req := range resumed {
		if err := r.revocations.Told(ctx, req.ID, r.slack.PublishRevocation(ctx, req)); err != nil {
			toldErrs = append(toldErrs, err)
		}
	}
	counts["resumed"] = len(resumed)
	if err := errors.Join(expErr, resErr, errors.Join(toldErrs...)); err != nil {
		return counts, fmt.Errorf("revocation upkeep: %w", err)
	}
	return counts, nil
}
