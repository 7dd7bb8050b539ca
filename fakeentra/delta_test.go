package fakeentra_test

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/apppass/apppass/fakeentra"
)

// deltaPage is a users delta response page.
type deltaPage struct {
	NextLink  string            `json:"@odata.nextLink"`
	DeltaLink string            `json:"@odata.deltaLink"`
	Value     []json.RawMessage `json:"value"`
}

// deltaUser is one entry of a delta page.
type deltaUser struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	AccountEnabled    *bool  `json:"accountEnabled"`
	Removed           *struct {
		Reason string `json:"reason"`
	} `json:"@removed"`
}

// syncDelta follows nextLinks from url to the deltaLink, returning every
// entry, the number of pages and the deltaLink.
func (e *env) syncDelta(url string) ([]deltaUser, int, string) {
	e.t.Helper()
	var all []deltaUser
	for pages := 1; ; pages++ {
		st, _, b := e.call("GET", url, nil)
		e.want(st, 200, b)
		p := decode[deltaPage](e.t, b)
		if (p.NextLink == "") == (p.DeltaLink == "") {
			e.t.Fatalf("page %d has nextLink %q and deltaLink %q; want exactly one", pages, p.NextLink, p.DeltaLink)
		}
		for _, raw := range p.Value {
			all = append(all, decode[deltaUser](e.t, raw))
		}
		if p.DeltaLink != "" {
			return all, pages, p.DeltaLink
		}
		url = p.NextLink
	}
}

