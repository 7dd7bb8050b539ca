package handlers

import (
	"context"
	"fmt"
	"slices"

	"github.com/apppass/apppass/domain"
)

// Roles are what an Entra user may do beyond managing their own
// passwords.
type Roles struct {
	Admin    bool
	Helpdesk bool
}

// roles asks Entra, now, which of the admin and helpdesk groups u belongs
// to. It is never cached: a person removed from the helpdesk group cannot
// approve a minute later.
func (s *Service) roles(ctx context.Context, u domain.User) (Roles, error) {
	groups, err := s.dir.MemberGroups(ctx, u.ID, []string{s.cfg.AdminGroup, s.cfg.HelpdeskGroup})
	if err != nil {
		return Roles{}, fmt.Errorf("roles of %s: %w", u.ID, err)
	}
	return Roles{
		Admin:    s.cfg.AdminGroup != "" && slices.Contains(groups, s.cfg.AdminGroup),
		Helpdesk: s.cfg.HelpdeskGroup != "" && slices.Contains(groups, s.cfg.HelpdeskGroup),
	}, nil
}

// resolveTarget maps a Slack user someone else named to their Entra user.
// Unlike Resolve it accepts disabled accounts: their passwords are exactly
// the ones a helpdesk may need to revoke.
func (s *Service) resolveTarget(ctx context.Context, target domain.Actor) (domain.User, error) {
	if target.Email == "" {
		return domain.User{}, domain.Errorf(domain.KindNotFound, "That Slack user has no email address on their profile, so apppass can't find them in Microsoft 365.")
	}
	u, err := s.dir.FindUser(ctx, target.Email)
	if domain.KindOf(err) == domain.KindNotFound {
		return domain.User{}, domain.Wrap(domain.KindNotFound, err, "That Slack user doesn't match a Microsoft 365 account.")
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("resolve target %s: %w", target.SlackID, err)
	}
	return u, nil
}
