package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/apppass/apppass/domain"
)

// Identity maps Slack users to Entra users and asks Entra for their
// roles.
type Identity struct {
	dir   Directory
	store UserStore
	cfg   Config
	log   *slog.Logger
}

// Roles are what an Entra user may do beyond managing their own
// passwords.
type Roles struct {
	Admin    bool
	Helpdesk bool
}

// Resolve maps the Slack user who acted to an enabled Entra user and
// remembers the mapping. It returns a KindForbidden error, with a polite
// explanation, for people without an email in Slack, without an Entra
// account, or whose account is disabled; KindUpstream when Entra fails.
func (i *Identity) Resolve(ctx context.Context, actor domain.Actor) (domain.User, error) {
	if actor.Email == "" {
		return domain.User{}, domain.Errorf(domain.KindForbidden,
			"I can't see an email address on your Slack profile, so I can't match you to a Microsoft 365 account. Please ask the helpdesk.")
	}
	u, err := i.dir.FindUser(ctx, actor.Email)
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
	if err := i.store.SaveUser(ctx, actor.SlackID, u); err != nil {
		i.log.WarnContext(ctx, "user mapping not saved", "slack_user", actor.SlackID, "err", err)
	}
	return u, nil
}

// Roles asks Entra, now, which of the admin and helpdesk groups u belongs
// to. It is never cached: a person removed from the helpdesk group cannot
// approve a minute later. It returns KindUpstream when Entra fails.
func (i *Identity) Roles(ctx context.Context, u domain.User) (Roles, error) {
	groups, err := i.dir.MemberGroups(ctx, u.ID, []string{i.cfg.AdminGroup, i.cfg.HelpdeskGroup})
	if err != nil {
		return Roles{}, fmt.Errorf("roles of %s: %w", u.ID, err)
	}
	return Roles{
		Admin:    i.cfg.AdminGroup != "" && slices.Contains(groups, i.cfg.AdminGroup),
		Helpdesk: i.cfg.HelpdeskGroup != "" && slices.Contains(groups, i.cfg.HelpdeskGroup),
	}, nil
}

// resolveWithRoles resolves actor and asks for their roles. Errors as
// Resolve and Roles.
func (i *Identity) resolveWithRoles(ctx context.Context, actor domain.Actor) (domain.User, Roles, error) {
	u, err := i.Resolve(ctx, actor)
	if err != nil {
		return domain.User{}, Roles{}, err
	}
	r, err := i.Roles(ctx, u)
	return u, r, err
}

// resolveTarget maps a Slack user someone else named to their Entra user.
// Unlike Resolve it accepts disabled accounts: their passwords are exactly
// the ones a helpdesk may need to revoke. It returns KindNotFound when
// there is no such Entra user.
func (i *Identity) resolveTarget(ctx context.Context, target domain.Actor) (domain.User, error) {
	if target.Email == "" {
		return domain.User{}, domain.Errorf(domain.KindNotFound, "That Slack user has no email address on their profile, so apppass can't find them in Microsoft 365.")
	}
	u, err := i.dir.FindUser(ctx, target.Email)
	if domain.KindOf(err) == domain.KindNotFound {
		return domain.User{}, domain.Wrap(domain.KindNotFound, err, "That Slack user doesn't match a Microsoft 365 account.")
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("resolve target %s: %w", target.SlackID, err)
	}
	return u, nil
}
