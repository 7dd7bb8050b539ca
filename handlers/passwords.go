package handlers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/apppass/apppass/domain"
)

// Listing is one person's app passwords as apppass shows them.
type Listing struct {
	Owner     domain.User
	Passwords []domain.Password // newest first
	Max       int
}

// holding is an owner's application (if any) and their current passwords,
// Graph's listing corrected by apppass's own recent writes.
type holding struct {
	app       domain.Application
	found     bool
	passwords []domain.Password
}

// current reads owner's application and merges in what apppass created
// or removed within the lag window, which Graph may not show yet.
func (s *Service) current(ctx context.Context, owner domain.User) (holding, error) {
	app, found, err := s.entra.FindApplication(ctx, owner.ID)
	if err != nil {
		return holding{}, err
	}
	if !found {
		stored, err := s.store.Application(ctx, owner.ID)
		switch {
		case err == nil:
			app, found = stored, true
		case domain.KindOf(err) != domain.KindNotFound:
			return holding{}, err
		}
	}
	h := holding{app: app, found: found}
	recent, err := s.store.RecentCredentials(ctx, owner.ID, s.cfg.Now().Add(-s.cfg.LagWindow))
	if err != nil {
		return holding{}, err
	}
	gone := map[string]bool{}
	extra := map[string]domain.Password{}
	for _, r := range recent {
		key := r.Password.KeyID
		switch r.State {
		case domain.CredentialDelivered:
			extra[key] = r.Password
		case domain.CredentialRemoved, domain.CredentialAbandoned:
			if key != "" {
				gone[key] = true
			}
		}
	}
	for _, p := range app.Passwords {
		key := p.KeyID
		delete(extra, key)
		if !gone[key] {
			h.passwords = append(h.passwords, p)
		}
	}
	for key, p := range extra {
		if !gone[key] {
			h.passwords = append(h.passwords, p)
		}
	}
	sort.Slice(h.passwords, func(i, j int) bool {
		if !h.passwords[i].Created.Equal(h.passwords[j].Created) {
			return h.passwords[i].Created.After(h.passwords[j].Created)
		}
		return h.passwords[i].Name < h.passwords[j].Name
	})
	return h, nil
}

// List returns the acting person's app passwords. It returns a
// KindForbidden error for people apppass cannot match to an enabled Entra
// user.
func (s *Service) List(ctx context.Context, actor domain.Actor) (Listing, error) {
	owner, h, err := s.passwordsOf(ctx, actor)
	if err != nil {
		return Listing{}, err
	}
	s.addLastUse(ctx, h)
	return Listing{Owner: owner, Passwords: h.passwords, Max: s.cfg.MaxPerUser}, nil
}

// Count returns how many app passwords the acting person holds. Errors
// as List.
func (s *Service) Count(ctx context.Context, actor domain.Actor) (int, error) {
	_, h, err := s.passwordsOf(ctx, actor)
	return len(h.passwords), err
}

// passwordsOf resolves the actor and reads their current passwords,
// without the last-use dates only a listing shows.
func (s *Service) passwordsOf(ctx context.Context, actor domain.Actor) (domain.User, holding, error) {
	owner, err := s.Resolve(ctx, actor)
	if err != nil {
		return domain.User{}, holding{}, err
	}
	h, err := s.current(ctx, owner)
	if err != nil {
		return domain.User{}, holding{}, fmt.Errorf("passwords of %s: %w", owner.ID, err)
	}
	return owner, h, nil
}

// byKey finds key id keyID among ps (graphclient writes key ids in lower
// case, and so does everything that stores them).
func byKey(ps []domain.Password, keyID string) (domain.Password, bool) {
	for _, p := range ps {
		if p.KeyID == keyID {
			return p, true
		}
	}
	return domain.Password{}, false
}

// addLastUse fills in last-use dates where Entra has them. They are a
// courtesy: without them the listing is still right, so failures are only
// logged.
func (s *Service) addLastUse(ctx context.Context, h holding) {
	if !h.found || h.app.AppID == "" || len(h.passwords) == 0 {
		return
	}
	last, err := s.entra.LastUsed(ctx, h.app.AppID)
	if err != nil {
		s.log.WarnContext(ctx, "last-use dates unavailable", "app", h.app.AppID, "err", err)
		return
	}
	for i, p := range h.passwords {
		if t, ok := last[p.KeyID]; ok {
			h.passwords[i].LastUsed = &t
		}
	}
}

