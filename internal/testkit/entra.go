package testkit

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
	"github.com/apppass/apppass/jobs"
)

// Entra is an in-memory Entra: employees, groups, one application per
// employee with its password credentials, and sign-in data. It satisfies
// every Entra interface of the handlers and jobs.Scanner, and is safe for
// concurrent use. Its function fields inject faults.
type Entra struct {
	// AddPasswordFault, when set, is called (without Entra's lock) with
	// each credential AddPassword has just created; an error makes
	// AddPassword fail with it, the credential existing all the same.
	AddPasswordFault func(p domain.Password) error
	// RemovePasswordFault, when set, is called (without Entra's lock)
	// before each removal; an error makes RemovePassword fail with it,
	// removing nothing.
	RemovePasswordFault func(ctx context.Context, ownerID, keyID string) error
	// ScanFunc, when set, replaces ScanHolders.
	ScanFunc func(ctx context.Context, fn func(app domain.Application, upn string) error) error
	// Now dates new credentials; nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex
	owners   []string                       // in the order applications were made
	apps     map[string]*domain.Application // by owner
	upns     map[string]string              // owner → UPN, as ScanHolders reports it
	hidden   map[string]bool                // key ids Graph does not list yet
	removed  []string
	users    map[string]domain.User // by lower-cased UPN and mail
	groups   map[string][]string    // user id → group ids
	signIns  map[string]time.Time   // key id → last sign-in
	licensed bool                   // the tenant has sign-in data
	foreign  map[string]bool        // object ids of look-alikes
}

// NewEntra returns an empty Entra.
func NewEntra() *Entra {
	return &Entra{apps: map[string]*domain.Application{}, upns: map[string]string{}, hidden: map[string]bool{},
		users: map[string]domain.User{}, groups: map[string][]string{}, signIns: map[string]time.Time{}}
}

// Tenant returns an Entra holding apps, whose owners' UPNs are upns.
func Tenant(apps []domain.Application, upns map[string]string) *Entra {
	e := NewEntra()
	for _, a := range apps {
		a.Passwords = append([]domain.Password(nil), a.Passwords...)
		e.owners = append(e.owners, a.OwnerID)
		e.apps[a.OwnerID] = &a
		e.upns[a.OwnerID] = upns[a.OwnerID]
	}
	return e
}

// AddUser adds an employee, found by UPN or mail, member of groups.
func (e *Entra) AddUser(u domain.User, groups ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, k := range []string{u.UserPrincipalName, u.Mail} {
		if k != "" {
			e.users[strings.ToLower(k)] = u
		}
	}
	e.groups[u.ID] = append(e.groups[u.ID], groups...)
}

// SetSignIns turns sign-in data on, with last sign-ins by key id.
func (e *Entra) SetSignIns(last map[string]time.Time) *Entra {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.licensed = true
	for k, t := range last {
		e.signIns[k] = t
	}
	return e
}

// Hide makes Graph leave keyID out of listings, as replication lag does;
// ShowAll ends that.
func (e *Entra) Hide(keyID string) { e.mu.Lock(); e.hidden[keyID] = true; e.mu.Unlock() }

// ShowAll lists every credential again.
func (e *Entra) ShowAll() { e.mu.Lock(); e.hidden = map[string]bool{}; e.mu.Unlock() }

// Discard drops keyID as if it had never been created.
func (e *Entra) Discard(keyID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.apps {
		a.Passwords = dropKey(a.Passwords, keyID)
	}
}

// Passwords returns every credential of owner's application, hidden or
// not.
func (e *Entra) Passwords(owner string) []domain.Password {
	e.mu.Lock()
	defer e.mu.Unlock()
	if a := e.apps[owner]; a != nil {
		return append([]domain.Password(nil), a.Passwords...)
	}
	return nil
}

// Removed returns the key ids RemovePassword removed, in order.
func (e *Entra) Removed() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.removed...)
}

// FindUser implements handlers.Directory.
func (e *Entra) FindUser(_ context.Context, email string) (domain.User, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if u, ok := e.users[strings.ToLower(strings.TrimSpace(email))]; ok {
		return u, nil
	}
	return domain.User{}, domain.Errorf(domain.KindNotFound, "no user %s", email)
}

// MemberGroups implements handlers.Directory.
func (e *Entra) MemberGroups(_ context.Context, userID string, groupIDs []string) ([]string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, g := range groupIDs {
		for _, m := range e.groups[userID] {
			if g != "" && g == m {
				out = append(out, g)
			}
		}
	}
	return out, nil
}

func (e *Entra) listed(a *domain.Application) domain.Application {
	out := *a
	out.Passwords = nil
	for _, p := range a.Passwords {
		if !e.hidden[p.KeyID] {
			out.Passwords = append(out.Passwords, p)
		}
	}
	return out
}

// FindApplications implements handlers.ApplicationReader: the owner's one
// application, if any.
func (e *Entra) FindApplications(_ context.Context, owner string) ([]domain.Application, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.apps[owner]
	if a == nil {
		return nil, nil
	}
	return []domain.Application{e.listed(a)}, nil
}

// FreshApplications implements handlers.FreshApplicationReader; there is no cache.
func (e *Entra) FreshApplications(ctx context.Context, owner string) ([]domain.Application, error) {
	return e.FindApplications(ctx, owner)
}

