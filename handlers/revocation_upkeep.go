package handlers

import (
	"context"
	"fmt"

	"github.com/apppass/apppass/domain"
)

// Expire marks requests past their time as expired, audits
// them, and returns them so their messages can say so.
func (s *Revocations) Expire(ctx context.Context) ([]domain.RevocationRequest, error) {
	expired, err := s.store.ExpireRevocations(ctx, s.cfg.Now())
	for _, r := range expired {
		s.audit.record(ctx, domain.AuditEvent{ActorSlack: "apppass", SubjectID: r.TargetID, Action: "revoke-expire",
			Name: fmt.Sprintf("#%d", r.ID), Outcome: "expired"})
	}
	if err != nil {
		return expired, fmt.Errorf("expire revocations: %w", err)
	}
	return expired, nil
}

// ResumeApprovals finishes approvals a crash interrupted: requests left
// "approving" for longer than ResumeAfter are carried out again;
// removals are idempotent. It returns the requests it finished, to be
// published like any decision.
func (s *Revocations) ResumeApprovals(ctx context.Context) ([]domain.RevocationRequest, error) {
	stuck, err := s.store.Revocations(ctx, domain.RevocationApproving)
	if err != nil {
		return nil, err
	}
	var out []domain.RevocationRequest
	for _, r := range stuck {
		if s.cfg.Now().Sub(r.DecidedAt) < s.cfg.ResumeAfter {
			continue
		}
		done, err := s.executeRevocation(ctx, r, r.DecidedSlack, r.DecidedID)
		if err != nil {
			return out, err
		}
		out = append(out, done)
	}
	return out, nil
}
