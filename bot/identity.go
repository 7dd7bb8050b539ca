package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
)

// notServedHere is the answer to a payload from another workspace or
// organisation than the one apppass serves.
const notServedHere = "apppass serves only its own Slack workspace, so it can't act on this. Please use it from there."

// servedOrg reports whether a payload's team and enterprise ids are the
// organisation apppass serves (Config.Team): that team, or, when an
// Enterprise Grid id is configured, any workspace of that organisation.
// The home App Home and events use it too.
func (b *Bot) servedOrg(team, enterprise string) bool {
	if strings.HasPrefix(b.cfg.Team, "E") {
		return enterprise == b.cfg.Team
	}
	return team == b.cfg.Team
}

// servedUser says why Slack user u may not use apppass, or "" when they
// may: deleted accounts and bots, guests (restricted, ultra-restricted),
// external Slack Connect users (is_stranger), and members of another team
// or organisation are refused.
func (b *Bot) servedUser(u *slack.User) string {
	switch {
	case u.Deleted || u.IsBot:
		return "apppass serves people with an active Slack account only."
	case u.IsRestricted || u.IsUltraRestricted:
		return "apppass serves members of this workspace only, not guests. Please ask the helpdesk."
	case u.IsStranger:
		return "apppass serves members of this organisation only, not people from other organisations connected through Slack Connect."
	}
	if strings.HasPrefix(b.cfg.Team, "E") {
		if u.Enterprise.EnterpriseID != b.cfg.Team && u.TeamID != b.cfg.Team {
			return "apppass serves members of this organisation only."
		}
	} else if u.TeamID != b.cfg.Team {
		return "apppass serves members of this workspace only."
	}
	return ""
}

// actor resolves a Slack user to who they are for apppass: their id,
// profile email and name, when servedUser lets them in.
func (b *Bot) actor(ctx context.Context, userID string) (domain.Actor, error) {
	if a, ok := b.profiles.Get(userID); ok {
		return a, nil
	}
	u, err := b.slack.userInfo(ctx, userID)
	if err != nil {
		return domain.Actor{}, domain.Wrap(domain.KindUpstream, fmt.Errorf("users.info %s: %w", userID, err),
			"Slack did not tell me who you are. Please try again in a minute.")
	}
	if why := b.servedUser(u); why != "" {
		return domain.Actor{}, domain.Errorf(domain.KindForbidden, "%s", why)
	}
	a := domain.Actor{SlackID: u.ID, Email: u.Profile.Email, Name: u.RealName}
	b.profiles.Add(userID, a)
	return a, nil
}

// alertIdentityConflict tells the helpdesk when err is a refusal because
// a Slack account's email now points at another Entra user.
func (b *Bot) alertIdentityConflict(ctx context.Context, err error) {
	var ic *handlers.IdentityConflict
	if !errors.As(err, &ic) {
		return
	}
	// One alert a day per conflict: each refused command would repeat it.
	key := ic.SlackID + "→" + ic.NowID
	if b.conflictsAlerted.Contains(key) {
		return
	}
	b.conflictsAlerted.Add(key, struct{}{})
	if aerr := b.slack.AlertHelpdesk(ctx, ic.Alert()); aerr != nil {
		b.log.ErrorContext(ctx, "identity conflict alert not sent", "slack_user", ic.SlackID, "err", aerr)
	}
}
