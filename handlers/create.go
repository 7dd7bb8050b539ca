package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apppass/apppass/domain"
)

// Issued is a new app password that exists in Entra but that nobody has
// seen yet. Its caller shows Created to the person once, ephemerally, and
// then calls Delivered, or, when that failed, Undeliverable. A password
// whose caller does neither is removed by the reconciler: no secret
// outlives a failed delivery.
type Issued struct {
	domain.Created

	s     *Passwords
	actor domain.Actor
	owner domain.User
	app   domain.Application
	recID int64
}

// Create creates an app password called name for the acting person and
// returns it, not yet delivered. The Effects (helpdesk alerts) are to be
// carried out whether or not there is an error. It returns KindInvalid
// for a bad name, KindConflict for a name in use, KindLimit at the limit
// or when Entra's directory object quota is exhausted, KindForbidden for
// people apppass cannot serve, and KindUpstream when Entra fails (after
// removing anything the failed call created, or leaving that to the
// reconciler).
func (s *Passwords) Create(ctx context.Context, actor domain.Actor, name string) (Issued, Effects, error) {
	return s.CreateScoped(ctx, actor, name, domain.SendOnly)
}

// CreateScoped is Create for a password with scope (SPEC §16: send and/or
// read, and client networks), recorded by its key id before the secret
// is shown. Should recording fail, the password stays send-only (the
// narrowest) and Created says so.
func (s *Passwords) CreateScoped(ctx context.Context, actor domain.Actor, name string, scope domain.Scope) (Issued, Effects, error) {
	var eff Effects
	refuse := func(owner domain.User, err error) (Issued, Effects, error) {
		s.audit.record(ctx, domain.AuditEvent{ActorSlack: actor.SlackID, ActorID: owner.ID, SubjectID: owner.ID, Action: "create",
			Name: domain.Clip(name, maxAuditText), Outcome: "refused: " + domain.KindOf(err).String(), Ref: domain.RefOf(err)})
		return Issued{}, eff, err
	}
	clean, err := domain.NormalizeName(name)
	if err != nil {
		return refuse(domain.User{}, err)
	}
	name = clean
	owner, err := s.id.Resolve(ctx, actor)
	if err != nil {
		return refuse(domain.User{}, err)
	}
	if ok, err := s.id.MayCreate(ctx, owner); err != nil {
		return refuse(owner, fmt.Errorf("create: %w", err))
	} else if !ok {
		return refuse(owner, ErrNotCreator())
	}
	unlock, err := s.store.LockPerson(ctx, owner.ID)
	if err != nil {
		return refuse(owner, fmt.Errorf("create: %w", err))
	}
	defer unlock()

	if r, open, err := openAll(ctx, s.store, owner.ID, s.cfg.Now()); err != nil {
		return refuse(owner, fmt.Errorf("create: %w", err))
	} else if open {
		return refuse(owner, domain.Errorf(domain.KindConflict,
			"An administrator asked for all your app passwords to be revoked (request #%d). Until the helpdesk decides, you cannot create new ones. Please ask the helpdesk if you need one.", r.ID))
	}
	h, err := s.holdings.current(ctx, owner)
	if err != nil {
		return refuse(owner, fmt.Errorf("create: %w", err))
	}
	for _, p := range h.passwords {
		if domain.SameName(p.Name, name) {
			return refuse(owner, domain.Errorf(domain.KindConflict,
				"You already have an app password called “%s”. Choose another name, or delete that one first.", name))
		}
	}
	if s.cfg.Limits.Full(len(h.passwords)) {
		return refuse(owner, domain.Errorf(domain.KindLimit,
			"You have %d of %d app passwords, the most you can hold. Delete one you no longer use, then try again.",
			len(h.passwords), s.cfg.Limits.MaxPerUser))
	}
	app, err := s.usableApplication(ctx, owner, h, &eff)
	if err != nil {
		return refuse(owner, err)
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
		if _, rerr := s.reconciler.reconcile(context.WithoutCancel(ctx), rec); rerr != nil {
			s.log.WarnContext(ctx, "reconcile after failed addPassword", "owner", owner.ID, "record", recID, "err", rerr)
		}
		if errors.Is(err, domain.ErrLifetimePolicy) {
			s.alertLifetimePolicy(ctx, &eff)
		}
		return refuse(owner, fmt.Errorf("create: %w", err))
	}
	if err := s.store.CredentialIssued(ctx, recID, p, domain.CredentialIssued); err != nil {
		s.log.ErrorContext(ctx, "credential metadata not recorded", "record", recID, "err", err)
	}
	if err := s.store.SavePasswordScope(ctx, owner.ID, p.KeyID, scope); err != nil {
		s.log.ErrorContext(ctx, "password scope not recorded; the password only sends", "owner", owner.ID, "key_id", p.KeyID, "err", err)
		scope = domain.SendOnly
	}
	return Issued{
		Created: domain.Created{Password: p, Secret: secret, ClientID: app.AppID, TenantID: s.entra.TenantID(), Scope: scope},
		s:       s, actor: actor, owner: owner, app: app, recID: recID,
	}, eff, nil
}

