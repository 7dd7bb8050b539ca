package handlers_test

import (
	"context"
	"testing"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
	"github.com/apppass/apppass/internal/testkit"
)

func TestTrustVerdicts(t *testing.T) {
	ctx := context.Background()
	e := testkit.NewEntra()
	db := testkit.OpenStore(t, nil)
	trust := handlers.NewTrust(e, db)
	first := domain.Application{ObjectID: "obj-1", AppID: "app-1", OwnerID: "e-alice"}
	second := domain.Application{ObjectID: "obj-2", AppID: "app-2", OwnerID: "e-alice"}
	fake := domain.Application{ObjectID: "obj-3", AppID: "app-3", OwnerID: "e-alice", Passwords: []domain.Password{{KeyID: "k"}}}
	e.Foreign(fake.ObjectID)
	for _, tt := range []struct {
		name string
		app  domain.Application
		want handlers.Verdict
	}{
		{"apppass's, nothing recorded: claimed", first, handlers.Trusted},
		{"the recorded one", first, handlers.Trusted},
		{"a second of apppass's", second, handlers.Duplicate},
		{"owned by someone else", fake, handlers.Lookalike},
		{"the look-alike again, from the store", fake, handlers.Lookalike},
		{"no owner tag", domain.Application{ObjectID: "obj-4"}, handlers.Lookalike},
	} {
		got, err := trust.Check(ctx, tt.app)
		if err != nil || got != tt.want {
			t.Errorf("%s: Check = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	if rec, err := db.Application(ctx, "e-alice"); err != nil || rec.ObjectID != first.ObjectID {
		t.Errorf("recorded application = %+v, %v; want the first", rec, err)
	}
	found, err := db.UnreportedFindings(ctx)
	if err != nil || len(found) != 2 || found[0].Kind == found[1].Kind {
		t.Errorf("findings = %+v, %v; want one duplicate and one look-alike", found, err)
	}
}
