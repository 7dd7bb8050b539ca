package handlers_test

import (
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
	"github.com/apppass/apppass/internal/testkit"
	"github.com/apppass/apppass/store"
)

// The people of the handlers' tests.
var (
	alice = person("alice")
	bob   = person("bob")
	adam  = person("adam")  // admin
	hana  = person("hana")  // helpdesk
	hugo  = person("hugo")  // helpdesk
	holly = person("holly") // admin and helpdesk
)

type testPerson struct {
	actor domain.Actor
	user  domain.User
}

func person(name string) testPerson {
	email := name + "@example.test"
	return testPerson{
		actor: domain.Actor{SlackID: "U" + name, Email: email, Name: name},
		user:  domain.User{ID: "e-" + name, UserPrincipalName: email, Mail: email, AccountEnabled: true},
	}
}

// world is the handlers over an in-memory Entra and a real store, at a
// settable clock.
type world struct {
	h     *handlers.Handlers
	entra *testkit.Entra
	db    *store.DB
	clock *testkit.Clock
}

func newWorld(t *testing.T) *world {
	t.Helper()
	clock := testkit.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	e := testkit.NewEntra()
	e.Now = clock.Now
	e.AddUser(alice.user)
	e.AddUser(bob.user)
	e.AddUser(adam.user, testkit.AdminGroup)
	e.AddUser(hana.user, testkit.HelpdeskGroup)
	e.AddUser(hugo.user, testkit.HelpdeskGroup)
	e.AddUser(holly.user, testkit.AdminGroup, testkit.HelpdeskGroup)
	db := testkit.OpenStore(t, clock.Now)
	h := build(e, e, db, testkit.HandlersConfig(clock.Now))
	return &world{h: h, entra: e, db: db, clock: clock}
}

// build makes the handlers as the wiring does, each from its own
// constructor with only what it calls, over dir for people and entra and
// db for the rest.
func build(dir handlers.Directory, entra *testkit.Entra, db *store.DB, cfg handlers.Config) *handlers.Handlers {
	trust := handlers.NewTrust(entra, db)
	id := handlers.NewIdentity(dir, db, cfg, nil)
	rec := handlers.NewReconciler(entra, db, cfg, nil)
	pw := handlers.NewPasswords(id, trust, rec, entra, db, cfg, nil)
	return &handlers.Handlers{
		Identity: id, Trust: trust, Reconciler: rec, Passwords: pw,
		Revocations: handlers.NewRevocations(id, trust, entra, db, cfg, nil),
		Home:        handlers.NewHome(pw, id, db, cfg, nil),
	}
}
