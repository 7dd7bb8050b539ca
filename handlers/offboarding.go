package handlers

import (
	"context"
	"errors"
	"fmt"

	"github.com/apppass/apppass/domain"
)

// What the offboarding job does with the app passwords of someone whose
// Entra account was disabled or deleted (APPPASS_OFFBOARDING_ACTION).
const (
	OffboardRemove  = "remove"  // remove them all at once
	OffboardRequest = "request" // file a --all revocation request for the helpdesk
)

// offboardActor is who acts, in the audit trail and on requests, when
// apppass acts on its own behalf.
const offboardActor = "apppass"

// RemovalRecorder records removals the mail gateway must honour at once.
type RemovalRecorder interface {
	RecordRemoval(ctx context.Context, r domain.Removal) error
}

// Leaver is what Offboard did about one person who left.
type Leaver struct {
	OwnerID string
	Name    string // UPN when known, else the Entra id
	Reason  string // "disabled" or "deleted"
	Held    int    // app passwords they held, duplicates' included
	Removed int    // removed now (action remove)
	Failed  int    // removals that failed; tried again next run
	// Request is the revocation request filed (action request), to be
	// posted for the helpdesk; nil when none was filed (nothing held, or
	// one is pending already).
	Request *domain.RevocationRequest
}

// Offboard acts on c, a person whose Entra account was disabled or
// deleted, under their lock: it records at once that their passwords
// must stop working at the mail gateway, then by action removes every app
// password they hold, on their application and on any duplicate of
// apppass's (never a look-alike) (OffboardRemove), or files a --all
// revocation request
// on apppass's own behalf unless one is pending (OffboardRequest). Every
// step is audited. Its error is Entra's or the store's; a Leaver with
// Failed > 0 and a nil error means some removals failed (KindUpstream
// ones, joined in the error).
func (s *Revocations) Offboard(ctx context.Context, c domain.DirectoryChange, action string) (Leaver, error) {
	l := Leaver{OwnerID: c.UserID, Name: c.UPN, Reason: "disabled"}
	if c.Removed != "" {
		l.Reason = "deleted"
	}
	if l.Name == "" {
		l.Name = c.UserID
	}
	unlock, err := s.store.LockPerson(ctx, c.UserID)
	if err != nil {
		return l, fmt.Errorf("offboard %s: %w", c.UserID, err)
	}
	defer unlock()
	// Every password on apppass's applications for them, duplicates too,
	// as Entra holds them now (a cache may not know of a duplicate).
	h, err := s.holdings.everything(ctx, domain.User{ID: c.UserID}, true)
	if err != nil {
		return l, fmt.Errorf("offboard %s: %w", c.UserID, err)
	}
	held := h.all()
	l.Held = len(held)
	if l.Held == 0 {
		return l, nil
	}
	if err := s.store.RecordRemoval(ctx, domain.Removal{OwnerID: c.UserID, Reason: l.Reason}); err != nil {
		return l, fmt.Errorf("offboard %s: %w", c.UserID, err)
	}
	if action == OffboardRequest {
		return s.requestOffboarding(ctx, l, h)
	}
	var errs []error
	for _, p := range held {
		event := domain.AuditEvent{ActorSlack: offboardActor, SubjectID: c.UserID, Action: "offboard", KeyID: p.KeyID, Name: p.Name,
			Outcome: "removed: account " + l.Reason}
		app, _ := h.appOf(p.KeyID)
		err := s.entra.RemovePassword(ctx, app, p.KeyID)
		switch {
		case err == nil || domain.KindOf(err) == domain.KindNotFound:
			l.Removed++
			if serr := s.store.CredentialRemoved(ctx, c.UserID, app.ObjectID, p); serr != nil {
				s.log.ErrorContext(ctx, "removal not recorded", "key_id", p.KeyID, "err", serr)
			}
		default:
			l.Failed++
			errs = append(errs, err)
			event.Outcome = "failed: " + domain.MessageOf(err)
		}
		s.audit.record(ctx, event)
	}
	return l, errors.Join(errs...)
}

// requestOffboarding files a --all request for l's passwords, unless a
// --all request for them is open already.
func (s *Revocations) requestOffboarding(ctx context.Context, l Leaver, h holding) (Leaver, error) {
	if _, open, err := openAll(ctx, s.store, l.OwnerID, s.cfg.Now()); err != nil {
		return l, fmt.Errorf("offboard %s: %w", l.OwnerID, err)
	} else if open {
		return l, nil
	}
	req := domain.RevocationRequest{
		RequesterSlack: offboardActor, Targets: []domain.RevocationTarget{{ID: l.OwnerID, Name: l.Name}}, All: true,
		Reason:    fmt.Sprintf("Their Entra account was %s (apppass's offboarding check).", l.Reason),
		ExpiresAt: s.cfg.Now().Add(s.cfg.RequestTTL),
	}
	for _, p := range h.all() {
		req.Items = append(req.Items, domain.RevocationItem{TargetID: l.OwnerID, Password: p})
	}
	if err := s.store.CreateRevocation(ctx, &req); err != nil {
		return l, fmt.Errorf("offboard %s: %w", l.OwnerID, err)
	}
	s.audit.record(ctx, domain.AuditEvent{ActorSlack: offboardActor, SubjectID: l.OwnerID, Action: "revoke-request",
		Name: revocationScope(req, l.OwnerID), Outcome: fmt.Sprintf("filed #%d: account %s", req.ID, l.Reason)})
	l.Request = &req
	return l, nil
}
