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
	dir     Directory
	store   UserStore
	cfg     Config
	log     *slog.Logger
	unknown unknownPeople
}

// NewIdentity returns the Identity that finds people in dir and pins
// Slack users to them in users. A nil log is slog.Default().
func NewIdentity(dir Directory, users UserStore, cfg Config, log *slog.Logger) *Identity {
	cfg = cfg.withDefaults()
	return &Identity{dir: dir, store: users, cfg: cfg, log: logOrDefault(log), unknown: unknownPeople{now: cfg.Now}}
}

// Roles are what an Entra user may do beyond managing their own
// passwords.
type Roles struct {
	Admin    bool
	Helpdesk bool
	// NotCreator: APPPASS_CREATORS_GROUP limits creating app passwords
	// to its members, and this person is not one.
	NotCreator bool
}

// Resolve maps the Slack user who acted to an enabled Entra user. The
// email may be looked up in a cache, but the Slack id must be pinned to
// the same Entra user (PinUser) and accountEnabled is read fresh from
// Entra every time: every operation that writes or decides goes through
// Resolve, so a person disabled a moment ago can do neither. It returns a
// KindForbidden error, with a polite explanation, for people without an
// email in Slack, without an Entra account, whose account is disabled, or
// whose Slack id is pinned to another Entra user (caused by an
// *IdentityConflict); KindUpstream when Entra fails. People without an
// email or an Entra account are remembered as unknown for a minute: their
// repeats cost no Graph call.
func (i *Identity) Resolve(ctx context.Context, actor domain.Actor) (domain.User, error) {
	if err, ok := i.unknown.get(actor.SlackID); ok {
		return domain.User{}, err
	}
	if actor.Email == "" {
		err := domain.Errorf(domain.KindForbidden,
			"I can't see an email address on your Slack profile, so I can't match you to a Microsoft 365 account. Please ask the helpdesk.")
		i.unknown.remember(actor.SlackID, err)
		return domain.User{}, err
	}
	u, err := i.dir.FindUser(ctx, actor.Email)
	if domain.KindOf(err) == domain.KindNotFound {
		err := domain.Wrap(domain.KindForbidden, err,
			"Your Slack email address doesn't match a Microsoft 365 account, so apppass can't manage app passwords for you. Please ask the helpdesk.")
		i.unknown.remember(actor.SlackID, err)
		return domain.User{}, err
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("resolve %s: %w", actor.SlackID, err)
	}
	pinned, err := i.store.PinUser(ctx, actor.SlackID, u)
	if err != nil {
		return domain.User{}, fmt.Errorf("resolve %s: %w", actor.SlackID, err)
	}
	if pinned != u.ID {
		return domain.User{}, domain.Wrap(domain.KindForbidden,
			&IdentityConflict{SlackID: actor.SlackID, Email: actor.Email, PinnedID: pinned, NowID: u.ID},
			"Your Slack account is linked to a different Microsoft 365 account than the one your email address now belongs to, so apppass won't act for you. The helpdesk has been told; please ask them.")
	}
	fresh, err := i.dir.FreshUser(ctx, u.ID)
	if domain.KindOf(err) == domain.KindNotFound {
		return domain.User{}, domain.Wrap(domain.KindForbidden, err,
			"Your Microsoft 365 account no longer exists, so apppass can't manage app passwords for you. Please ask the helpdesk.")
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("resolve %s: %w", actor.SlackID, err)
	}
	u = fresh
	if !u.AccountEnabled {
		return domain.User{}, domain.Errorf(domain.KindForbidden,
			"Your Microsoft 365 account is disabled, so you can't manage app passwords. Please ask the helpdesk.")
	}
	return u, nil
}

// IdentityConflict is the cause of Resolve's refusal when a Slack user's
// profile email now resolves to another Entra user than the one the Slack
// id was pinned to on first use: a renamed account, a recycled address, or
// someone who changed their Slack email to take over another person's
// app passwords. apppass never re-points the mapping; the helpdesk is
// alerted (Alert) and sorts it out.
type IdentityConflict struct {
	SlackID  string
	Email    string // the profile email now
	PinnedID string // the Entra user the Slack id is pinned to
	NowID    string // the Entra user the email resolves to now
}

func (e *IdentityConflict) Error() string {
	return fmt.Sprintf("slack user %s is pinned to entra user %s but its email resolves to %s", e.SlackID, e.PinnedID, e.NowID)
}

// Alert is the helpdesk channel's message about the conflict.
func (e *IdentityConflict) Alert() string {
	return fmt.Sprintf("Identity conflict: Slack user %s has the profile email %s, which now belongs to Entra user %s, "+
		"but apppass pinned this Slack account to Entra user %s on first use. apppass refused to act for them and did not re-point the account. "+
		"If this is expected (for example a re-created account), an apppass administrator must remove the mapping from the database.",
		e.SlackID, e.Email, e.NowID, e.PinnedID)
}

// Roles asks Entra, now, which of the admin, helpdesk and creators
// groups u belongs to (transitively). It is never cached: a person
// removed from the helpdesk group cannot approve a minute later. It
// returns KindUpstream when Entra fails.
func (i *Identity) Roles(ctx context.Context, u domain.User) (Roles, error) {
	ids := []string{i.cfg.AdminGroup, i.cfg.HelpdeskGroup}
	if i.cfg.CreatorsGroup != "" {
		ids = append(ids, i.cfg.CreatorsGroup)
	}
	groups, err := i.dir.MemberGroups(ctx, u.ID, ids)
	if err != nil {
		return Roles{}, fmt.Errorf("roles of %s: %w", u.ID, err)
	}
	return Roles{
		Admin:      i.cfg.AdminGroup != "" && slices.Contains(groups, i.cfg.AdminGroup),
		Helpdesk:   i.cfg.HelpdeskGroup != "" && slices.Contains(groups, i.cfg.HelpdeskGroup),
		NotCreator: i.cfg.CreatorsGroup != "" && !slices.Contains(groups, i.cfg.CreatorsGroup),
	}, nil
}

// ErrNotCreator is the refusal of a create by someone outside
// APPPASS_CREATORS_GROUP: it says whom to ask.
func ErrNotCreator() error {
	return domain.Errorf(domain.KindForbidden,
		"Creating app passwords is limited to a group in your organisation, and you are not in it. You can still list and delete the ones you have. To create one, ask the helpdesk to add you to the app password creators group.")
}

// MayCreate reports, fresh from Entra, whether u may create app
// passwords: always without a creators group, else when u is a
// (transitive) member of it. KindUpstream when Entra fails.
func (i *Identity) MayCreate(ctx context.Context, u domain.User) (bool, error) {
	if i.cfg.CreatorsGroup == "" {
		return true, nil
	}
	r, err := i.Roles(ctx, u)
	return !r.NotCreator, err
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