// CreatePassword creates an app password called name for the acting
// person and hands it to deliver, once. If deliver fails, the password is
// removed again so that no secret exists that nobody holds. It returns
// KindInvalid for a bad name, KindConflict for a name in use, KindLimit at
// the limit, KindForbidden for people apppass cannot serve, and KindUpstream
// when Entra fails (after removing anything the failed call created).
func (s *Service) CreatePassword(ctx context.Context, actor domain.Actor, name string, deliver Deliver) (domain.Password, error) {
	refuse := func(owner domain.User, err error) (domain.Password, error) {
		s.audit(ctx, domain.AuditEvent{ActorSlack: actor.SlackID, ActorID: owner.ID, SubjectID: owner.ID, Action: "create",
			Name: domain.Clip(name, maxAuditText), Outcome: "refused: " + domain.KindOf(err).String(), Ref: domain.RefOf(err)})
		return domain.Password{}, err
	}
	clean, err := domain.NormalizeName(name)
	if err != nil {
		return refuse(domain.User{}, err)
	}
	name = clean
	owner, err := s.Resolve(ctx, actor)
	if err != nil {
		return refuse(domain.User{}, err)
	}
	unlock := s.locks.Lock(owner.ID)
	defer unlock()

	h, err := s.current(ctx, owner)
	if err != nil {
		return refuse(owner, fmt.Errorf("create: %w", err))
	}
	for _, p := range h.passwords {
		if domain.SameName(p.Name, name) {
			return refuse(owner, domain.Errorf(domain.KindConflict,
				"You already have an app password called “%s”. Choose another name, or delete that one first.", name))
		}
	}
	if len(h.passwords) >= s.cfg.MaxPerUser {
		return refuse(owner, domain.Errorf(domain.KindLimit,
			"You have %d of %d app passwords, the most you can hold. Delete one you no longer use, then try again.",
			len(h.passwords), s.cfg.MaxPerUser))
	}
	app := h.app
	if !h.found {
		if app, err = s.createApplication(ctx, owner); err != nil {
			return refuse(owner, err)
		}
	}

	known := make([]string, 0, len(app.Passwords))
	for _, p := range app.Passwords {
		known = append(known, p.KeyID)
	}
	recID, err := s.store.BeginCredential(ctx, owner.ID, app.ObjectID, name, known)
	if err != nil {
		return refuse(owner, fmt.Errorf("create: %w", err))
	}
	var expires time.Time
	if s.cfg.PasswordLifetime > 0 {
		expires = s.cfg.Now().Add(s.cfg.PasswordLifetime)
	}
	p, secret, err := s.entra.AddPassword(ctx, app, name, expires)
	if err != nil {
		// Whatever happened, a credential may now exist that nobody will
		// receive: look for it and remove it, or leave the record for the
		// reconciler.
		rec := domain.CredentialRecord{ID: recID, OwnerID: owner.ID, AppObjectID: app.ObjectID, Name: name, KnownKeys: known,
			State: domain.CredentialPending, CreatedAt: s.cfg.Now()}
		if _, rerr := s.settle(context.WithoutCancel(ctx), rec); rerr != nil {
			s.log.WarnContext(ctx, "reconcile after failed addPassword", "owner", owner.ID, "record", recID, "err", rerr)
		}
		return refuse(owner, fmt.Errorf("create: %w", err))
	}
	if err := s.store.CredentialIssued(ctx, recID, p, domain.CredentialIssued); err != nil {
		s.log.ErrorContext(ctx, "credential metadata not recorded", "record", recID, "err", err)
	}
	created := domain.Created{Password: p, Secret: secret, ClientID: app.AppID, TenantID: s.entra.TenantID()}
	if derr := deliver(ctx, created); derr != nil {
		return domain.Password{}, s.undeliverable(ctx, actor, owner, app, recID, p, derr)
	}
	if err := s.store.SetCredentialState(ctx, recID, domain.CredentialDelivered); err != nil {
		s.log.ErrorContext(ctx, "credential state not recorded", "record", recID, "err", err)
	}
	s.audit(ctx, domain.AuditEvent{ActorSlack: actor.SlackID, ActorID: owner.ID, SubjectID: owner.ID, Action: "create",
		KeyID: p.KeyID, Name: p.Name, Outcome: "ok"})
	return p, nil
}

// undeliverable removes a password its owner never saw.
func (s *Service) undeliverable(ctx context.Context, actor domain.Actor, owner domain.User, app domain.Application, recID int64, p domain.Password, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	outcome := "undelivered: removed"
	err := s.entra.RemovePassword(ctx, app, p.KeyID)
	if err == nil || domain.KindOf(err) == domain.KindNotFound {
		if serr := s.store.SetCredentialState(ctx, recID, domain.CredentialAbandoned); serr != nil {
			s.log.ErrorContext(ctx, "credential state not recorded", "record", recID, "err", serr)
		}
	} else {
		// Left "issued": the reconciler removes it later.
		outcome = "undelivered: removal pending"
		s.log.ErrorContext(ctx, "undelivered password not yet removed", "owner", owner.ID, "key_id", p.KeyID, "err", err)
	}
	s.audit(ctx, domain.AuditEvent{ActorSlack: actor.SlackID, ActorID: owner.ID, SubjectID: owner.ID, Action: "create",
		KeyID: p.KeyID, Name: p.Name, Outcome: outcome})
	return domain.Wrap(domain.KindUpstream, cause,
		"I couldn't show you the new app password, so I removed it again: nobody holds it. Please try again.")
}

