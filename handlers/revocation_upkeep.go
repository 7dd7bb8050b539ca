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
		for _, t := range r.Targets {
			s.audit.record(ctx, domain.AuditEvent{ActorSlack: "apppass", SubjectID: t.ID, Action: "revoke-expire",
				Name: fmt.Sprintf("#%d", r.ID), Outcome: "expired"})
		}
	}
	if err != nil {
		return expired, fmt.Errorf("expire revocations: %w", err)
	}
	return expired, nil
}

// ResumeApprovals finishes approvals a crash interrupted: requests left
// "approving" for longer than ResumeAfter are claimed (ClaimResume, so
// that of several replicas exactly one resumes each) and carried out
// again; removals are idempotent. It returns the requests it finished, to
// be published like any decision.
func (s *Revocations) ResumeApprovals(ctx context.Context) ([]domain.RevocationRequest, error) {
	stuck, err := s.store.Revocations(ctx, domain.RevocationApproving)
	if err != nil {
		return nil, err
	}
	var out []domain.RevocationRequest
	for _, r := range stuck {
		now := s.cfg.Now()
		if now.Sub(r.DecidedAt) < s.cfg.ResumeAfter {
			continue
		}
		won, err := s.store.ClaimResume(ctx, r.ID, s.cfg.Instance, now, s.cfg.ResumeAfter)
		if err != nil {
			return out, err
		}
		if !won {
			continue
		}
		s.log.InfoContext(ctx, "resuming an interrupted approval", "request", r.ID, "instance", s.cfg.Instance)
		done, err := s.executeRevocation(ctx, r, r.DecidedSlack, r.DecidedID)
		if err != nil {
			return out, err
		}
		out = append(out, done)
	}
	return out, nil
}
