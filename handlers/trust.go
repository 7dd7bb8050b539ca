package handlers

import (
	"context"
	"fmt"

	"github.com/apppass/apppass/domain"
)

// Verdict is whether apppass may act on an application tagged for an
// employee (SPEC §11).
type Verdict string

// The verdicts.
const (
	// Trusted: the application apppass uses for its owner.
	Trusted Verdict = "trusted"
	// Lookalike: tagged for the owner, but not apppass's.
	Lookalike Verdict = Verdict(domain.FindingLookalike)
	// Duplicate: apppass's, but another is recorded for the owner.
	Duplicate Verdict = Verdict(domain.FindingDuplicate)
)

// OwnershipChecker asks Entra who owns an application;
// *graphclient.Client satisfies it.
type OwnershipChecker interface {
	// OwnedByApppass reports whether apppass's service principal is the
	// application's only owner. KindUpstream when Entra fails.
	OwnedByApppass(ctx context.Context, objectID string) (bool, error)
}

// TrustStore remembers which application apppass uses for each person and
// what it found about the others.
type TrustStore interface {
	ApplicationLookup
	// ClaimApplication records app for its owner unless one is recorded,
	// and returns the one recorded.
	ClaimApplication(ctx context.Context, app domain.Application) (domain.Application, error)
	// Finding returns what was found about an application; false when
	// nothing was.
	Finding(ctx context.Context, objectID string) (domain.ApplicationFinding, bool, error)
	// RecordFinding records f unless its application was found before.
	RecordFinding(ctx context.Context, f domain.ApplicationFinding) error
}

// Trust decides which applications tagged for an employee apppass may
// act on: the one its store records for them (created by apppass, or
// verified once), or else one whose only owner is apppass's service
// principal, which is then recorded. Every other one is never listed,
// revoked on or given passwords: a look-alike (someone else owns it) or a
// duplicate (apppass's, but another is recorded for the person; the
// first recorded stays theirs). Both are recorded as findings, which the
// application-alerts job reports to the helpdesk once.
type Trust struct {
	entra OwnershipChecker
	store TrustStore
}

// NewTrust returns the Trust over entra and store.
func NewTrust(entra OwnershipChecker, store TrustStore) *Trust {
	return &Trust{entra: entra, store: store}
}

// Check returns the verdict on app (as Graph listed it, owner from its
// tag), asking Entra only about an application the store knows nothing
// of and whose owners the listing did not bring (OwnersKnown). Errors
// are Entra's (KindUpstream) or the store's.
func (t *Trust) Check(ctx context.Context, app domain.Application) (Verdict, error) {
	if app.OwnerID == "" {
		return Lookalike, nil
	}
	recorded, err := t.store.Application(ctx, app.OwnerID)
	switch {
	case err == nil && recorded.ObjectID == app.ObjectID:
		return Trusted, nil
	case err != nil && domain.KindOf(err) != domain.KindNotFound:
		return "", fmt.Errorf("trust %s: %w", app.ObjectID, err)
	}
	if f, ok, err := t.store.Finding(ctx, app.ObjectID); err != nil {
		return "", fmt.Errorf("trust %s: %w", app.ObjectID, err)
	} else if ok {
		return Verdict(f.Kind), nil
	}
	owned := app.OwnedByApppass
	if !app.OwnersKnown {
		if owned, err = t.entra.OwnedByApppass(ctx, app.ObjectID); err != nil {
			return "", fmt.Errorf("trust %s: %w", app.ObjectID, err)
		}
	}
	verdict := Lookalike
	if owned {
		app.HasServicePrincipal = false // not known until confirmed
		claimed, err := t.store.ClaimApplication(ctx, app)
		if err != nil {
			return "", fmt.Errorf("trust %s: %w", app.ObjectID, err)
		}
		if claimed.ObjectID == app.ObjectID {
			return Trusted, nil
		}
		verdict = Duplicate
	}
	f := domain.ApplicationFinding{ObjectID: app.ObjectID, AppID: app.AppID, OwnerID: app.OwnerID, Kind: string(verdict), Passwords: len(app.Passwords)}
	if err := t.store.RecordFinding(ctx, f); err != nil {
		return "", fmt.Errorf("trust %s: %w", app.ObjectID, err)
	}
	return verdict, nil
}

// Settled reports whether the store already records app (as the
// person's application, or as a finding), so that Check needs nobody to
// tell it who owns app. A scan that meets unsettled applications asks
// for owners with its next pages.
func (t *Trust) Settled(ctx context.Context, app domain.Application) (bool, error) {
	if app.OwnerID == "" {
		return true, nil
	}
	recorded, err := t.store.Application(ctx, app.OwnerID)
	switch {
	case err == nil && recorded.ObjectID == app.ObjectID:
		return true, nil
	case err != nil && domain.KindOf(err) != domain.KindNotFound:
		return false, fmt.Errorf("trust %s: %w", app.ObjectID, err)
	}
	_, ok, err := t.store.Finding(ctx, app.ObjectID)
	if err != nil {
		return false, fmt.Errorf("trust %s: %w", app.ObjectID, err)
	}
	return ok, nil
}
