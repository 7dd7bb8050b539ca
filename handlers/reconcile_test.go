package handlers_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
	"github.com/apppass/apppass/store"
)

// fakeEntra is an in-memory Entra with function fields for faults.
type fakeEntra struct {
	mu      sync.Mutex
	app     domain.Application
	hidden  map[string]bool // credentials Graph does not list yet
	removed []string
	nextKey int
	AddFunc func(name string) error // called before creating; nil: succeed
}

func (f *fakeEntra) list() domain.Application {
	a := f.app
	a.Passwords = nil
	for _, p := range f.app.Passwords {
		if !f.hidden[p.KeyID] {
			a.Passwords = append(a.Passwords, p)
		}
	}
	return a
}

func (f *fakeEntra) FindApplication(ctx context.Context, owner string) (domain.Application, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.list(), f.app.ObjectID != "", nil
}

func (f *fakeEntra) FreshApplication(ctx context.Context, owner string) (domain.Application, bool, error) {
	return f.FindApplication(ctx, owner)
}

func (f *fakeEntra) CreateApplication(ctx context.Context, u domain.User) (domain.Application, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.app = domain.Application{ObjectID: "obj", AppID: "appid", OwnerID: u.ID}
	return f.app, nil
}

func (f *fakeEntra) AddPassword(ctx context.Context, app domain.Application, name string, exp time.Time) (domain.Password, domain.Secret, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextKey++
	p := domain.Password{KeyID: "key-" + strings.Repeat("x", f.nextKey), Name: name, Created: time.Now()}
	f.app.Passwords = append(f.app.Passwords, p)
	if f.AddFunc != nil {
		if err := f.AddFunc(name); err != nil {
			return domain.Password{}, domain.Secret{}, err
		}
	}
	return p, domain.NewSecret("secret-" + p.KeyID), nil
}

func (f *fakeEntra) RemovePassword(ctx context.Context, app domain.Application, keyID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, p := range f.app.Passwords {
		if p.KeyID == keyID {
			f.app.Passwords = append(f.app.Passwords[:i], f.app.Passwords[i+1:]...)
			f.removed = append(f.removed, keyID)
			return nil
		}
	}
	return domain.Errorf(domain.KindNotFound, "gone")
}

func (f *fakeEntra) TenantID() string { return "tenant" }

func (f *fakeEntra) LastUsed(ctx context.Context, appID string) (map[string]time.Time, error) {
	return nil, nil
}

type fakeDir struct{}

func (fakeDir) FindUser(ctx context.Context, email string) (domain.User, error) {
	return domain.User{ID: "u-" + email, UserPrincipalName: email, AccountEnabled: true}, nil
}

func (fakeDir) MemberGroups(ctx context.Context, id string, groups []string) ([]string, error) {
	return nil, nil
}

func newService(t *testing.T, e *fakeEntra, now func() time.Time) (*handlers.Service, *store.DB) {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = now
	return handlers.New(fakeDir{}, e, db, nil, handlers.Config{Now: now}, nil), db
}

var alice = domain.Actor{SlackID: "U1", Email: "alice@x.test"}

func deliverOK(context.Context, domain.Created) error { return nil }

// The reconciler removes only credentials nobody received: never one
// that was delivered, even with the same name.
func TestSettleNeverRemovesDeliveredCredentials(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	clock := func() time.Time { return now }
	e := &fakeEntra{hidden: map[string]bool{}}
	svc, _ := newService(t, e, clock)

	// An ambiguous failure while Graph hides the new credential: the
	// request cannot find it, so the record stays pending.
	e.AddFunc = func(string) error {
		e.hidden[e.app.Passwords[len(e.app.Passwords)-1].KeyID] = true
		return domain.Errorf(domain.KindUpstream, "503")
	}
	if _, err := svc.CreatePassword(ctx, alice, "Phone", deliverOK); err == nil {
		t.Fatal("ambiguous create reported success")
	}
	ghost := e.app.Passwords[0].KeyID
	// The person retries at once and gets a password with the same name
	// (the first is invisible to the duplicate check).
	e.AddFunc = nil
	p, err := svc.CreatePassword(ctx, alice, "Phone", deliverOK)
	if err != nil {
		t.Fatal(err)
	}
	// Later, Graph shows both; the settler runs.
	e.hidden = map[string]bool{}
	now = now.Add(3 * time.Minute)
	if err := svc.SettleUnsettled(ctx); err != nil {
		t.Fatal(err)
	}
	if len(e.removed) != 1 || e.removed[0] != ghost {
		t.Fatalf("removed %v, want only the undelivered %s", e.removed, ghost)
	}
	if len(e.app.Passwords) != 1 || e.app.Passwords[0].KeyID != p.KeyID {
		t.Fatalf("left %+v, want the delivered one", e.app.Passwords)
	}
}

// A record whose credential never appears is given up after GiveUpAfter,
// not retried forever.
func TestSettleGivesUp(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	e := &fakeEntra{hidden: map[string]bool{}}
	svc, db := newService(t, e, func() time.Time { return now })
	e.AddFunc = func(string) error {
		e.app.Passwords = e.app.Passwords[:len(e.app.Passwords)-1] // nothing was created
		return errors.New("connection reset")
	}
	if _, err := svc.CreatePassword(ctx, alice, "Phone", deliverOK); err == nil {
		t.Fatal("failed create reported success")
	}
	now = now.Add(10 * time.Minute)
	_ = svc.SettleUnsettled(ctx)
	if recs, _ := db.UnsettledCredentials(ctx, now); len(recs) != 1 {
		t.Fatalf("record settled too early: %d unsettled", len(recs))
	}
	now = now.Add(time.Hour)
	_ = svc.SettleUnsettled(ctx)
	if recs, _ := db.UnsettledCredentials(ctx, now); len(recs) != 0 {
		t.Fatalf("record never given up: %d unsettled", len(recs))
	}
}

// A delivery failure removes the new credential and says so.
func TestUndeliveredIsRemoved(t *testing.T) {
	e := &fakeEntra{hidden: map[string]bool{}}
	svc, _ := newService(t, e, time.Now)
	_, err := svc.CreatePassword(context.Background(), alice, "Phone", func(context.Context, domain.Created) error {
		return errors.New("expired_url")
	})
	if err == nil || !strings.Contains(domain.MessageOf(err), "removed it again") {
		t.Fatalf("err = %v", err)
	}
	if len(e.app.Passwords) != 0 || len(e.removed) != 1 {
		t.Fatalf("undelivered credential left: %+v", e.app.Passwords)
	}
}