func (s *Service) createApplication(ctx context.Context, owner domain.User) (domain.Application, error) {
	app, err := s.entra.CreateApplication(ctx, owner)
	if app.ObjectID != "" {
		// Remembered even if the service principal failed, so a retry
		// reuses it instead of creating a second application.
		app.OwnerID = owner.ID
		if serr := s.store.SaveApplication(ctx, app); serr != nil {
			s.log.ErrorContext(ctx, "application not recorded", "owner", owner.ID, "err", serr)
		}
	}
	if err != nil {
		if domain.KindOf(err) == domain.KindLimit && s.alerter != nil {
			if aerr := s.alerter.AlertHelpdesk(ctx, fmt.Sprintf(
				"apppass could not create an application for %s: Entra's directory object quota for apppass's identity is exhausted. See the README, “The 250-object quota”.",
				owner.UserPrincipalName)); aerr != nil {
				s.log.ErrorContext(ctx, "helpdesk alert not sent", "err", aerr)
			}
		}
		return domain.Application{}, fmt.Errorf("create application: %w", err)
	}
	return app, nil
}

// FindPassword returns the acting person's app password called name. It
// returns a KindNotFound error when they have none by that name.
func (s *Service) FindPassword(ctx context.Context, actor domain.Actor, name string) (domain.Password, error) {
	_, h, err := s.passwordsOf(ctx, actor)
	if err != nil {
		return domain.Password{}, err
	}
	clean := strings.TrimSpace(name)
	for _, p := range h.passwords {
		if domain.SameName(p.Name, clean) {
			return p, nil
		}
	}
	return domain.Password{}, domain.Errorf(domain.KindNotFound,
		"You have no app password called “%s”. `/apppass list` shows the ones you have.", domain.Clip(clean, maxAuditText))
}

// FindPasswordByKey returns the acting person's app password keyID. It
// returns a KindNotFound error when it is not theirs or no longer exists.
func (s *Service) FindPasswordByKey(ctx context.Context, actor domain.Actor, keyID string) (domain.Password, error) {
	_, h, err := s.passwordsOf(ctx, actor)
	if err != nil {
		return domain.Password{}, err
	}
	if p, ok := byKey(h.passwords, keyID); ok {
		return p, nil
	}
	return domain.Password{}, domain.Errorf(domain.KindNotFound, "That app password no longer exists, or is not yours.")
}

// DeletePassword removes the acting person's app password keyID. Who may
// delete is decided here, from the actor: a key id that is not theirs is
// reported as not found. A password already gone from Entra counts as
// deleted.
func (s *Service) DeletePassword(ctx context.Context, actor domain.Actor, keyID string) (domain.Password, error) {
	owner, err := s.Resolve(ctx, actor)
	if err != nil {
		return domain.Password{}, err
	}
	unlock := s.locks.Lock(owner.ID)
	defer unlock()
	h, err := s.current(ctx, owner)
	if err != nil {
		return domain.Password{}, fmt.Errorf("delete: %w", err)
	}
	p, ok := byKey(h.passwords, keyID)
	if !ok {
		s.audit(ctx, domain.AuditEvent{ActorSlack: actor.SlackID, ActorID: owner.ID, SubjectID: owner.ID, Action: "delete",
			KeyID: domain.Clip(keyID, maxAuditText), Outcome: "refused: not_found"})
		return domain.Password{}, domain.Errorf(domain.KindNotFound, "That app password no longer exists, or is not yours.")
	}
	if err := s.remove(ctx, h.app, owner.ID, p); err != nil {
		s.audit(ctx, domain.AuditEvent{ActorSlack: actor.SlackID, ActorID: owner.ID, SubjectID: owner.ID, Action: "delete",
			KeyID: p.KeyID, Name: p.Name, Outcome: "failed: " + domain.KindOf(err).String(), Ref: domain.RefOf(err)})
		return domain.Password{}, fmt.Errorf("delete: %w", err)
	}
	s.audit(ctx, domain.AuditEvent{ActorSlack: actor.SlackID, ActorID: owner.ID, SubjectID: owner.ID, Action: "delete",
		KeyID: p.KeyID, Name: p.Name, Outcome: "ok"})
	return p, nil
}

// remove deletes p from app and records it, so listings hide it while
// Graph still lists it. A password already gone counts as removed.
func (s *Service) remove(ctx context.Context, app domain.Application, ownerID string, p domain.Password) error {
	err := s.entra.RemovePassword(ctx, app, p.KeyID)
	if err != nil && domain.KindOf(err) != domain.KindNotFound {
		return err
	}
	if err := s.store.CredentialRemoved(ctx, ownerID, app.ObjectID, p); err != nil {
		s.log.ErrorContext(ctx, "removal not recorded", "key_id", p.KeyID, "err", err)
	}
	return nil
}
