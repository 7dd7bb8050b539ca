package handlers

import (
	"context"
	"fmt"
	"sort"

	"github.com/apppass/apppass/domain"
)

// Listing is one person's app passwords as apppass shows them.
type Listing struct {
	Owner     domain.User
	Passwords []domain.Password // newest first
	Max       int
}

// applications finds an employee's application: in Entra, else in the
// store, which remembers an application Entra may not list yet.
type applications struct {
	entra ApplicationReader
	store ApplicationStore
}

// find returns ownerID's application and true, or false when neither
// Entra nor the store knows one. Errors are Entra's or the store's.
func (a applications) find(ctx context.Context, ownerID string) (domain.Application, bool, error) {
	app, found, err := a.entra.FindApplication(ctx, ownerID)
	if err != nil || found {
		return app, found, err
	}
	stored, err := a.store.Application(ctx, ownerID)
	switch {
	case err == nil:
		return stored, true, nil
	case domain.KindOf(err) == domain.KindNotFound:
		return domain.Application{}, false, nil
	default:
		return domain.Application{}, false, err
	}
}

// holding is an owner's application (if any) and their current passwords,
// Graph's listing corrected by apppass's own recent writes.
type holding struct {
	app       domain.Application
	found     bool
	passwords []domain.Password
}

// holdings reads what people hold.
type holdings struct {
	apps  applications
	entra Entra
	store CredentialStore
	cfg   Config
}

// current reads owner's application and merges in what apppass created
// or removed within the lag window, which Graph may not show yet.
func (hs holdings) current(ctx context.Context, owner domain.User) (holding, error) {
	app, found, err := hs.apps.find(ctx, owner.ID)
	if err != nil {
		return holding{}, err
	}
	h := holding{app: app, found: found}
	recent, err := hs.store.RecentCredentials(ctx, owner.ID, hs.cfg.Now().Add(-hs.cfg.LagWindow))
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
		delete(extra, p.KeyID)
		if !gone[p.KeyID] {
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

// listing is owner's listing, without last-use dates.
func (hs holdings) listing(ctx context.Context, owner domain.User) (Listing, holding, error) {
	h, err := hs.current(ctx, owner)
	if err != nil {
		return Listing{}, holding{}, fmt.Errorf("passwords of %s: %w", owner.ID, err)
	}
	return Listing{Owner: owner, Passwords: h.passwords, Max: hs.cfg.Limits.MaxPerUser}, h, nil
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
