package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"sort"

	"github.com/apppass/apppass/domain"
)

// Listing is one person's app passwords as apppass shows them.
type Listing struct {
	Owner     domain.User
	Passwords []domain.Password // newest first
	Max       int
}

// applications finds the application apppass uses for an employee: of
// those Entra lists for them, the one Trust accepts; else the one the
// store records, which Entra may not list yet.
type applications struct {
	entra interface {
		ApplicationReader
		FreshApplicationReader
	}
	store ApplicationLookup
	trust *Trust
	log   *slog.Logger
}

// find returns ownerID's application and true, or false when there is
// none apppass may use. Errors are Entra's or the store's.
func (a applications) find(ctx context.Context, ownerID string) (domain.Application, bool, error) {
	listed, err := a.entra.FindApplications(ctx, ownerID)
	if err != nil {
		return domain.Application{}, false, err
	}
	return a.choose(ctx, ownerID, listed)
}

// fresh is find without Entra's cache: for decisions another replica's
// writes may have changed.
func (a applications) fresh(ctx context.Context, ownerID string) (domain.Application, bool, error) {
	listed, err := a.entra.FreshApplications(ctx, ownerID)
	if err != nil {
		return domain.Application{}, false, err
	}
	return a.choose(ctx, ownerID, listed)
}

// choose picks, of listed (oldest first), the application Trust accepts.
// A failure to check one that is not recorded only skips it, unless no
// application could be chosen.
func (a applications) choose(ctx context.Context, ownerID string, listed []domain.Application) (domain.Application, bool, error) {
	var checkErr error
	for _, l := range listed {
		if l.OwnerID != ownerID {
			continue
		}
		v, err := a.trust.Check(ctx, l)
		if err != nil {
			a.log.WarnContext(ctx, "application not checked", "owner", ownerID, "app", l.ObjectID, "err", err)
			checkErr = err
			continue
		}
		if v != Trusted {
			continue
		}
		recorded, err := a.store.Application(ctx, ownerID)
		if err != nil {
			return domain.Application{}, false, err
		}
		l.HasServicePrincipal = recorded.HasServicePrincipal
		return l, true, nil
	}
	stored, err := a.store.Application(ctx, ownerID)
	switch {
	case err == nil:
		return stored, true, nil
	case domain.KindOf(err) != domain.KindNotFound:
		return domain.Application{}, false, err
	case checkErr != nil:
		return domain.Application{}, false, checkErr
	default:
		return domain.Application{}, false, nil
	}
}

// duplicates returns, of listed, ownerID's duplicate applications:
// apppass's own (Trust's Duplicate verdict), other than used. A look-alike
// is never among them. One that cannot be checked is left out (and
// logged): apppass touches nothing it is not sure is its own.
func (a applications) duplicates(ctx context.Context, ownerID string, listed []domain.Application, used domain.Application) []domain.Application {
	var out []domain.Application
	for _, l := range listed {
		if l.OwnerID != ownerID || (used.ObjectID != "" && l.ObjectID == used.ObjectID) {
			continue
		}
		v, err := a.trust.Check(ctx, l)
		if err != nil {
			a.log.WarnContext(ctx, "application not checked", "owner", ownerID, "app", l.ObjectID, "err", err)
			continue
		}
		if v == Duplicate {
			out = append(out, l)
		}
	}
	return out
}

// holding is an owner's application (if any) and their current passwords,
// Graph's listing corrected by apppass's own recent writes; for
// holdings.everything, also the passwords on their duplicate applications.
type holding struct {
	app       domain.Application
	found     bool
	passwords []domain.Password
	strays    []stray
}

// stray is a password on a duplicate application: apppass's, but not the
// one it uses for the owner. Only --all and offboarding remove them.
type stray struct {
	app      domain.Application
	password domain.Password
}

// all returns every password h holds: on the owner's application, then on
// their duplicates.
func (h holding) all() []domain.Password {
	out := append([]domain.Password(nil), h.passwords...)
	for _, s := range h.strays {
		out = append(out, s.password)
	}
	return out
}

// appOf returns the application password keyID is on, and false when h
// knows of none (the owner has no application).
func (h holding) appOf(keyID string) (domain.Application, bool) {
	for _, s := range h.strays {
		if s.password.KeyID == keyID {
			return s.app, true
		}
	}
	return h.app, h.found
}

// holdings reads what people hold.
type holdings struct {
	apps  applications
	store CredentialHistory
	cfg   Config
}

// current reads owner's application and merges in what apppass created
// or removed within the lag window, which Graph may not show yet.
func (hs holdings) current(ctx context.Context, owner domain.User) (holding, error) {
	app, found, err := hs.apps.find(ctx, owner.ID)
	if err != nil {
		return holding{}, err
	}
	return hs.merge(ctx, owner, app, found, nil)
}

// everything is current (without Entra's cache when fresh) with, besides,
// the passwords on owner's duplicate applications: all of apppass's
// passwords for owner, for --all and offboarding. Errors are Entra's or
// the store's.
func (hs holdings) everything(ctx context.Context, owner domain.User, fresh bool) (holding, error) {
	list := hs.apps.entra.FindApplications
	if fresh {
		list = hs.apps.entra.FreshApplications
	}
	listed, err := list(ctx, owner.ID)
	if err != nil {
		return holding{}, err
	}
	app, found, err := hs.apps.choose(ctx, owner.ID, listed)
	if err != nil {
		return holding{}, err
	}
	var used domain.Application
	if found {
		used = app
	}
	return hs.merge(ctx, owner, app, found, hs.apps.duplicates(ctx, owner.ID, listed, used))
}

// merge corrects app's listing by apppass's own recent writes, and adds
// the passwords on dups that apppass has not removed.
func (hs holdings) merge(ctx context.Context, owner domain.User, app domain.Application, found bool, dups []domain.Application) (holding, error) {
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
		case domain.CredentialDelivered, domain.CredentialIssued:
			// Issued: made in Entra, being shown (perhaps by another
			// replica, whose write this process's cache has not seen).
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
	for _, d := range dups {
		for _, p := range d.Passwords {
			if !gone[p.KeyID] {
				h.strays = append(h.strays, stray{app: d, password: p})
			}
		}
	}
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