// Delivered records that the person saw the password.
func (i Issued) Delivered(ctx context.Context) {
	s := i.s
	// Recorded even if the command's time is up: a record left "issued"
	// would have the reconciler remove a password its owner holds.
	ctx = context.WithoutCancel(ctx)
	if err := s.store.SetCredentialState(ctx, i.recID, domain.CredentialDelivered); err != nil {
		s.log.ErrorContext(ctx, "credential state not recorded", "record", i.recID, "err", err)
	}
	s.audit.record(ctx, domain.AuditEvent{ActorSlack: i.actor.SlackID, ActorID: i.owner.ID, SubjectID: i.owner.ID, Action: "create",
		KeyID: i.Password.KeyID, Name: i.Password.Name, Outcome: "ok"})
}

// Undeliverable removes the password its owner never saw, because
// showing it failed with cause, and returns the KindUpstream error to
// tell them: nobody holds it, try again. When Entra cannot remove it now,
// the reconciler does later.
func (i Issued) Undeliverable(ctx context.Context, cause error) error {
	s := i.s
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if unlock, err := s.store.LockPerson(ctx, i.owner.ID); err == nil {
		defer unlock()
	} else {
		s.log.WarnContext(ctx, "removing an undelivered password without the person's lock", "owner", i.owner.ID, "err", err)
	}
	outcome := "undelivered: removed"
	err := s.entra.RemovePassword(ctx, i.app, i.Password.KeyID)
	if err == nil || domain.KindOf(err) == domain.KindNotFound {
		if serr := s.store.SetCredentialState(ctx, i.recID, domain.CredentialAbandoned); serr != nil {
			s.log.ErrorContext(ctx, "credential state not recorded", "record", i.recID, "err", serr)
		}
	} else {
		// Left "issued": the reconciler removes it later.
		outcome = "undelivered: removal pending"
		s.log.ErrorContext(ctx, "undelivered password not yet removed", "owner", i.owner.ID, "key_id", i.Password.KeyID, "err", err)
	}
	s.audit.record(ctx, domain.AuditEvent{ActorSlack: i.actor.SlackID, ActorID: i.owner.ID, SubjectID: i.owner.ID, Action: "create",
		KeyID: i.Password.KeyID, Name: i.Password.Name, Outcome: outcome})
	return domain.Wrap(domain.KindUpstream, cause,
		"I couldn't show you the new app password, so I removed it again: nobody holds it. Please try again.")
}

// usableApplication returns the application to issue owner's password on:
// the one h found, or a new one; either way with its service principal,
// created first when it is missing (a password on an application without
// one cannot sign in).
func (s *Passwords) usableApplication(ctx context.Context, owner domain.User, h holding, eff *Effects) (domain.Application, error) {
	app := h.app
	if !h.found {
		var err error
		if app, err = s.createApplication(ctx, owner, eff); err != nil {
			return domain.Application{}, err
		}
	}
	if app.HasServicePrincipal {
		return app, nil
	}
	if err := s.entra.EnsureServicePrincipal(ctx, app.AppID); err != nil {
		return domain.Application{}, fmt.Errorf("service principal of %s: %w", app.ObjectID, err)
	}
	if err := s.store.SetServicePrincipal(ctx, owner.ID, app.ObjectID); err != nil {
		s.log.ErrorContext(ctx, "service principal not recorded", "owner", owner.ID, "err", err)
	}
	app.HasServicePrincipal = true
	return app, nil
}

