package jobs

import (
	"context"
	"fmt"

	"github.com/apppass/apppass/domain"
)

// retentionJob prunes what store.Prune ages out (the audit events,
// notifications sent, job runs and gateway removal records) older than
// AuditRetention (SPEC §11); `apppass audit export` takes the
// trail to a SIEM before then.
func (r *Runner) retentionJob(ctx context.Context) (domain.Counts, error) {
	counts, err := r.prune.Prune(ctx, r.now().Add(-r.cfg.AuditRetention))
	if err != nil {
		return counts, fmt.Errorf("retention: %w", err)
	}
	return counts, nil
}
