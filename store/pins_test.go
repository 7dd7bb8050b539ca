package store_test

import (
	"context"
	"testing"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/store"
)

func TestPinUserKeepsTheFirstEntraUser(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		steps := []struct {
			name string
			user domain.User
			want string
		}{
			{"first use pins", domain.User{ID: "e1", UserPrincipalName: "a@x.test"}, "e1"},
			{"same user refreshes", domain.User{ID: "e1", UserPrincipalName: "a2@x.test"}, "e1"},
			{"another user is not re-pointed", domain.User{ID: "e2", UserPrincipalName: "b@x.test"}, "e1"},
		}
		for _, s := range steps {
			got, err := db.PinUser(ctx, "U1", s.user)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if got != s.want {
				t.Errorf("%s: pinned to %q, want %q", s.name, got, s.want)
			}
		}
		people, err := db.KnownPeople(ctx, []string{"e1", "e2"})
		if err != nil {
			t.Fatal(err)
		}
		if people["e1"].SlackID != "U1" || people["e1"].UPN != "a2@x.test" {
			t.Errorf("KnownPeople[e1] = %+v, want U1 with the refreshed UPN", people["e1"])
		}
		if _, ok := people["e2"]; ok {
			t.Errorf("e2 was mapped to U1")
		}
	})
}
