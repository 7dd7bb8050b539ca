package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/apppass/apppass/domain"
)

// Revocations are the two-person rule: an admin asks for someone's app
// passwords to be revoked, a helpdesk member who is neither the requester
// nor the target decides. Roles are asked of Entra at every step. Each
// decision returns the request as it now stands, for the caller to
// publish (rewrite the helpdesk message, tell the people concerned).
type Revocations struct {
	id       *Identity
	entra    RevocationEntra
	store    RevocationStore
	audit    auditor
	apps     applications
	holdings holdings
	cfg      Config
	log      *slog.Logger
}

// NewRevocations returns the Revocations over entra and store, resolving
// people with id and choosing applications with trust. A nil log is
// slog.Default().
func NewRevocations(id *Identity, trust *Trust, entra RevocationEntra, store RevocationStore, cfg Config, log *slog.Logger) *Revocations {
	cfg, log = cfg.withDefaults(), logOrDefault(log)
	apps := applications{entra: entra, store: store, trust: trust, log: log}
	return &Revocations{id: id, entra: entra, store: store, audit: auditor{store: store, log: log}, apps: apps,
		holdings: holdings{apps: apps, store: store, cfg: cfg}, cfg: cfg, log: log}
}

// maxReason bounds the reason an admin or helpdesk member types.
const maxReason = 500

// Request files an admin's request to revoke target's password
// called name, or all of them. Nothing is revoked until a helpdesk member
// approves. It returns KindForbidden unless the actor is an admin,
// KindInvalid without a reason, KindNotFound for an unknown target or
// password, and KindConflict when --all finds nothing to revoke.
func (s *Revocations) Request(ctx context.Context, actor, target domain.Actor, name string, all bool, reason string) (domain.RevocationRequest, error) {
	requester, err := s.id.Resolve(ctx, actor)
	if err != nil {
		return domain.RevocationRequest{}, err
	}
	refuse := func(err error) (domain.RevocationRequest, error) {
		s.audit.record(ctx, domain.AuditEvent{ActorSlack: actor.SlackID, ActorID: requester.ID, Action: "revoke-request",
			Name: domain.Clip(name, maxAuditText), Outcome: "refused: " + domain.KindOf(err).String()})
		return domain.RevocationRequest{}, err
	}
	r, err := s.id.Roles(ctx, requester)
	if err != nil {
		return domain.RevocationRequest{}, err
	}
	if !r.Admin {
		return refuse(domain.Errorf(domain.KindForbidden, "Only apppass admins can ask for revocations."))
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return refuse(domain.Errorf(domain.KindInvalid, "Please give a reason; the person will be told it."))
	}
	if len([]rune(reason)) > maxReason {
		return refuse(domain.Errorf(domain.KindInvalid, "Please keep the reason under %d characters.", maxReason))
	}
	subject, err := s.id.resolveTarget(ctx, target)
	if err != nil {
		return refuse(err)
	}
	var h holding
	if all {
		h, err = s.holdings.everything(ctx, subject, false) // duplicates' passwords too
	} else {
		h, err = s.holdings.current(ctx, subject)
	}
	if err != nil {
		return domain.RevocationRequest{}, fmt.Errorf("request revocation: %w", err)
	}
	req := domain.RevocationRequest{
		RequesterSlack: actor.SlackID, RequesterID: requester.ID, TargetSlack: target.SlackID, TargetID: subject.ID,
		TargetName: subject.UserPrincipalName, All: all, Reason: reason, ExpiresAt: s.cfg.Now().Add(s.cfg.RequestTTL),
	}
	for _, p := range h.all() {
		if all || domain.SameName(p.Name, name) {
			req.Items = append(req.Items, domain.RevocationItem{Password: p})
		}
	}
	switch {
	case len(req.Items) == 0 && all:
		return refuse(domain.Errorf(domain.KindConflict, "%s has no app passwords, so there is nothing to revoke.", subject.UserPrincipalName))
	case len(req.Items) == 0:
		return refuse(domain.Errorf(domain.KindNotFound, "%s has no app password called “%s”.", subject.UserPrincipalName, domain.Clip(strings.TrimSpace(name), maxAuditText)))
	}
	if err := s.store.CreateRevocation(ctx, &req); err != nil {
		return domain.RevocationRequest{}, fmt.Errorf("request revocation: %w", err)
	}
	s.audit.record(ctx, domain.AuditEvent{ActorSlack: actor.SlackID, ActorID: requester.ID, SubjectID: subject.ID, Action: "revoke-request",
		Name: revocationScope(req), Outcome: fmt.Sprintf("filed #%d", req.ID)})
	return req, nil
}

// Posted records where the request was posted for the helpdesk.
func (s *Revocations) Posted(ctx context.Context, id int64, channel, ts string) error {
	return s.store.SetRevocationMessage(ctx, id, channel, ts)
}

// Cancel withdraws a request nobody could see (the helpdesk
// post failed).
func (s *Revocations) Cancel(ctx context.Context, id int64) error {
	return s.store.SetRevocationStatus(ctx, id, domain.RevocationCancelled)
}

