package jobs

import (
	"context"
	"fmt"

	"github.com/apppass/apppass/domain"
)

// applicationAlertsJob tells the helpdesk, once each, of the applications
// apppass found tagged for someone but will not use: look-alikes that
// someone else registered, and duplicates of a person's application. A
// finding is marked told only once the alert is posted.
func (r *Runner) applicationAlertsJob(ctx context.Context) (domain.Counts, error) {
	counts := domain.Counts{"alerted": 0}
	found, err := r.findings.UnreportedFindings(ctx)
	if err != nil {
		return counts, fmt.Errorf("application alerts: %w", err)
	}
	for _, f := range found {
		if err := r.slack.AlertHelpdesk(ctx, findingText(f)); err != nil {
			return counts, fmt.Errorf("application alerts: %w", err)
		}
		if err := r.findings.FindingReported(context.WithoutCancel(ctx), f.ObjectID, r.now()); err != nil {
			return counts, fmt.Errorf("application alerts (posted; may be posted again): %w", err)
		}
		counts["alerted"]++
	}
	return counts, nil
}

// findingText is the helpdesk alert about f.
func findingText(f domain.ApplicationFinding) string {
	if f.Kind == domain.FindingDuplicate {
		return fmt.Sprintf("Entra user %s has a second apppass application (client id %s, object id %s, %s); "+
			"apppass keeps using the first one it recorded and never this one. Delete the duplicate in Entra once its passwords, if any, are no longer needed.",
			f.OwnerID, f.AppID, f.ObjectID, domain.Count(f.Passwords, "password", "passwords"))
	}
	return fmt.Sprintf("Look-alike application: client id %s (object id %s) is tagged as apppass's for Entra user %s, "+
		"but apppass does not own it, so someone else registered it (%s). apppass never lists it, revokes on it or issues passwords on it. "+
		"Find out who registered it and delete it.", f.AppID, f.ObjectID, f.OwnerID, domain.Count(f.Passwords, "password", "passwords"))
}
