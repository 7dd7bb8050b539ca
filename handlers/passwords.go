package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/apppass/apppass/domain"
)

// Passwords are the employee's own app passwords: list, create, delete.
// Who may act is decided from the acting person, never from a button's
// value. Every operation returns a KindForbidden error for people apppass
// cannot match to an enabled Entra user, and KindUpstream when Entra
// fails.
type Passwords struct {
	id         *Identity
	entra      PasswordEntra
	store      PasswordStore
	audit      auditor
	apps       applications
	holdings   holdings
	reconciler *Reconciler
	cfg        Config
	log        *slog.Logger
}

// NewPasswords returns the Passwords over entra and store, resolving
// people with id, choosing applications with trust and cleaning up after
// a failed addPassword with reconciler. A nil log is slog.Default().
func NewPasswords(id *Identity, trust *Trust, reconciler *Reconciler, entra PasswordEntra, store PasswordStore, cfg Config, log *slog.Logger) *Passwords {
	cfg, log = cfg.withDefaults(), logOrDefault(log)
	apps := applications{entra: entra, store: store, trust: trust, log: log}
	return &Passwords{id: id, entra: entra, store: store, audit: auditor{store: store, log: log}, apps: apps,
		holdings: holdings{apps: apps, store: store, cfg: cfg}, reconciler: reconciler, cfg: cfg, log: log}
}

// MayCreate reports, fresh from Entra, whether the acting person may
// create app passwords (APPPASS_CREATORS_GROUP). Errors as Create.
func (s *Passwords) MayCreate(ctx context.Context, actor domain.Actor) (bool, error) {
	owner, err := s.id.Resolve(ctx, actor)
	if err != nil {
		return false, err
	}
	return s.id.MayCreate(ctx, owner)
}

// Limits returns the per-person limit rules.
func (s *Passwords) Limits() Limits { return s.cfg.Limits }

// List returns the acting person's app passwords, with last-use dates
// where Entra has them.
func (s *Passwords) List(ctx context.Context, actor domain.Actor) (Listing, error) {
	l, h, err := s.listingOf(ctx, actor)
	if err != nil {
		return Listing{}, err
	}
	s.addLastUse(ctx, h)
	return l, nil
}

// Count returns how many app passwords the acting person holds.
func (s *Passwords) Count(ctx context.Context, actor domain.Actor) (int, error) {
	l, _, err := s.listingOf(ctx, actor)
	return len(l.Passwords), err
}

// listingOf resolves the actor and reads their current passwords, without
// the last-use dates only a listing shows.
func (s *Passwords) listingOf(ctx context.Context, actor domain.Actor) (Listing, holding, error) {
	owner, err := s.id.Resolve(ctx, actor)
	if err != nil {
		return Listing{}, holding{}, err
	}
	return s.holdings.listing(ctx, owner)
}

// addLastUse fills in last-use dates: Entra's sign-in data where the
// tenant has it, and the mail gateway's own records (which need no Entra
// P1/P2), the later of the two. They are a courtesy: without them the
// listing is still right, so failures are only logged.
func (s *Passwords) addLastUse(ctx context.Context, h holding) {
	if !h.found || len(h.passwords) == 0 {
		return
	}
	last := map[string]time.Time{}
	if h.app.AppID != "" {
		entra, err := s.entra.LastUsed(ctx, h.app.AppID)
		if err != nil {
			s.log.WarnContext(ctx, "last-use dates unavailable", "app", h.app.AppID, "err", err)
		}
		for k, t := range entra {
			last[strings.ToLower(k)] = t
		}
	}
	gateway, err := s.store.PasswordsLastUsed(ctx, h.app.OwnerID)
	if err != nil {
		s.log.WarnContext(ctx, "gateway last-use dates unavailable", "owner", h.app.OwnerID, "err", err)
	}
	for k, t := range gateway {
		if k = strings.ToLower(k); t.After(last[k]) {
			last[k] = t
		}
	}
	for i, p := range h.passwords {
		if t, ok := last[strings.ToLower(p.KeyID)]; ok {
			h.passwords[i].LastUsed = &t
		}
	}
	scopes, err := s.store.PasswordScopes(ctx, h.app.OwnerID)
	if err != nil {
		s.log.WarnContext(ctx, "password scopes unavailable", "owner", h.app.OwnerID, "err", err)
		return
	}
	for i, p := range h.passwords {
		sc, ok := scopes[strings.ToLower(p.KeyID)]
		if !ok {
			sc = domain.SendOnly // made before scopes, or without options
		}
		h.passwords[i].Scope = &sc
	}
}