// summary renders delta entries as sorted "upn:enabled" or "id:@removed:reason".
func summary(us []deltaUser) string {
	var out []string
	for _, u := range us {
		switch {
		case u.Removed != nil:
			out = append(out, u.ID+":@removed:"+u.Removed.Reason)
		case u.AccountEnabled == nil:
			out = append(out, u.UserPrincipalName+":?")
		case *u.AccountEnabled:
			out = append(out, u.UserPrincipalName+":on")
		default:
			out = append(out, u.UserPrincipalName+":off")
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestUsersDelta(t *testing.T) {
	e := newEnv(t)
	e.s.Seed(5, 0, nil) // user0…user4@example.test
	ids := map[string]string{}
	for i := range 5 {
		u, _ := e.s.LookupUser("user" + string(rune('0'+i)) + "@example.test")
		ids[u.UserPrincipalName] = u.ID
	}
	e.s.AddUser(fakeentra.User{ID: "dddddddd-0000-0000-0000-000000000001", UserPrincipalName: "off@example.test"})

	// Full sync, 2 per page: every user, with the selected properties.
	all, pages, link := e.syncDelta("/v1.0/users/delta?$select=id,accountEnabled,userPrincipalName&$top=2")
	if got, want := summary(all), "off@example.test:off user0@example.test:on user1@example.test:on user2@example.test:on user3@example.test:on user4@example.test:on"; got != want {
		t.Fatalf("full sync %q, want %q", got, want)
	}
	if pages != 3 {
		t.Errorf("full sync took %d pages of 2 for 6 users, want 3", pages)
	}
	if !strings.Contains(link, "$deltatoken=") {
		t.Errorf("deltaLink %q has no $deltatoken", link)
	}

	// Nothing changed: an empty round with a new deltaLink.
	none, _, link := e.syncDelta(link)
	if len(none) != 0 {
		t.Fatalf("round without changes returned %q", summary(none))
	}

	// Changes: only those come back, each once, in its latest state.
	seq := e.s.DirectoryChangeSeq()
	if !e.s.DisableUser(ids["user1@example.test"]) || !e.s.DisableUser("user2@example.test") ||
		!e.s.EnableUser("user2@example.test") || !e.s.DeleteUser(ids["user3@example.test"]) ||
		!e.s.PurgeUser(ids["user4@example.test"]) || !e.s.EnableUser("off@example.test") {
		t.Fatal("a change helper did not find its user")
	}
	if e.s.DisableUser("nobody@example.test") {
		t.Error("DisableUser found a missing user")
	}
	if got := e.s.DirectoryChangeSeq(); got != seq+6 {
		t.Errorf("change sequence moved %d, want 6", got-seq)
	}
	changes, _, link := e.syncDelta(link)
	wantList := []string{ids["user3@example.test"] + ":@removed:changed", ids["user4@example.test"] + ":@removed:deleted",
		"off@example.test:on", "user1@example.test:off", "user2@example.test:on"}
	sort.Strings(wantList)
	if got, want := summary(changes), strings.Join(wantList, " "); got != want {
		t.Fatalf("changes %q, want %q", got, want)
	}
	// A removed user is only id and @removed.
	for _, c := range changes {
		if c.Removed != nil && (c.UserPrincipalName != "" || c.AccountEnabled != nil) {
			t.Errorf("removed entry carries properties: %+v", c)
		}
	}
	// Deleted users are gone from the directory.
	st, _, b := e.call("GET", "/v1.0/users/"+ids["user3@example.test"], nil)
	e.want(st, 404, b)

	// Purging a soft-deleted user is reported again, as deleted.
	e.s.PurgeUser(ids["user3@example.test"])
	changes, _, _ = e.syncDelta(link)
	if got, want := summary(changes), ids["user3@example.test"]+":@removed:deleted"; got != want {
		t.Fatalf("after purge %q, want %q", got, want)
	}
	// Restoring by AddUser makes the user a change again.
	e.s.AddUser(fakeentra.User{ID: ids["user3@example.test"], UserPrincipalName: "user3@example.test", AccountEnabled: true})
	changes, _, _ = e.syncDelta(link)
	if got := summary(changes); !strings.Contains(got, "user3@example.test:on") {
		t.Fatalf("after restore %q", got)
	}
}

func TestUsersDeltaLatestAndPrefer(t *testing.T) {
	e := newEnv(t)
	e.s.Seed(3, 0, nil)
	// "Sync from now": no users, a deltaLink.
	all, _, link := e.syncDelta("/v1.0/users/delta?$deltatoken=latest")
	if len(all) != 0 {
		t.Fatalf("latest returned %q", summary(all))
	}
	e.s.DisableUser("user0@example.test")
	changes, _, _ := e.syncDelta(link)
	if len(changes) != 1 || changes[0].UserPrincipalName != "user0@example.test" {
		t.Fatalf("changes since latest %+v", changes)
	}
	// Prefer: odata.maxpagesize pages the full sync; the SDK's fully
	// qualified function name is routed too.
	st, _, b := e.call("GET", "/v1.0/users/microsoft.graph.delta()", nil, header("Prefer", "odata.maxpagesize=1"))
	e.want(st, 200, b)
	if p := decode[deltaPage](t, b); len(p.Value) != 1 || p.NextLink == "" {
		t.Fatalf("maxpagesize=1 page: %s", b)
	}
}

func TestUsersDeltaExpiredToken(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		want   int
	}{
		{"default 410 Gone", 0, http.StatusGone},
		{"identity resources 400", http.StatusBadRequest, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.s.Seed(3, 0, nil)
			_, _, link := e.syncDelta("/v1.0/users/delta?$select=id,accountEnabled")
			st, _, b := e.call("GET", "/v1.0/users/delta?$top=1", nil)
			e.want(st, 200, b)
			next := decode[deltaPage](t, b).NextLink
			e.s.ExpireDeltaLinks(tc.status)
			for _, u := range []string{link, next} {
				st, _, b := e.call("GET", u, nil)
				e.want(st, tc.want, b)
				if errCode(t, b) != "syncStateNotFound" {
					t.Fatalf("expired token: %s", b)
				}
			}
			// A full sync starts over and works.
			all, _, _ := e.syncDelta("/v1.0/users/delta?$select=id,accountEnabled,userPrincipalName")
			if len(all) != 3 {
				t.Fatalf("full sync after expiry: %d users", len(all))
			}
		})
	}
	e := newEnv(t)
	st, _, b := e.call("GET", "/v1.0/users/delta?$deltatoken=garbage", nil)
	e.want(st, http.StatusGone, b)
	if errCode(t, b) != "syncStateNotFound" {
		t.Fatalf("garbage token: %s", b)
	}
}
