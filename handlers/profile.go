package handlers

import (
	"context"
	"fmt"

	"github.com/apppass/apppass/domain"
)

// Profile is what the helpdesk sees of one person: their app passwords
// (no secrets) and their recent audit trail.
type Profile struct {
	Listing
	Events []domain.AuditEvent
}

// profileEvents is how much of the audit trail a profile shows.
const profileEvents = 15

// Show returns target's profile for a helpdesk member. It returns
// KindForbidden for everyone else, KindNotFound for a target apppass
// cannot find in Entra.
func (s *Passwords) Show(ctx context.Context, actor, target domain.Actor) (Profile, error) {
	u, r, err := s.id.resolveWithRoles(ctx, actor)
	if err != nil {
		return Profile{}, err
	}
	if !r.Helpdesk {
		return Profile{}, domain.Errorf(domain.KindForbidden, "Only the helpdesk can look at someone else's app passwords.")
	}
	subject, err := s.id.resolveTarget(ctx, target)
	if err != nil {
		return Profile{}, err
	}
	l, h, err := s.holdings.listing(ctx, subject)
	if err != nil {
		return Profile{}, fmt.Errorf("show: %w", err)
	}
	s.addLastUse(ctx, h)
	events, err := s.store.AuditFor(ctx, subject.ID, profileEvents)
	if err != nil {
		return Profile{}, fmt.Errorf("show: %w", err)
	}
	s.audit.record(ctx, domain.AuditEvent{ActorSlack: actor.SlackID, ActorID: u.ID, SubjectID: subject.ID, Action: "show", Outcome: "ok"})
	return Profile{Listing: l, Events: events}, nil
}
