package handlers

import (
	"context"
	"log/slog"
	"sort"

	"github.com/apppass/apppass/domain"
)

// Home is what a person sees on apppass's Home tab in Slack (SPEC §4):
// their own app passwords and, by role, the revocation requests that
// concern them. It reads only; every button on the tab goes through the
// same operations as the commands, which check again who may act.
type Home struct {
	passwords *Passwords
	id        *Identity
	store     RevocationLister
	cfg       Config
	log       *slog.Logger
}

// NewHome returns the Home tab over passwords and id, listing requests
// from requests. A nil log is slog.Default().
func NewHome(passwords *Passwords, id *Identity, requests RevocationLister, cfg Config, log *slog.Logger) *Home {
	return &Home{passwords: passwords, id: id, store: requests, cfg: cfg.withDefaults(), log: logOrDefault(log)}
}

// HomeState is one person's Home tab, before rendering. It never holds a
// secret: passwords are metadata only.
type HomeState struct {
	Listing Listing
	Roles   Roles
	// RolesUnknown is set when Entra could not say which groups the person
	// is in; the request lists are then left out.
	RolesUnknown bool
	// Pending are the requests waiting for a helpdesk decision, oldest
	// first; only for helpdesk members.
	Pending []PendingRequest
	// Mine are the requests the person filed, newest first; only for
	// admins. Withdrawn (never posted) requests are left out.
	Mine []domain.RevocationRequest
}

// PendingRequest is a request waiting for a decision, and whether the
// person looking at it may decide it. MayDecide is a courtesy for the
// display: Approve and Deny check again, from Entra, on every click.
type PendingRequest struct {
	domain.RevocationRequest
	MayDecide bool
	// WhyNot says why not, when MayDecide is false.
	WhyNot string
}

// View returns actor's Home tab. It returns KindForbidden, with a polite
// explanation, for people apppass cannot serve (as Passwords.List), and
// KindUpstream when Entra fails to list their passwords. A failure to read
// roles or requests leaves those parts out rather than failing the tab.
func (h *Home) View(ctx context.Context, actor domain.Actor) (HomeState, error) {
	l, err := h.passwords.List(ctx, actor)
	if err != nil {
		return HomeState{}, err
	}
	st := HomeState{Listing: l}
	r, err := h.id.Roles(ctx, l.Owner)
	if err != nil {
		h.log.WarnContext(ctx, "home: roles unavailable", "user", l.Owner.ID, "err", err)
		st.RolesUnknown = true
		return st, nil
	}
	st.Roles = r
	if !r.Admin && !r.Helpdesk {
		return st, nil
	}
	all, err := h.store.Revocations(ctx, domain.RevocationPending, domain.RevocationPartial, domain.RevocationApproving,
		domain.RevocationDone, domain.RevocationDenied, domain.RevocationExpired)
	if err != nil {
		h.log.WarnContext(ctx, "home: revocation requests unavailable", "user", l.Owner.ID, "err", err)
		st.RolesUnknown = true
		return st, nil
	}
	now := h.cfg.Now()
	for _, q := range all {
		if r.Helpdesk && (q.Status == domain.RevocationPartial || (q.Status == domain.RevocationPending && now.Before(q.ExpiresAt))) {
			p := PendingRequest{RevocationRequest: q, MayDecide: true}
			switch {
			case q.RequesterID == l.Owner.ID || q.RequesterSlack == actor.SlackID:
				p.MayDecide, p.WhyNot = false, "you asked for it"
			case q.Concerns(l.Owner.ID, actor.SlackID) && len(q.Targets) == 1:
				p.MayDecide, p.WhyNot = false, "they are your own app passwords"
			case q.Concerns(l.Owner.ID, actor.SlackID):
				p.MayDecide, p.WhyNot = false, "your own app passwords are among them"
			}
			st.Pending = append(st.Pending, p)
		}
		if r.Admin && q.RequesterID == l.Owner.ID {
			if q.Status == domain.RevocationPending && !now.Before(q.ExpiresAt) {
				q.Status = domain.RevocationExpired // the upkeep job will say so too
			}
			st.Mine = append(st.Mine, q)
		}
	}
	sort.SliceStable(st.Pending, func(i, j int) bool { return older(st.Pending[i].RevocationRequest, st.Pending[j].RevocationRequest) })
	sort.SliceStable(st.Mine, func(i, j int) bool { return older(st.Mine[j], st.Mine[i]) })
	return st, nil
}

// older orders requests by when they were filed, then by number.
func older(a, b domain.RevocationRequest) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.Before(b.CreatedAt)
	}
	return a.ID < b.ID
}

// OwnChange is what follows a change people made to their own app
// passwords (a delivered create, a delete): their Home tab shows it.
func OwnChange(actor domain.Actor) Effects {
	return Effects{RefreshHome: refreshList(actor.SlackID)}
}

// RevocationChange is what follows a change to revocation request req
// (filed, approved, denied, retried, expired, resumed): the Home tabs of
// its requester, each of its people and whoever decided it show it.
func RevocationChange(req domain.RevocationRequest) Effects {
	ids := []string{req.RequesterSlack}
	for _, t := range req.Targets {
		ids = append(ids, t.Slack)
	}
	return Effects{RefreshHome: refreshList(append(ids, req.DecidedSlack)...)}
}

// refreshList keeps the Slack user ids among ids, once each; apppass's own
// decisions ("apppass") and unknown people ("") have no Home tab.
func refreshList(ids ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" || id == "apppass" || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	return out
}
