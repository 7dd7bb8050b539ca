package fakeentra_test

import (
	"testing"

	"github.com/apppass/apppass/fakeentra"
)

// userJSON is a Graph user payload.
type userJSON struct {
	ID                string  `json:"id"`
	DisplayName       string  `json:"displayName"`
	UserPrincipalName string  `json:"userPrincipalName"`
	Mail              *string `json:"mail"`
	AccountEnabled    *bool   `json:"accountEnabled"`
}

// list is a Graph collection page.
type list[T any] struct {
	Context  string `json:"@odata.context"`
	NextLink string `json:"@odata.nextLink"`
	Value    []T    `json:"value"`
}

func addAlice(s *fakeentra.Server) {
	s.AddUser(fakeentra.User{ID: "11111111-1111-1111-1111-111111111111", DisplayName: "Alice",
		UserPrincipalName: "Alice@Contoso.test", Mail: "alice.smith@contoso.test", AccountEnabled: true})
	s.AddUser(fakeentra.User{ID: "22222222-2222-2222-2222-222222222222", DisplayName: "Bob",
		UserPrincipalName: "bob@contoso.test"})
}

func TestGetUser(t *testing.T) {
	e := newEnv(t)
	addAlice(e.s)
	sel := "?%24select=" + "id,displayName,userPrincipalName,mail,accountEnabled"
	for _, key := range []string{"11111111-1111-1111-1111-111111111111", "alice@contoso.TEST", "Alice%40Contoso.test"} {
		st, _, b := e.call("GET", "/v1.0/users/"+key+sel, nil)
		e.want(st, 200, b)
		u := decode[userJSON](t, b)
		if u.ID != "11111111-1111-1111-1111-111111111111" || u.DisplayName != "Alice" || u.UserPrincipalName != "Alice@Contoso.test" ||
			u.Mail == nil || *u.Mail != "alice.smith@contoso.test" || u.AccountEnabled == nil || !*u.AccountEnabled {
			t.Errorf("%s: %s", key, b)
		}
	}
	// Like Graph v1.0, accountEnabled is not a default property.
	st, _, b := e.call("GET", "/v1.0/users/bob@contoso.test", nil)
	e.want(st, 200, b)
	if u := decode[userJSON](t, b); u.AccountEnabled != nil || u.Mail != nil || u.ID == "" {
		t.Errorf("default properties: %s", b)
	}
	st, _, b = e.call("GET", "/v1.0/users/bob@contoso.test?$select=accountEnabled", nil)
	e.want(st, 200, b)
	if u := decode[userJSON](t, b); u.AccountEnabled == nil || *u.AccountEnabled || u.ID != "" {
		t.Errorf("select accountEnabled: %s", b)
	}
	st, _, b = e.call("GET", "/v1.0/users/nobody@contoso.test", nil)
	e.want(st, 404, b)
	if errCode(t, b) != "Request_ResourceNotFound" {
		t.Errorf("404 body %s", b)
	}
	st, _, b = e.call("GET", "/v1.0/users/bob@contoso.test?$select=jobTitle", nil)
	e.want(st, 400, b)
	if e.s.Count(fakeentra.OpGetUser) != 7 {
		t.Errorf("getUser count = %d", e.s.Count(fakeentra.OpGetUser))
	}
	if u, ok := e.s.LookupUser("ALICE@contoso.test"); !ok || u.DisplayName != "Alice" {
		t.Errorf("LookupUser = %+v %v", u, ok)
	}
}

func TestFilterUsersByMail(t *testing.T) {
	e := newEnv(t)
	addAlice(e.s)
	q := "/v1.0/users?%24filter=" + kiotaEscape("mail eq 'ALICE.smith@contoso.test'") + "&%24select=id,mail"
	st, _, b := e.call("GET", q, nil)
	e.want(st, 200, b)
	l := decode[list[userJSON]](t, b)
	if len(l.Value) != 1 || l.Value[0].ID != "11111111-1111-1111-1111-111111111111" || l.NextLink != "" {
		t.Errorf("filter: %s", b)
	}
	st, _, b = e.call("GET", "/v1.0/users?$filter=mail+eq+'o''brien@contoso.test'", nil)
	e.want(st, 200, b)
	if l := decode[list[userJSON]](t, b); len(l.Value) != 0 {
		t.Errorf("no match: %s", b)
	}
	// Re-adding a user re-indexes its mail.
	e.s.AddUser(fakeentra.User{ID: "11111111-1111-1111-1111-111111111111", UserPrincipalName: "alice@contoso.test", Mail: "new@contoso.test"})
	st, _, b = e.call("GET", q, nil)
	e.want(st, 200, b)
	if l := decode[list[userJSON]](t, b); len(l.Value) != 0 {
		t.Errorf("old mail still indexed: %s", b)
	}
	st, _, b = e.call("GET", "/v1.0/users?$filter="+kiotaEscape("mail lt 'x'"), nil)
	e.want(st, 400, b)
	if e.s.Count(fakeentra.OpFilterUsers) != 4 {
		t.Errorf("filterUsers count = %d", e.s.Count(fakeentra.OpFilterUsers))
	}
}

func TestCheckMemberGroups(t *testing.T) {
	e := newEnv(t)
	addAlice(e.s)
	e.s.AddGroupMember("g1", "11111111-1111-1111-1111-111111111111")
	e.s.AddGroupMember("G3", "11111111-1111-1111-1111-111111111111")
	body := map[string][]string{"groupIds": {"g1", "g2", "g3"}}
	st, _, b := e.call("POST", "/v1.0/users/alice@contoso.test/checkMemberGroups", body, gzipped)
	e.want(st, 200, b)
	if l := decode[list[string]](t, b); len(l.Value) != 2 || l.Value[0] != "g1" || l.Value[1] != "g3" {
		t.Errorf("members: %s", b)
	}
	e.s.RemoveGroupMember("g1", "11111111-1111-1111-1111-111111111111")
	st, _, b = e.call("POST", "/v1.0/users/11111111-1111-1111-1111-111111111111/checkMemberGroups", body)
	e.want(st, 200, b)
	if l := decode[list[string]](t, b); len(l.Value) != 1 {
		t.Errorf("after removal: %s", b)
	}
	st, _, b = e.call("POST", "/v1.0/users/ghost/checkMemberGroups", body)
	e.want(st, 404, b)
	st, _, b = e.call("POST", "/v1.0/users/bob@contoso.test/checkMemberGroups", map[string]any{})
	e.want(st, 400, b)
	if e.s.Count(fakeentra.OpCheckMemberGroups) != 4 {
		t.Errorf("count = %d", e.s.Count(fakeentra.OpCheckMemberGroups))
	}
}