// OwnedByApppass implements handlers.OwnershipChecker: every application is
// apppass's but those marked Foreign.
func (e *Entra) OwnedByApppass(_ context.Context, objectID string) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return !e.foreign[objectID], nil
}

// Foreign marks application objectID as not apppass's (a look-alike).
func (e *Entra) Foreign(objectID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.foreign == nil {
		e.foreign = map[string]bool{}
	}
	e.foreign[objectID] = true
}

// CreateApplication implements handlers.PasswordEntra.
func (e *Entra) CreateApplication(_ context.Context, u domain.User) (domain.Application, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := &domain.Application{ObjectID: "obj-" + u.ID, AppID: "app-" + u.ID, OwnerID: u.ID, HasServicePrincipal: true}
	e.owners = append(e.owners, u.ID)
	e.apps[u.ID] = a
	e.upns[u.ID] = u.UserPrincipalName
	return *a, nil
}

// EnsureServicePrincipal implements handlers.PasswordEntra: every application
// has one.
func (e *Entra) EnsureServicePrincipal(context.Context, string) error { return nil }

// AddPassword implements handlers.PasswordEntra.
func (e *Entra) AddPassword(_ context.Context, app domain.Application, name string, expires time.Time) (domain.Password, domain.Secret, error) {
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	e.mu.Lock()
	a := e.apps[app.OwnerID]
	if a == nil {
		e.mu.Unlock()
		return domain.Password{}, domain.Secret{}, domain.Errorf(domain.KindUpstream, "no application %s", app.ObjectID)
	}
	p := domain.Password{KeyID: uuid.NewString(), Name: name, Hint: "abc", Created: now(), Expires: expires}
	a.Passwords = append(a.Passwords, p)
	e.mu.Unlock()
	if e.AddPasswordFault != nil {
		if err := e.AddPasswordFault(p); err != nil {
			return domain.Password{}, domain.Secret{}, err
		}
	}
	return p, domain.NewSecret("secret-" + p.KeyID), nil
}

// RemovePassword implements handlers.CredentialRemover.
func (e *Entra) RemovePassword(ctx context.Context, app domain.Application, keyID string) error {
	if f := e.RemovePasswordFault; f != nil {
		if err := f(ctx, app.OwnerID, keyID); err != nil {
			return err
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if a := e.apps[app.OwnerID]; a != nil {
		if left := dropKey(a.Passwords, keyID); len(left) < len(a.Passwords) {
			a.Passwords = left
			e.removed = append(e.removed, keyID)
			return nil
		}
	}
	return domain.Errorf(domain.KindNotFound, "no credential %s", keyID)
}

// LastUsed implements handlers.PasswordEntra.
func (e *Entra) LastUsed(_ context.Context, appID string) (map[string]time.Time, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]time.Time{}
	for _, a := range e.apps {
		if a.AppID != appID {
			continue
		}
		for _, p := range a.Passwords {
			if t, ok := e.signIns[p.KeyID]; ok {
				out[p.KeyID] = t
			}
		}
	}
	return out, nil
}

// TenantID implements handlers.PasswordEntra.
func (e *Entra) TenantID() string { return "tenant" }

// CredentialPolicy implements handlers.PasswordEntra: a tenant without an
// app management policy.
func (e *Entra) CredentialPolicy(context.Context) (domain.CredentialPolicy, error) {
	return domain.CredentialPolicy{}, nil
}

// ScanHolders implements jobs.Scanner: every application, in the order
// they were made, with copies of their credentials.
func (e *Entra) ScanHolders(ctx context.Context, _ func() bool, fn func(app domain.Application, upn string) error) error {
	if e.ScanFunc != nil {
		return e.ScanFunc(ctx, fn)
	}
	e.mu.Lock()
	type row struct {
		app domain.Application
		upn string
	}
	rows := make([]row, 0, len(e.owners))
	for _, o := range e.owners {
		a := e.listed(e.apps[o])
		a.Passwords = append([]domain.Password(nil), a.Passwords...)
		rows = append(rows, row{a, e.upns[o]})
	}
	e.mu.Unlock()
	for _, r := range rows {
		if err := fn(r.app, r.upn); err != nil {
			return err
		}
	}
	return nil
}

// CredentialSignIns implements jobs.Scanner: available only after
// SetSignIns.
func (e *Entra) CredentialSignIns(_ context.Context, fn func(keyID string, last time.Time) error) (bool, error) {
	e.mu.Lock()
	licensed := e.licensed
	last := make(map[string]time.Time, len(e.signIns))
	for k, t := range e.signIns {
		last[k] = t
	}
	e.mu.Unlock()
	if !licensed {
		return false, nil
	}
	for k, t := range last {
		if err := fn(k, t); err != nil {
			return true, err
		}
	}
	return true, nil
}

func dropKey(ps []domain.Password, keyID string) []domain.Password {
	out := ps[:0:0]
	for _, p := range ps {
		if p.KeyID != keyID {
			out = append(out, p)
		}
	}
	return out
}

var (
	_ handlers.Directory        = (*Entra)(nil)
	_ handlers.OwnershipChecker = (*Entra)(nil)
	_ handlers.PasswordEntra    = (*Entra)(nil)
	_ handlers.RevocationEntra  = (*Entra)(nil)
	_ handlers.ReconcileEntra   = (*Entra)(nil)
)

var _ jobs.Scanner = (*Entra)(nil)
