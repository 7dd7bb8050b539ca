package graphclient_test

import (
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
)

func TestOwnedByApppassAsksGraphWhoOwnsIt(t *testing.T) {
	s := fakeentra.New(t)
	s.AddUser(fakeentra.User{ID: "u1", UserPrincipalName: "a@x.test", AccountEnabled: true})
	s.AddUser(fakeentra.User{ID: "u2", UserPrincipalName: "b@x.test", AccountEnabled: true})
	c := MustClient(t, s)
	own, err := c.CreateApplication(ctx(t), domain.User{ID: "u1", UserPrincipalName: "a@x.test"})
	if err != nil {
		t.Fatal(err)
	}
	fake := s.AddLookalikeApplication("u1", "u2")
	for _, tt := range []struct {
		name, id string
		want     bool
	}{{"apppass's own", own.ObjectID, true}, {"a look-alike", fake.ID, false}} {
		got, err := c.OwnedByApppass(ctx(t), tt.id)
		if err != nil || got != tt.want {
			t.Errorf("%s: OwnedByApppass = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	if n := s.Count(fakeentra.OpGetServicePrincipal); n != 1 {
		t.Errorf("apppass's service principal read %d times, want once", n)
	}
	if n := s.Count(fakeentra.OpListOwners); n != 2 {
		t.Errorf("owners read %d times, want 2", n)
	}
}

func TestServicePrincipalCreationWaitsOutReplication(t *testing.T) {
	for _, forbidden := range []bool{false, true} {
		t.Run(map[bool]string{false: "400", true: "403"}[forbidden], func(t *testing.T) {
			s := fakeentra.New(t)
			sl := &sleeper{at: time.Now()}
			s.SetNow(sl.now)
			s.SetServicePrincipalLag(20*time.Second, forbidden)
			c := mustClientSleeping(t, s, sl)
			app, err := c.CreateApplication(ctx(t), domain.User{ID: "u1", UserPrincipalName: "a@x.test"})
			if err != nil || !app.HasServicePrincipal {
				t.Fatalf("CreateApplication = %+v, %v; want it with its service principal", app, err)
			}
			if got := s.Applications(); len(got) != 1 || !got[0].HasServicePrincipal {
				t.Fatalf("Entra holds %+v", got)
			}
			if n := s.Count(fakeentra.OpCreateServicePrincipal); n < 2 {
				t.Errorf("createServicePrincipal called %d times, want retries", n)
			}
			var waited time.Duration
			for _, d := range sl.waits() {
				waited += d
			}
			if waited < 20*time.Second || waited > 2*time.Minute {
				t.Errorf("waited %v in all, want the lag (20 s) and at most two minutes", waited)
			}
		})
	}
}