// createApplication creates owner's application and records it, under
// the application-creation lock that holds across replicas, unless a
// fresh look (another replica may have made one) finds one. When
// Entra's directory object quota is exhausted it adds a helpdesk alert to
// eff.
func (s *Passwords) createApplication(ctx context.Context, owner domain.User, eff *Effects) (domain.Application, error) {
	unlock, err := s.store.LockApplicationCreation(ctx, owner.ID)
	if err != nil {
		return domain.Application{}, fmt.Errorf("create application: %w", err)
	}
	defer unlock()
	if app, found, err := s.apps.fresh(ctx, owner.ID); err != nil {
		return domain.Application{}, fmt.Errorf("create application: %w", err)
	} else if found {
		return app, nil
	}
	app, err := s.entra.CreateApplication(ctx, owner)
	if app.ObjectID != "" {
		// Recorded even if the service principal failed, so a retry
		// reuses it (and creates the service principal first) instead of
		// creating a second application.
		app.OwnerID = owner.ID
		if serr := s.store.SaveApplication(ctx, app); serr != nil {
			s.log.ErrorContext(ctx, "application not recorded", "owner", owner.ID, "err", serr)
		}
	}
	if err != nil {
		if domain.KindOf(err) == domain.KindLimit {
			eff.Alerts = append(eff.Alerts, fmt.Sprintf(
				"apppass could not create an application for %s: Entra's directory object quota for apppass's identity is exhausted. See the README, “The 250-object quota”.",
				owner.UserPrincipalName))
		}
		return domain.Application{}, fmt.Errorf("create application: %w", err)
	}
	return app, nil
}

// lifetimePolicyAlertEvery is how often the helpdesk hears that the
// tenant's policy refuses the lifetime apppass asks for: every refused
// create is the same problem, with the same fix.
const lifetimePolicyAlertEvery = 24 * time.Hour

// alertLifetimePolicy adds to eff, at most once a day across replicas,
// the helpdesk alert saying which setting to change so that the tenant's
// app management policy accepts new passwords.
func (s *Passwords) alertLifetimePolicy(ctx context.Context, eff *Effects) {
	now := s.cfg.Now()
	ok, err := s.store.ClaimAlert(ctx, "lifetime-policy", now, now.Add(-lifetimePolicyAlertEvery))
	if err != nil {
		s.log.ErrorContext(ctx, "lifetime policy alert not claimed", "err", err)
	}
	if !ok {
		return
	}
	asked := "no expiry date, so Entra's default of two years applies"
	if s.cfg.PasswordLifetime > 0 {
		asked = "a lifetime of " + domain.FormatLifetime(s.cfg.PasswordLifetime)
	}
	fix := "Set APPPASS_PASSWORD_LIFETIME to the tenant's maximum or less (for example 4320h for 180 days) and restart apppass."
	if p, err := s.entra.CredentialPolicy(ctx); err == nil && p.MaxPasswordLifetime > 0 {
		fix = fmt.Sprintf("The tenant's default app management policy allows at most %s (%s): set APPPASS_PASSWORD_LIFETIME to %s or less and restart apppass.",
			domain.FormatLifetime(p.MaxPasswordLifetime), formatHours(p.MaxPasswordLifetime), formatHours(p.MaxPasswordLifetime))
	} else if err != nil {
		s.log.InfoContext(ctx, "credential policy not readable (Policy.Read.All is optional)", "err", err)
	}
	eff.Alerts = append(eff.Alerts, "Microsoft Entra refused to create app passwords: the tenant's app management policy does not allow the password lifetime apppass asks for ("+
		asked+"). Nobody can create app passwords until this is fixed. "+fix+" (`apppass check` compares the two.)")
}

// formatHours writes d as a Go duration in whole hours, the way
// APPPASS_PASSWORD_LIFETIME is set ("4320h").
func formatHours(d time.Duration) string {
	return fmt.Sprintf("%dh", int64(d/time.Hour))
}
