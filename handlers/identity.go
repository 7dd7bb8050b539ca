package handlers

import (
	"context"
	"fmt"

	"github.com/apppass/apppass/domain"
)

// Resolve maps the Slack user who acted to an enabled Entra user and
// remembers the mapping. It returns a KindForbidden error, with a polite
// explanation, for people without an email in Slack, without an Entra
// account, or whose account is disabled.
func (s *Service) Resolve(ctx context.Context, actor domain.Actor) (domain.User, error) {
	if actor.Email == "" {
		return domain.User{}, domain.Errorf(domain.KindForbidden,
			"I can't see an email address on your Slack profile, so I can't match you to a Microsoft 365 account. Please ask the helpdesk.")
	}
	u, err := s.dir.FindUser(ctx, actor.Email)
	if domain.KindOf(err) == domain.KindNotFound {
		return domain.User{}, domain.Wrap(domain.KindForbidden, err,
			"Your Slack email address doesn't match a Microsoft 365 account, so apppass can't manage app passwords for you. Please ask the helpdesk.")
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("resolve %s: %w", actor.SlackID, err)
	}
	if !u.AccountEnabled {
		return domain.User{}, domain.Errorf(domain.KindForbidden,
			"Your Microsoft 365 account is disabled, so you can't manage app passwords. Please ask the helpdesk.")
	}
	if err := s.store.SaveUser(ctx, actor.SlackID, u); err != nil {
		s.log.WarnContext(ctx, "user mapping not saved", "slack_user", actor.SlackID, "err", err)
	}
	return u, nil
}
