package handlers_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
)

func TestHomeShowsWhatEachRoleMaySee(t *testing.T) {
	w := newWorld(t)
	w.create(t, alice, "Laptop")
	w.create(t, holly, "Laptop")
	byAdam := w.file(t, adam, alice)
	w.clock.Add(time.Minute)
	byHolly := w.file(t, holly, alice)
	w.clock.Add(time.Minute)
	againstHolly := w.file(t, adam, holly)

	tests := []struct {
		name          string
		who           testPerson
		wantPasswords int
		wantPending   []int64 // oldest first
		wantUndecided []int64 // pending ones the person may not decide
		wantMine      []int64 // newest first
	}{
		{"employee", alice, 1, nil, nil, nil},
		{"admin sees own requests", adam, 0, nil, nil, []int64{againstHolly.ID, byAdam.ID}},
		{"helpdesk sees every pending request", hana, 0, []int64{byAdam.ID, byHolly.ID, againstHolly.ID}, nil, nil},
		{"admin and helpdesk may not decide own", holly, 1, []int64{byAdam.ID, byHolly.ID, againstHolly.ID},
			[]int64{byHolly.ID, againstHolly.ID}, []int64{byHolly.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := w.h.Home.View(context.Background(), tt.who.actor)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(st.Listing.Passwords); got != tt.wantPasswords || st.Listing.Max != 40 {
				t.Errorf("passwords = %d of %d, want %d of 40", got, st.Listing.Max, tt.wantPasswords)
			}
			var pending, undecided, mine []int64
			for _, p := range st.Pending {
				pending = append(pending, p.ID)
				if !p.MayDecide {
					undecided = append(undecided, p.ID)
					if p.WhyNot == "" {
						t.Errorf("request #%d: no reason why not", p.ID)
					}
				}
			}
			for _, m := range st.Mine {
				mine = append(mine, m.ID)
			}
			if !slices.Equal(pending, tt.wantPending) || !slices.Equal(undecided, tt.wantUndecided) || !slices.Equal(mine, tt.wantMine) {
				t.Errorf("pending %v (undecidable %v), mine %v; want %v (%v), %v", pending, undecided, mine, tt.wantPending, tt.wantUndecided, tt.wantMine)
			}
		})
	}
}

func TestHomeLeavesOutDecidedAndExpiredRequestsForTheHelpdesk(t *testing.T) {
	w := newWorld(t)
	w.create(t, alice, "Laptop")
	w.create(t, bob, "Laptop")
	decided := w.file(t, adam, alice)
	if _, err := w.h.Revocations.Approve(context.Background(), hana.actor, decided.ID); err != nil {
		t.Fatal(err)
	}
	w.file(t, adam, bob)
	w.clock.Add(73 * time.Hour) // past the request TTL

	st, err := w.h.Home.View(context.Background(), hugo.actor)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Pending) != 0 {
		t.Errorf("helpdesk sees %d pending requests, want none (one decided, one expired)", len(st.Pending))
	}
	st, err = w.h.Home.View(context.Background(), adam.actor)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Mine) != 2 || st.Mine[0].Status != domain.RevocationExpired || st.Mine[1].Status != domain.RevocationDone {
		t.Errorf("admin's own requests = %+v, want both, the newer expired, the older done", st.Mine)
	}
}

func TestHomeRefusesPeopleItCannotServe(t *testing.T) {
	w := newWorld(t)
	_, err := w.h.Home.View(context.Background(), domain.Actor{SlackID: "UERIN", Email: "erin@elsewhere.test"})
	if got := domain.KindOf(err); got != domain.KindForbidden || domain.MessageOf(err) == "" {
		t.Errorf("err = %v (kind %v), want a polite KindForbidden", err, got)
	}
}

// A helpdesk member among several people of one request sees it in
// Home, and why it is not theirs to decide.
func TestHomeHelpdeskAmongSeveralPeople(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.create(t, alice, "Scanner")
	w.create(t, hana, "Scanner")
	req, err := w.h.Revocations.Request(ctx, adam.actor, []domain.Actor{alice.actor, hana.actor}, "Scanner", false, "compromised")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		who    testPerson
		may    bool
		whyNot string
	}{{hana, false, "your own app passwords are among them"}, {hugo, true, ""}} {
		st, err := w.h.Home.View(ctx, tt.who.actor)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Pending) != 1 || st.Pending[0].ID != req.ID || st.Pending[0].MayDecide != tt.may || st.Pending[0].WhyNot != tt.whyNot {
			t.Errorf("%s's Home: pending %+v, want #%d with may decide %v (%q)", tt.who.user.ID, st.Pending, req.ID, tt.may, tt.whyNot)
		}
	}
}

func TestWhoseHomeAChangeRefreshes(t *testing.T) {
	tests := []struct {
		name string
		eff  handlers.Effects
		want []string
	}{
		{"own change", handlers.OwnChange(alice.actor), []string{"Ualice"}},
		{"filed", handlers.RevocationChange(domain.RevocationRequest{RequesterSlack: "Uadam", Targets: []domain.RevocationTarget{{Slack: "Ualice"}}}), []string{"Uadam", "Ualice"}},
		{"decided", handlers.RevocationChange(domain.RevocationRequest{RequesterSlack: "Uadam", Targets: []domain.RevocationTarget{{Slack: "Ualice"}}, DecidedSlack: "Uhana"}), []string{"Uadam", "Ualice", "Uhana"}},
		{"target not in Slack, decided by apppass", handlers.RevocationChange(domain.RevocationRequest{RequesterSlack: "Uadam", DecidedSlack: "apppass"}), []string{"Uadam"}},
		{"several people, one not in Slack", handlers.RevocationChange(domain.RevocationRequest{RequesterSlack: "Uadam",
			Targets: []domain.RevocationTarget{{Slack: "Ualice"}, {}, {Slack: "Ubob"}, {Slack: "Ualice"}}, DecidedSlack: "Uhana"}), []string{"Uadam", "Ualice", "Ubob", "Uhana"}},
		{"requester decides nothing twice", handlers.RevocationChange(domain.RevocationRequest{RequesterSlack: "Uholly", Targets: []domain.RevocationTarget{{Slack: "Ualice"}}, DecidedSlack: "Uholly"}), []string{"Uholly", "Ualice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.eff.RefreshHome; !slices.Equal(got, tt.want) {
				t.Errorf("RefreshHome = %v, want %v", got, tt.want)
			}
		})
	}
}
