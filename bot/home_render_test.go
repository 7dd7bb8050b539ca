package bot

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
)

// homeState builds a Home tab's state: passwords held of max, pending
// requests for the helpdesk (every third not decidable by the viewer),
// and the admin's own requests, with hostile names and long reasons.
func homeState(passwords, max, pending, mine int, roles handlers.Roles) handlers.HomeState {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	long := strings.Repeat("<!channel> & ", 40)
	st := handlers.HomeState{Listing: handlers.Listing{Max: max}, Roles: roles}
	for i := range passwords {
		st.Listing.Passwords = append(st.Listing.Passwords, domain.Password{KeyID: fmt.Sprint("k", i),
			Name: domain.Clip(fmt.Sprintf("<!here> & %d %s", i, strings.Repeat("&", 64)), 64), Hint: "a<b", Created: now})
	}
	for i := range pending {
		r := domain.RevocationRequest{ID: int64(i + 1), RequesterSlack: "UADAM", All: i%2 == 0,
			Targets: []domain.RevocationTarget{{Name: "<!channel>@example.test"}},
			Reason:  long, Status: domain.RevocationPending, CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour),
			Items: []domain.RevocationItem{{Password: domain.Password{Name: "<b>Laptop"}}}}
		if i%5 == 4 {
			r.Status = domain.RevocationPartial
		}
		st.Pending = append(st.Pending, handlers.PendingRequest{RevocationRequest: r, MayDecide: i%3 != 0, WhyNot: "you asked for it"})
	}
	for i := range mine {
		st.Mine = append(st.Mine, domain.RevocationRequest{ID: int64(i + 1), Targets: []domain.RevocationTarget{{Name: "<!here>"}}, Status: domain.RevocationDenied,
			DecidedSlack: "UHANA", DenyReason: long, Items: []domain.RevocationItem{{}}})
	}
	return st
}

func TestHomeViewStaysWithinBlockKitLimits(t *testing.T) {
	both := handlers.Roles{Admin: true, Helpdesk: true}
	tests := []struct {
		name     string
		st       handlers.HomeState
		want     []string
		wantMore bool
	}{
		{"employee with none", homeState(0, 40, 0, 0, handlers.Roles{}), []string{"0 of 40", "You have none yet"}, false},
		{"employee at the limit", homeState(40, 40, 0, 0, handlers.Roles{}), []string{"40 of 40", "the most you can"}, false},
		{"more passwords than rows", homeState(120, 200, 0, 0, handlers.Roles{}), []string{"120 of 200", "…and 80 more"}, true},
		{"helpdesk with 150 waiting", homeState(40, 40, 150, 0, handlers.Roles{Helpdesk: true}), []string{"waiting — 150", "more. `/apppass requests`"}, true},
		{"admin and helpdesk, full everywhere", homeState(40, 40, 150, 30, both), []string{"Your revocation requests", " older.", "waiting — 150"}, true},
		{"helpdesk with 3 waiting", homeState(2, 40, 3, 0, handlers.Roles{Helpdesk: true}), []string{"#1", "#3", "Someone else from the helpdesk decides"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			view := homeView(tt.st, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
			blocks := view.Blocks.BlockSet
			if len(blocks) > 100 {
				t.Fatalf("%d blocks; a Home tab holds 100", len(blocks))
			}
			b, err := json.Marshal(view)
			if err != nil {
				t.Fatal(err)
			}
			s := string(b)
			for _, want := range tt.want {
				if !strings.Contains(s, want) {
					t.Errorf("view lacks %q", want)
				}
			}
			if got := strings.Contains(s, "…and"); got != tt.wantMore {
				t.Errorf("view says \"…and N more\": %v, want %v", got, tt.wantMore)
			}
			for _, bad := range []string{"<!here>", "<!channel>", "<b>"} {
				if strings.Contains(s, bad) {
					t.Errorf("view holds unescaped %q", bad)
				}
			}
			checkTextLimits(t, blocks)
		})
	}
}

// checkTextLimits checks the section and header texts against Block
// Kit's lengths (fakeslack checks everything else end to end).
func checkTextLimits(t *testing.T, blocks any) {
	t.Helper()
	b, _ := json.Marshal(blocks)
	var raw []map[string]any
	_ = json.Unmarshal(b, &raw)
	for i, blk := range raw {
		txt, _ := blk["text"].(map[string]any)
		s, _ := txt["text"].(string)
		limit := map[string]int{"section": 3000, "header": 150}[blk["type"].(string)]
		if limit > 0 && len([]rune(s)) > limit {
			t.Errorf("block %d (%s): %d characters, at most %d", i, blk["type"], len([]rune(s)), limit)
		}
	}
}
