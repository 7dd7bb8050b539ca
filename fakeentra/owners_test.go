package fakeentra_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/apppass/apppass/fakeentra"
)

// ownersJSON is GET /applications/{id}/owners.
type ownersJSON struct {
	Value []struct {
		Type string `json:"@odata.type"`
		ID   string `json:"id"`
	} `json:"value"`
}

func TestApplicationOwners(t *testing.T) {
	e := newEnv(t)
	e.s.AddUser(fakeentra.User{ID: "11111111-1111-1111-1111-111111111111", UserPrincipalName: "alice@contoso.test"})
	e.s.AddUser(fakeentra.User{ID: "66666666-6666-6666-6666-666666666666", UserPrincipalName: "mallory@contoso.test"})
	e.s.Seed(1, 0, nil)
	mine := e.createApp("App passwords – alice@contoso.test", "apppass", "apppass:owner:11111111-1111-1111-1111-111111111111")
	fake := e.s.AddLookalikeApplication("11111111-1111-1111-1111-111111111111", "66666666-6666-6666-6666-666666666666")
	seeded := e.s.Applications()[0]

	cases := []struct {
		name, path, wantID, wantType string
	}{
		{"created by apppass", "/v1.0/applications/" + mine.ID + "/owners?$select=id", fakeentra.ServicePrincipalID, "#microsoft.graph.servicePrincipal"},
		{"by appId", "/v1.0/applications(appId='" + mine.AppID + "')/owners", fakeentra.ServicePrincipalID, "#microsoft.graph.servicePrincipal"},
		{"seeded", "/v1.0/applications/" + seeded.ID + "/owners?$select=id", fakeentra.ServicePrincipalID, "#microsoft.graph.servicePrincipal"},
		{"look-alike", "/v1.0/applications/" + fake.ID + "/owners?$select=id", "66666666-6666-6666-6666-666666666666", "#microsoft.graph.user"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, _, b := e.call("GET", tc.path, nil)
			e.want(st, 200, b)
			o := decode[ownersJSON](t, b)
			if len(o.Value) != 1 || o.Value[0].ID != tc.wantID || o.Value[0].Type != tc.wantType {
				t.Fatalf("owners %s, want %s %s", b, tc.wantType, tc.wantID)
			}
		})
	}
	// The look-alike is tagged like apppass's own and shows up in the scan.
	l := e.listByTag("apppass:owner:11111111-1111-1111-1111-111111111111", "")
	if len(l.Value) != 2 || l.Value[1].ID != fake.ID || l.Value[1].DisplayName != "App passwords – alice@contoso.test" {
		t.Fatalf("owner tag lists %+v", l.Value)
	}
	if owners, ok := e.s.Owners(fake.ID); !ok || len(owners) != 1 || owners[0] != "66666666-6666-6666-6666-666666666666" {
		t.Fatalf("Owners(look-alike) = %v, %v", owners, ok)
	}
	st, _, b := e.call("GET", "/v1.0/applications/00000000-0000-0000-0000-000000000000/owners", nil)
	e.want(st, 404, b)
}

func TestServicePrincipalReplicationLag(t *testing.T) {
	for _, tc := range []struct {
		name      string
		forbidden bool
		status    int
		code      string
	}{
		{"not yet a valid application", false, http.StatusBadRequest, "Request_BadRequest"},
		{"OwnedBy: backing application", true, http.StatusForbidden, "Authorization_RequestDenied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			clk := e.useClock(newClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)))
			e.s.SetServicePrincipalLag(20*time.Second, tc.forbidden)
			st, _, b := e.call("POST", "/v1.0/applications", map[string]any{"displayName": "x", "tags": []string{"apppass"}})
			e.want(st, 201, b)
			a := decode[appJSON](t, b)
			st, _, b = e.call("POST", "/v1.0/servicePrincipals", map[string]any{"appId": a.AppID})
			e.want(st, tc.status, b)
			if errCode(t, b) != tc.code {
				t.Fatalf("code %s, want %s", b, tc.code)
			}
			clk.add(21 * time.Second)
			st, _, b = e.call("POST", "/v1.0/servicePrincipals", map[string]any{"appId": a.AppID})
			e.want(st, 201, b)
			if app, _ := e.s.Application(a.ID); !app.HasServicePrincipal {
				t.Fatal("no service principal after the lag")
			}
		})
	}
}

