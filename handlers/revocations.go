package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

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

// Request files an admin's request to revoke the password called name,
// or all passwords, of each of targets (up to
// domain.MaxRevocationTargets; the same person named twice counts once).
// Nothing is revoked until a helpdesk member approves, once for all of
// them. It returns KindForbidden unless the actor is an admin,
// KindInvalid without a reason or with too many people, KindNotFound for
// an unknown person or a person without that password (naming them, so
// the admin can correct the request), and KindConflict when --all finds
// nothing to revoke.
func (s *Revocations) Request(ctx context.Context, actor domain.Actor, targets []domain.Actor, name string, all bool, reason string) (domain.RevocationRequest, error) {
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
	switch {
	case len(targets) == 0:
		return refuse(domain.Errorf(domain.KindInvalid, "Whose app passwords? Name at least one person."))
	case len(targets) > domain.MaxRevocationTargets:
		return refuse(domain.Errorf(domain.KindInvalid, "One request can name at most %d people, and this one names %d. Please split it.",
			domain.MaxRevocationTargets, len(targets)))
	}
	req := domain.RevocationRequest{RequesterSlack: actor.SlackID, RequesterID: requester.ID, All: all, Reason: reason,
		ExpiresAt: s.cfg.Now().Add(s.cfg.RequestTTL)}
	// The people are looked up side by side: 50 people one after the
	// other at Graph's latency would take much of a command's time.
	subjects := make([]domain.User, len(targets))
	errs := make([]error, len(targets))
	g := new(errgroup.Group)
	g.SetLimit(peopleAtOnce)
	for i, target := range targets {
		g.Go(func() error {
			subjects[i], errs[i] = s.id.resolveTarget(ctx, target)
			return nil
		})
	}
	g.Wait()
	var people []domain.User // as req.Targets
	for i, err := range errs {
		if err != nil {
			if len(targets) > 1 && domain.KindOf(err) != domain.KindInternal {
				err = domain.Wrap(domain.KindOf(err), err, domain.Clip(targetLabel(targets[i]), maxAuditText)+": "+domain.MessageOf(err))
			}
			return refuse(err)
		}
		if !req.Concerns(subjects[i].ID, "") { // once, if named twice (a mention and an address, say)
			req.Targets = append(req.Targets, domain.RevocationTarget{Slack: targets[i].SlackID, ID: subjects[i].ID, Name: subjects[i].UserPrincipalName})
			people = append(people, subjects[i])
		}
	}
	holdings := make([]holding, len(people))
	for i, subject := range people {
		g.Go(func() error {
			var err error
			if all {
				holdings[i], err = s.holdings.everything(ctx, subject, false) // duplicates' passwords too
			} else {
				holdings[i], err = s.holdings.current(ctx, subject)
			}
			if err != nil {
				return fmt.Errorf("request revocation for %s: %w", subject.ID, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return domain.RevocationRequest{}, err
	}
	var lacking []string
	for i, t := range req.Targets {
		found := false
		for _, p := range holdings[i].all() {
			if all || domain.SameName(p.Name, name) {
				req.Items = append(req.Items, domain.RevocationItem{TargetID: t.ID, Password: p})
				found = true
			}
		}
		if !found && !all {
			lacking = append(lacking, t.Name)
		}
	}
	switch {
	case len(req.Items) == 0 && all && len(req.Targets) == 1:
		return refuse(domain.Errorf(domain.KindConflict, "%s has no app passwords, so there is nothing to revoke.", req.Targets[0].Name))
	case len(req.Items) == 0 && all:
		return refuse(domain.Errorf(domain.KindConflict, "None of these %d people has app passwords, so there is nothing to revoke.", len(req.Targets)))
	case len(lacking) > 0:
		return refuse(domain.Errorf(domain.KindNotFound, "%s %s no app password called “%s”.", domain.List(lacking, 10),
			domain.Plural(len(lacking), "has", "have"), domain.Clip(strings.TrimSpace(name), maxAuditText)))
	}
	if err := s.store.CreateRevocation(ctx, &req); err != nil {
		return domain.RevocationRequest{}, fmt.Errorf("request revocation: %w", err)
	}
	for _, t := range req.Targets {
		s.audit.record(ctx, domain.AuditEvent{ActorSlack: actor.SlackID, ActorID: requester.ID, SubjectID: t.ID, Action: "revoke-request",
			Name: revocationScope(req, t.ID), Outcome: fmt.Sprintf("filed #%d", req.ID)})
	}
	return req, nil
}

// targetLabel is how an admin named a person, for a refusal that must say
// which of several it is about.
func targetLabel(t domain.Actor) string {
	switch {
	case t.Email != "":
		return t.Email
	case t.Name != "":
		return t.Name
	default:
		return "One of them"
	}
}

// Posted records where the request was posted for the helpdesk.
func (s *Revocations) Posted(ctx context.Context, id int64, channel, ts string) error {
	return s.store.SetRevocationMessage(ctx, id, channel, ts)
}

// Told records that the owners of request id's passwords keyIDs were
// told of their removal, so that a Retry or a resumed approval does not
// tell them again.
func (s *Revocations) Told(ctx context.Context, id int64, keyIDs []string) error {
	if len(keyIDs) == 0 {
		return nil
	}
	return s.store.SetRevocationNotified(ctx, id, keyIDs)
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
	case req.Concerns(u.ID, actor.SlackID) && len(req.Targets) == 1:
		return u, domain.Errorf(domain.KindForbidden, "These are your own app passwords, so someone else from the helpdesk has to decide.")
	case req.Concerns(u.ID, actor.SlackID):
		return u, domain.Errorf(domain.KindForbidden, "Your own app passwords are among these, so someone else from the helpdesk has to decide.")
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
		s.recordDecision(ctx, actor, approver.ID, req, "revoke-approve", "refused: "+domain.KindOf(err).String())
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
	s.recordDecision(ctx, actor, approver.ID, req, "revoke-approve", "ok")
	return s.executeRevocation(ctx, req, actor.SlackID, approver.ID)
}

// recordDecision audits a decision (or a refused one) on req once for
// each of its people, so that each one's history shows it.
func (s *Revocations) recordDecision(ctx context.Context, actor domain.Actor, actorID string, req domain.RevocationRequest, action, outcome string) {
	for _, t := range req.Targets {
		s.audit.record(ctx, domain.AuditEvent{ActorSlack: actor.SlackID, ActorID: actorID, SubjectID: t.ID, Action: action,
			Name: fmt.Sprintf("#%d", req.ID), Outcome: outcome})
	}
}

// peopleAtOnce is how many of a request's people are worked on at once:
// enough that 50 people with 40 passwords each fit in a click's time at
// Graph's usual latency, few enough to stay clear of its throttling
// (each person's removals are one after the other).
const peopleAtOnce = 8

// recordMargin is the time kept at the end of a deadline for recording
// outcomes: a removal not started by then is left for Retry, and what
// was done is recorded on a context of its own, which may outlive the
// deadline by as much.
const recordMargin = 5 * time.Second

// executeRevocation removes each password of req that is not yet done,
// person by person (each under their own lock, taken one at a time, so
// two requests naming the same people cannot deadlock; several people at
// once), and records the outcomes and the final status. Removals not
// started before ctx's deadline (less recordMargin) are left untried: the
// request is then partly done and Retry goes on where it stopped.
func (s *Revocations) executeRevocation(ctx context.Context, req domain.RevocationRequest, actorSlack, actorID string) (domain.RevocationRequest, error) {
	work, record := ctx, context.WithoutCancel(ctx)
	if deadline, ok := ctx.Deadline(); ok {
		var cancelWork, cancelRecord context.CancelFunc
		work, cancelWork = context.WithDeadline(ctx, deadline.Add(-recordMargin))
		defer cancelWork()
		// What was done is recorded even if the click's time runs out
		// while it is: shortly after, at the latest.
		record, cancelRecord = context.WithDeadline(record, deadline.Add(recordMargin))
		defer cancelRecord()
	}
	var mu sync.Mutex
	left := 0
	g := new(errgroup.Group)
	g.SetLimit(peopleAtOnce)
	for _, t := range req.Targets {
		g.Go(func() error {
			n, err := s.executeFor(work, record, req, t, actorSlack, actorID)
			mu.Lock()
			left += n
			mu.Unlock()
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return req, err
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		// Shutting down, not out of time: the request stays approving, for
		// a replica (or this one, restarted) to resume on its own.
		return req, fmt.Errorf("approve revocation %d: interrupted, to be resumed: %w", req.ID, ctx.Err())
	}
	req.Status = domain.RevocationDone
	if left > 0 {
		req.Status = domain.RevocationPartial
	}
	if err := s.store.SetRevocationStatus(record, req.ID, req.Status); err != nil {
		return req, fmt.Errorf("approve revocation: %w", err)
	}
	return s.store.Revocation(record, req.ID)
}

// executeFor carries out req for one of its people, t, working on work
// and recording on record, and returns how many of their passwords are
// still not removed (failed, or not reached before work ended).
func (s *Revocations) executeFor(work, record context.Context, req domain.RevocationRequest, t domain.RevocationTarget, actorSlack, actorID string) (int, error) {
	items := req.ItemsOf(t.ID)
	pending := 0
	for _, it := range items {
		if !it.Done() {
			pending++
		}
	}
	if work.Err() != nil {
		return pending, nil // not reached: left untried for Retry
	}
	unlock, err := s.store.LockPerson(work, t.ID)
	if err != nil {
		if work.Err() != nil {
			return pending, nil
		}
		return 0, fmt.Errorf("approve revocation for %s: %w", t.ID, err)
	}
	defer unlock()
	var h holding
	if req.All {
		// All of apppass's applications for them: duplicates too.
		h, err = s.holdings.everything(work, domain.User{ID: t.ID}, true)
		if err == nil {
			var more []domain.RevocationItem
			more, err = s.coverAll(record, req, t.ID, h)
			items = append(items, more...)
		}
	} else {
		h.app, h.found, err = s.apps.find(work, t.ID)
	}
	failed := 0
	for _, it := range items {
		if it.Done() {
			continue
		}
		if work.Err() != nil {
			failed++ // not reached: left untried for Retry
			continue
		}
		app, found := h.appOf(it.Password.KeyID)
		switch {
		case err != nil:
			it.Outcome = "failed: " + domain.MessageOf(err)
		case !found:
			it.Outcome = domain.OutcomeGone
		default:
			rerr := s.entra.RemovePassword(work, app, it.Password.KeyID)
			switch {
			case rerr == nil:
				it.Outcome = domain.OutcomeRemoved
				if serr := s.store.CredentialRemoved(record, t.ID, app.ObjectID, it.Password); serr != nil {
					s.log.ErrorContext(record, "removal not recorded", "key_id", it.Password.KeyID, "err", serr)
				}
			case domain.KindOf(rerr) == domain.KindNotFound:
				it.Outcome = domain.OutcomeGone
			case work.Err() != nil:
				failed++ // cut short by the deadline: untried, as far as anyone can tell
				continue
			default:
				it.Outcome = "failed: " + domain.MessageOf(rerr)
				s.log.WarnContext(work, "revocation removal failed", "request", req.ID, "key_id", it.Password.KeyID, "err", rerr)
			}
		}
		if !it.Done() {
			failed++
		}
		if serr := s.store.SetRevocationOutcome(record, req.ID, it.Password.KeyID, it.Outcome); serr != nil {
			s.log.ErrorContext(record, "revocation outcome not recorded", "request", req.ID, "err", serr)
		}
		s.audit.record(record, domain.AuditEvent{ActorSlack: actorSlack, ActorID: actorID, SubjectID: t.ID, Action: "revoke",
			KeyID: it.Password.KeyID, Name: it.Password.Name, Outcome: it.Outcome})
	}
	return failed, nil
}

// coverAll records, for --all request req, the passwords its person
// targetID holds now (h, on all of apppass's applications for them) that
// it does not cover yet, and returns them: --all means all at the moment
// of approval.
func (s *Revocations) coverAll(ctx context.Context, req domain.RevocationRequest, targetID string, h holding) ([]domain.RevocationItem, error) {
	covered := map[string]bool{}
	for _, it := range req.ItemsOf(targetID) {
		covered[it.Password.KeyID] = true
	}
	var more []domain.RevocationItem
	for _, p := range h.all() {
		if !covered[p.KeyID] {
			more = append(more, domain.RevocationItem{TargetID: targetID, Password: p})
		}
	}
	if len(more) == 0 {
		return nil, nil
	}
	if err := s.store.AddRevocationItems(ctx, req.ID, more); err != nil {
		return nil, err
	}
	return more, nil
}

// openAll returns the open (undecided or being carried out) --all
// request about targetID, if any.
func openAll(ctx context.Context, store RevocationLister, targetID string, now time.Time) (domain.RevocationRequest, bool, error) {
	open, err := store.Revocations(ctx, domain.RevocationPending, domain.RevocationApproving, domain.RevocationPartial)
	if err != nil {
		return domain.RevocationRequest{}, false, err
	}
	for _, r := range open {
		if r.Concerns(targetID, "") && r.All && (r.Status != domain.RevocationPending || now.Before(r.ExpiresAt)) {
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
		s.recordDecision(ctx, actor, denier.ID, req, "revoke-deny", "refused: "+domain.KindOf(err).String())
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
	s.recordDecision(ctx, actor, denier.ID, req, "revoke-deny", "ok")
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

// revocationScope is what req covers of targetID's passwords, for their
// audit trail.
func revocationScope(r domain.RevocationRequest, targetID string) string {
	items := r.ItemsOf(targetID)
	scope := ""
	switch {
	case r.All:
		scope = fmt.Sprintf("all (%d)", len(items))
	case len(items) > 0:
		scope = items[0].Password.Name
	}
	if len(r.Targets) > 1 {
		scope += fmt.Sprintf(", with %d others", len(r.Targets)-1)
	}
	return scope
}