// decider checks that actor may decide req: a helpdesk member, as Entra
// says now, who is neither the requester nor the target.
func (s *Revocations) decider(ctx context.Context, actor domain.Actor, req domain.RevocationRequest) (domain.User, error) {
	u, r, err := s.id.resolveWithRoles(ctx, actor)
	if err != nil {
		return domain.User{}, err
	}
	switch {
	case !r.Helpdesk:
		return u, domain.Errorf(domain.KindForbidden, "Only helpdesk members can decide revocation requests.")
	case u.ID == req.RequesterID || actor.SlackID == req.RequesterSlack:
		return u, domain.Errorf(domain.KindForbidden, "You asked for this revocation, so someone else from the helpdesk has to decide it.")
	case u.ID == req.TargetID || actor.SlackID == req.TargetSlack:
		return u, domain.Errorf(domain.KindForbidden, "These are your own app passwords, so someone else from the helpdesk has to decide.")
	}
	return u, nil
}

// Approve carries out request id on behalf of a helpdesk
// member: removePassword for each of its passwords not yet removed. It is
// also the Retry of a partly done request. Exactly one of several
// concurrent deciders acts; the others get KindConflict. A failed removal
// leaves the request partial; the outcome of each password is in the
// returned request.
func (s *Revocations) Approve(ctx context.Context, actor domain.Actor, id int64) (domain.RevocationRequest, error) {
	req, err := s.store.Revocation(ctx, id)
	if err != nil {
		return domain.RevocationRequest{}, err
	}
	approver, err := s.decider(ctx, actor, req)
	if err != nil {
		s.audit.record(ctx, domain.AuditEvent{ActorSlack: actor.SlackID, ActorID: approver.ID, SubjectID: req.TargetID, Action: "revoke-approve",
			Name: fmt.Sprintf("#%d", id), Outcome: "refused: " + domain.KindOf(err).String()})
		return req, err
	}
	won, err := s.store.ClaimRevocation(ctx, id, domain.RevocationApproving, actor.SlackID, approver.ID, "",
		domain.RevocationPending, domain.RevocationPartial)
	if err != nil {
		return req, err
	}
	if !won {
		return s.notDecidable(ctx, id)
	}
	s.audit.record(ctx, domain.AuditEvent{ActorSlack: actor.SlackID, ActorID: approver.ID, SubjectID: req.TargetID, Action: "revoke-approve",
		Name: fmt.Sprintf("#%d", id), Outcome: "ok"})
	return s.executeRevocation(ctx, req, actor.SlackID, approver.ID)
}

// executeRevocation removes each password of req that is not yet done and
// records the outcomes and the final status.
func (s *Revocations) executeRevocation(ctx context.Context, req domain.RevocationRequest, actorSlack, actorID string) (domain.RevocationRequest, error) {
	unlock, err := s.store.LockPerson(ctx, req.TargetID)
	if err != nil {
		return req, fmt.Errorf("approve revocation: %w", err)
	}
	defer unlock()
	var h holding
	if req.All {
		// All of apppass's applications for them: duplicates too.
		h, err = s.holdings.everything(ctx, domain.User{ID: req.TargetID}, true)
		if err == nil {
			req, err = s.coverAll(ctx, req, h)
		}
	} else {
		h.app, h.found, err = s.apps.find(ctx, req.TargetID)
	}
	failed := 0
	for i, it := range req.Items {
		if it.Done() {
			continue
		}
		app, found := h.appOf(it.Password.KeyID)
		switch {
		case err != nil:
			it.Outcome = "failed: " + domain.MessageOf(err)
		case !found:
			it.Outcome = domain.OutcomeGone
		default:
			rerr := s.entra.RemovePassword(ctx, app, it.Password.KeyID)
			switch {
			case rerr == nil:
				it.Outcome = domain.OutcomeRemoved
				if serr := s.store.CredentialRemoved(ctx, req.TargetID, app.ObjectID, it.Password); serr != nil {
					s.log.ErrorContext(ctx, "removal not recorded", "key_id", it.Password.KeyID, "err", serr)
				}
			case domain.KindOf(rerr) == domain.KindNotFound:
				it.Outcome = domain.OutcomeGone
			default:
				it.Outcome = "failed: " + domain.MessageOf(rerr)
				s.log.WarnContext(ctx, "revocation removal failed", "request", req.ID, "key_id", it.Password.KeyID, "err", rerr)
			}
		}
		if !it.Done() {
			failed++
		}
		req.Items[i] = it
		if serr := s.store.SetRevocationOutcome(ctx, req.ID, it.Password.KeyID, it.Outcome); serr != nil {
			s.log.ErrorContext(ctx, "revocation outcome not recorded", "request", req.ID, "err", serr)
		}
		s.audit.record(ctx, domain.AuditEvent{ActorSlack: actorSlack, ActorID: actorID, SubjectID: req.TargetID, Action: "revoke",
			KeyID: it.Password.KeyID, Name: it.Password.Name, Outcome: it.Outcome})
	}
	req.Status = domain.RevocationDone
	if failed > 0 {
		req.Status = domain.RevocationPartial
	}
	if err := s.store.SetRevocationStatus(ctx, req.ID, req.Status); err != nil {
		return req, fmt.Errorf("approve revocation: %w", err)
	}
	return s.store.Revocation(ctx, req.ID)
}