func TestCreateApplicationActsThenFails(t *testing.T) {
	e := newEnv(t)
	e.s.Inject(fakeentra.OpCreateApplication, fakeentra.Fault{Status: 503, AfterEffect: true})
	body := map[string]any{"displayName": "App passwords – a@x.test", "tags": []string{"apppass", "apppass:owner:u1"}}
	st, _, b := e.call("POST", "/v1.0/applications", body)
	e.want(st, 503, b)
	// What the SDK's retry handler does next: the same POST again.
	st, _, b = e.call("POST", "/v1.0/applications", body)
	e.want(st, 201, b)
	apps := e.s.Applications()
	if len(apps) != 2 || apps[0].DisplayName != apps[1].DisplayName {
		t.Fatalf("applications after a failed-but-done create and its retry: %+v", apps)
	}
	for _, a := range apps {
		if owners, _ := e.s.Owners(a.ID); len(owners) != 1 || owners[0] != fakeentra.ServicePrincipalID {
			t.Errorf("owners of %s: %v", a.ID, owners)
		}
	}
}

func TestUserPathRejected(t *testing.T) {
	e := newEnv(t)
	e.s.AddUser(fakeentra.User{ID: "11111111-1111-1111-1111-111111111111", UserPrincipalName: "$alice@contoso.test", Mail: "alice@contoso.test"})
	e.s.AddUser(fakeentra.User{ID: "22222222-2222-2222-2222-222222222222", UserPrincipalName: "bob#ext@contoso.test", Mail: "bob@contoso.test"})
	e.s.RejectUserPath("bob#ext@contoso.test")
	for _, key := range []string{"%24alice%40contoso.test", "bob%23ext%40contoso.test"} {
		st, _, b := e.call("GET", "/v1.0/users/"+key, nil)
		e.want(st, 400, b)
		if errCode(t, b) != "BadRequest" {
			t.Fatalf("%s: %s", key, b)
		}
	}
	// The fallback the client uses works.
	st, _, b := e.call("GET", "/v1.0/users?$filter="+kiotaEscape("mail eq 'alice@contoso.test'"), nil)
	e.want(st, 200, b)
	if l := decode[list[userJSON]](t, b); len(l.Value) != 1 || l.Value[0].ID != "11111111-1111-1111-1111-111111111111" {
		t.Fatalf("mail filter: %s", b)
	}
	// Other users are still found by path.
	e.s.AddUser(fakeentra.User{ID: "33333333-3333-3333-3333-333333333333", UserPrincipalName: "carol@contoso.test"})
	st, _, b = e.call("GET", "/v1.0/users/carol@contoso.test", nil)
	e.want(st, 200, b)
}

func TestSignInReportFailures(t *testing.T) {
	e := newEnv(t)
	e.s.EnableSignInActivity(true)
	const path = "/beta/reports/appCredentialSignInActivities"
	for _, tc := range []struct {
		kind   string
		status int
		code   string
	}{
		{fakeentra.SignInNotInCloud, 400, "BadRequest"},
		{fakeentra.SignInServerError, 500, "InternalServerError"},
		{fakeentra.SignInNotFound, 404, "Request_ResourceNotFound"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			e.s.FailSignInActivity(tc.kind)
			for range 2 { // it lasts
				st, _, b := e.call("GET", path, nil)
				e.want(st, tc.status, b)
				if errCode(t, b) != tc.code {
					t.Fatalf("%s", b)
				}
			}
		})
	}
	e.s.FailSignInActivity("")
	st, _, b := e.call("GET", path, nil)
	e.want(st, 200, b)
}