// Find returns the acting person's app password called name. It returns
// a KindNotFound error when they have none by that name.
func (s *Passwords) Find(ctx context.Context, actor domain.Actor, name string) (domain.Password, error) {
	l, _, err := s.listingOf(ctx, actor)
	if err != nil {
		return domain.Password{}, err
	}
	clean := strings.TrimSpace(name)
	for _, p := range l.Passwords {
		if domain.SameName(p.Name, clean) {
			return p, nil
		}
	}
	return domain.Password{}, domain.Errorf(domain.KindNotFound,
		"You have no app password called “%s”. `/apppass list` shows the ones you have.", domain.Clip(clean, maxAuditText))
}

// FindByKey returns the acting person's app password keyID. It returns a
// KindNotFound error when it is not theirs or no longer exists.
func (s *Passwords) FindByKey(ctx context.Context, actor domain.Actor, keyID string) (domain.Password, error) {
	l, _, err := s.listingOf(ctx, actor)
	if err != nil {
		return domain.Password{}, err
	}
	if p, ok := byKey(l.Passwords, keyID); ok {
		return p, nil
	}
	return domain.Password{}, domain.Errorf(domain.KindNotFound, "That app password no longer exists, or is not yours.")
}

// Delete removes the acting person's app password keyID. A key id that is
// not theirs is reported as not found (KindNotFound). A password already
// gone from Entra counts as deleted.
func (s *Passwords) Delete(ctx context.Context, actor domain.Actor, keyID string) (domain.Password, error) {
	owner, err := s.id.Resolve(ctx, actor)
	if err != nil {
		return domain.Password{}, err
	}
	unlock, err := s.store.LockPerson(ctx, owner.ID)
	if err != nil {
		return domain.Password{}, fmt.Errorf("delete: %w", err)
	}
	defer unlock()
	h, err := s.holdings.current(ctx, owner)
	if err != nil {
		return domain.Password{}, fmt.Errorf("delete: %w", err)
	}
	event := domain.AuditEvent{ActorSlack: actor.SlackID, ActorID: owner.ID, SubjectID: owner.ID, Action: "delete"}
	p, ok := byKey(h.passwords, keyID)
	if !ok {
		event.KeyID, event.Outcome = domain.Clip(keyID, maxAuditText), "refused: not_found"
		s.audit.record(ctx, event)
		return domain.Password{}, domain.Errorf(domain.KindNotFound, "That app password no longer exists, or is not yours.")
	}
	event.KeyID, event.Name = p.KeyID, p.Name
	if err := s.remove(ctx, h.app, owner.ID, p); err != nil {
		event.Outcome, event.Ref = "failed: "+domain.KindOf(err).String(), domain.RefOf(err)
		s.audit.record(ctx, event)
		return domain.Password{}, fmt.Errorf("delete: %w", err)
	}
	event.Outcome = "ok"
	s.audit.record(ctx, event)
	return p, nil
}

// remove deletes p from app and records it, so listings hide it while
// Graph still lists it. A password already gone counts as removed.
func (s *Passwords) remove(ctx context.Context, app domain.Application, ownerID string, p domain.Password) error {
	err := s.entra.RemovePassword(ctx, app, p.KeyID)
	if err != nil && domain.KindOf(err) != domain.KindNotFound {
		return err
	}
	if err := s.store.CredentialRemoved(ctx, ownerID, app.ObjectID, p); err != nil {
		s.log.ErrorContext(ctx, "removal not recorded", "key_id", p.KeyID, "err", err)
	}
	return nil
}