// coverAll adds to --all request req the passwords its target holds now
// (h, on all of apppass's applications for them) that it does not cover
// yet: --all means all at the moment of approval.
func (s *Revocations) coverAll(ctx context.Context, req domain.RevocationRequest, h holding) (domain.RevocationRequest, error) {
	covered := map[string]bool{}
	for _, it := range req.Items {
		covered[it.Password.KeyID] = true
	}
	var more []domain.Password
	for _, p := range h.all() {
		if !covered[p.KeyID] {
			more = append(more, p)
			req.Items = append(req.Items, domain.RevocationItem{Password: p})
		}
	}
	if len(more) == 0 {
		return req, nil
	}
	if err := s.store.AddRevocationItems(ctx, req.ID, more); err != nil {
		return req, err
	}
	return req, nil
}

// openAll returns the open (undecided or being carried out) --all
// request about targetID, if any.
func openAll(ctx context.Context, store RevocationLister, targetID string, now time.Time) (domain.RevocationRequest, bool, error) {
	open, err := store.Revocations(ctx, domain.RevocationPending, domain.RevocationApproving, domain.RevocationPartial)
	if err != nil {
		return domain.RevocationRequest{}, false, err
	}
	for _, r := range open {
		if r.TargetID == targetID && r.All && (r.Status != domain.RevocationPending || now.Before(r.ExpiresAt)) {
			return r, true, nil
		}
	}
	return domain.RevocationRequest{}, false, nil
}

// Deny declines request id, with a reason, on behalf of a
// helpdesk member who is neither requester nor target. Errors as
// Approve.
func (s *Revocations) Deny(ctx context.Context, actor domain.Actor, id int64, reason string) (domain.RevocationRequest, error) {
	req, err := s.store.Revocation(ctx, id)
	if err != nil {
		return domain.RevocationRequest{}, err
	}
	denier, err := s.decider(ctx, actor, req)
	if err != nil {
		s.audit.record(ctx, domain.AuditEvent{ActorSlack: actor.SlackID, ActorID: denier.ID, SubjectID: req.TargetID, Action: "revoke-deny",
			Name: fmt.Sprintf("#%d", id), Outcome: "refused: " + domain.KindOf(err).String()})
		return req, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > maxReason {
		return req, domain.Errorf(domain.KindInvalid, "Please give a reason of at most %d characters; the requester will be told it.", maxReason)
	}
	won, err := s.store.ClaimRevocation(ctx, id, domain.RevocationDenied, actor.SlackID, denier.ID, reason, domain.RevocationPending)
	if err != nil {
		return req, err
	}
	if !won {
		return s.notDecidable(ctx, id)
	}
	s.audit.record(ctx, domain.AuditEvent{ActorSlack: actor.SlackID, ActorID: denier.ID, SubjectID: req.TargetID, Action: "revoke-deny",
		Name: fmt.Sprintf("#%d", id), Outcome: "ok"})
	return s.store.Revocation(ctx, id)
}

// notDecidable explains why request id can no longer be decided.
func (s *Revocations) notDecidable(ctx context.Context, id int64) (domain.RevocationRequest, error) {
	req, err := s.store.Revocation(ctx, id)
	if err != nil {
		return req, err
	}
	switch {
	case req.Status == domain.RevocationPending || req.Status == domain.RevocationExpired:
		return req, domain.Errorf(domain.KindConflict, "Request #%d has expired; nothing was changed. The admin can file it again.", id)
	case req.Status == domain.RevocationApproving:
		return req, domain.Errorf(domain.KindConflict, "Request #%d is being carried out by someone else right now.", id)
	case req.Status == domain.RevocationCancelled:
		return req, domain.Errorf(domain.KindConflict, "Request #%d was withdrawn.", id)
	default:
		return req, domain.Errorf(domain.KindConflict, "Request #%d was already decided (%s); nothing was changed.", id, req.Status)
	}
}

// Pending lists the requests waiting for a decision. It
// returns KindForbidden unless the actor is an admin or helpdesk member.
func (s *Revocations) Pending(ctx context.Context, actor domain.Actor) ([]domain.RevocationRequest, error) {
	_, r, err := s.id.resolveWithRoles(ctx, actor)
	if err != nil {
		return nil, err
	}
	if !r.Admin && !r.Helpdesk {
		return nil, domain.Errorf(domain.KindForbidden, "Only apppass admins and the helpdesk can see revocation requests.")
	}
	all, err := s.store.Revocations(ctx, domain.RevocationPending, domain.RevocationPartial)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	var out []domain.RevocationRequest
	for _, q := range all {
		if q.Status == domain.RevocationPartial || now.Before(q.ExpiresAt) {
			out = append(out, q)
		}
	}
	return out, nil
}

func revocationScope(r domain.RevocationRequest) string {
	if r.All {
		return fmt.Sprintf("all (%d)", len(r.Items))
	}
	if len(r.Items) > 0 {
		return r.Items[0].Password.Name
	}
	return ""
}
