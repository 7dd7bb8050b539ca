package handlers

import (
	"context"
	"errors"
	"fmt"

	"github.com/apppass/apppass/domain"
)

// settle looks for credentials that rec's request created but nobody
// received, removes them, and records the outcome. It reports whether the
// record is settled; an unsettled record is looked at again later,
// because a new credential can take minutes to appear in Graph.
func (s *Service) settle(ctx context.Context, rec domain.CredentialRecord) (bool, error) {
	app := domain.Application{ObjectID: rec.AppObjectID, OwnerID: rec.OwnerID}
	var targets []domain.Password
	if rec.Password.KeyID != "" {
		targets = append(targets, rec.Password)
	} else {
		fresh, found, err := s.entra.FreshApplication(ctx, rec.OwnerID)
		if err != nil {
			return false, fmt.Errorf("settle %d: %w", rec.ID, err)
		}
		delivered, err := s.deliveredKeys(ctx, rec)
		if err != nil {
			return false, err
		}
		known := map[string]bool{}
		for _, k := range rec.KnownKeys {
			known[k] = true
		}
		if found && fresh.ObjectID == rec.AppObjectID {
			for _, p := range fresh.Passwords {
				k := p.KeyID
				if domain.SameName(p.Name, rec.Name) && !known[k] && !delivered[k] {
					targets = append(targets, p)
				}
			}
		}
	}
	var errs []error
	for _, p := range targets {
		if err := s.entra.RemovePassword(ctx, app, p.KeyID); err != nil && domain.KindOf(err) != domain.KindNotFound {
			errs = append(errs, err)
			continue
		}
		s.log.InfoContext(ctx, "removed a credential nobody received", "owner", rec.OwnerID, "key_id", p.KeyID, "record", rec.ID)
		s.audit(ctx, domain.AuditEvent{ActorSlack: "apppass", SubjectID: rec.OwnerID, Action: "reconcile",
			KeyID: p.KeyID, Name: p.Name, Outcome: "removed undelivered"})
	}
	if len(errs) > 0 {
		return false, fmt.Errorf("settle %d: %w", rec.ID, errors.Join(errs...))
	}
	if len(targets) == 0 && s.cfg.Now().Sub(rec.CreatedAt) < s.cfg.GiveUpAfter {
		return false, nil
	}
	if err := s.store.SetCredentialState(ctx, rec.ID, domain.CredentialAbandoned); err != nil {
		return true, fmt.Errorf("settle %d: %w", rec.ID, err)
	}
	return true, nil
}

func (s *Service) deliveredKeys(ctx context.Context, rec domain.CredentialRecord) (map[string]bool, error) {
	recent, err := s.store.RecentCredentials(ctx, rec.OwnerID, rec.CreatedAt.Add(-s.cfg.GiveUpAfter))
	if err != nil {
		return nil, fmt.Errorf("settle %d: %w", rec.ID, err)
	}
	keys := map[string]bool{}
	for _, r := range recent {
		if r.State == domain.CredentialDelivered || r.State == domain.CredentialRemoved {
			keys[r.Password.KeyID] = true
		}
	}
	return keys, nil
}

// SettleUnsettled reconciles every credential record left pending or
// issued by a request that failed or a process that crashed: credentials
// nobody received are removed. It is run at start-up and every minute.
func (s *Service) SettleUnsettled(ctx context.Context) error {
	recs, err := s.store.UnsettledCredentials(ctx, s.cfg.Now().Add(-s.cfg.SettleAfter))
	if err != nil {
		return fmt.Errorf("settle unsettled: %w", err)
	}
	var errs []error
	for _, rec := range recs {
		unlock := s.locks.Lock(rec.OwnerID)
		_, err := s.settle(ctx, rec)
		unlock()
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
