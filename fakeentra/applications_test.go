package fakeentra_test

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/apppass/apppass/fakeentra"
)

// appJSON is a Graph application payload.
type appJSON struct {
	ID                  string     `json:"id"`
	AppID               string     `json:"appId"`
	DisplayName         string     `json:"displayName"`
	SignInAudience      string     `json:"signInAudience"`
	Tags                []string   `json:"tags"`
	PasswordCredentials []credJSON `json:"passwordCredentials"`
}

// credJSON is a Graph passwordCredential payload.
type credJSON struct {
	CustomKeyIdentifier *string   `json:"customKeyIdentifier"`
	DisplayName         string    `json:"displayName"`
	EndDateTime         time.Time `json:"endDateTime"`
	Hint                string    `json:"hint"`
	KeyID               string    `json:"keyId"`
	SecretText          *string   `json:"secretText"`
	StartDateTime       time.Time `json:"startDateTime"`
}

// createApp creates an application and its service principal over HTTP.
func (e *env) createApp(name string, tags ...string) appJSON {
	e.t.Helper()
	st, _, b := e.call("POST", "/v1.0/applications", map[string]any{
		"@odata.type": "#microsoft.graph.application", "displayName": name, "signInAudience": "AzureADMyOrg", "tags": tags,
	}, gzipped)
	e.want(st, 201, b)
	return decode[appJSON](e.t, b)
}

// addPassword adds a secret named name to application id.
func (e *env) addPassword(id, name string) credJSON {
	e.t.Helper()
	st, _, b := e.call("POST", "/v1.0/applications/"+id+"/addPassword",
		map[string]any{"passwordCredential": map[string]any{"displayName": name}}, gzipped)
	e.want(st, 200, b)
	return decode[credJSON](e.t, b)
}

// listByTag lists one page of applications tagged tag.
func (e *env) listByTag(tag, extra string) list[appJSON] {
	e.t.Helper()
	st, _, b := e.call("GET", "/v1.0/applications?%24filter="+kiotaEscape("tags/any(t:t eq '"+tag+"')")+extra, nil)
	e.want(st, 200, b)
	return decode[list[appJSON]](e.t, b)
}

var secretShape = regexp.MustCompile(`^[A-Za-z0-9]{3}[0-9]Q~[A-Za-z0-9~._-]{34}$`)

func TestApplicationLifecycle(t *testing.T) {
	e := newEnv(t)
	owner := fakeentra.OwnerTagPrefix + "u1"
	a := e.createApp("apppass <u1> & \"co\"", "apppass", owner)
	if a.ID == "" || a.AppID == "" || a.ID == a.AppID || a.DisplayName != "apppass <u1> & \"co\"" ||
		!slices.Equal(a.Tags, []string{"apppass", owner}) || a.PasswordCredentials == nil {
		t.Fatalf("created %+v", a)
	}
	st, _, b := e.call("POST", "/v1.0/servicePrincipals", map[string]any{"appId": a.AppID, "tags": []string{"apppass"}}, gzipped)
	e.want(st, 201, b)
	if sp := decode[appJSON](t, b); sp.AppID != a.AppID || sp.ID == "" || sp.DisplayName != a.DisplayName {
		t.Errorf("sp %s", b)
	}
	st, _, b = e.call("POST", "/v1.0/servicePrincipals", map[string]any{"appId": a.AppID})
	e.want(st, 409, b)
	st, _, b = e.call("POST", "/v1.0/servicePrincipals", map[string]any{"appId": "00000000-0000-0000-0000-000000000000"})
	e.want(st, 400, b)

	before := time.Now().Add(-time.Second)
	c := e.addPassword(a.ID, "laptop")
	if c.SecretText == nil || !secretShape.MatchString(*c.SecretText) || c.Hint != (*c.SecretText)[:3] ||
		c.KeyID == "" || c.DisplayName != "laptop" || c.CustomKeyIdentifier != nil {
		t.Fatalf("addPassword %+v", c)
	}
	if d := c.EndDateTime.Sub(c.StartDateTime); c.StartDateTime.Before(before) || d < 730*24*time.Hour || d > 732*24*time.Hour {
		t.Errorf("times %v → %v", c.StartDateTime, c.EndDateTime)
	}
	end := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	st, _, b = e.call("POST", "/v1.0/applications(appId='"+a.AppID+"')/addPassword",
		map[string]any{"passwordCredential": map[string]any{"displayName": "ci", "endDateTime": end.Format(time.RFC3339)}})
	e.want(st, 200, b)
	c2 := decode[credJSON](t, b)
	if !c2.EndDateTime.Equal(end) {
		t.Errorf("endDateTime %v", c2.EndDateTime)
	}
	if got := e.s.IssuedSecrets(); !slices.Equal(got, []string{*c.SecretText, *c2.SecretText}) {
		t.Errorf("IssuedSecrets = %v", got)
	}

	l := e.listByTag(owner, "&%24select=id,appId,displayName,passwordCredentials,tags")
	if len(l.Value) != 1 || len(l.Value[0].PasswordCredentials) != 2 || l.NextLink != "" {
		t.Fatalf("list %+v", l)
	}
	for _, pc := range l.Value[0].PasswordCredentials {
		if pc.SecretText != nil || pc.Hint == "" {
			t.Errorf("listed credential %+v", pc)
		}
	}
	if l.Value[0].DisplayName != a.DisplayName {
		t.Errorf("escaping round trip: %q", l.Value[0].DisplayName)
	}
	if creds := e.s.CredentialsOf("u1"); len(creds) != 2 || creds[0].SecretText != *c.SecretText || creds[1].KeyID != c2.KeyID {
		t.Errorf("CredentialsOf = %+v", creds)
	}
	apps := e.s.Applications()
	if len(apps) != 1 || !apps[0].HasServicePrincipal || len(apps[0].Passwords) != 2 {
		t.Errorf("Applications = %+v", apps)
	}
	apps[0].Tags[0] = "mutated"
	if e.s.Applications()[0].Tags[0] != "apppass" {
		t.Error("Applications is not a deep copy")
	}

	st, _, b = e.call("POST", "/v1.0/applications/"+a.ID+"/removePassword", map[string]string{"keyId": c.KeyID}, gzipped)
	e.want(st, 204, b)
	st, _, b = e.call("POST", "/v1.0/applications/"+a.ID+"/removePassword", map[string]string{"keyId": c.KeyID})
	e.want(st, 400, b)
	if errCode(t, b) != "Request_BadRequest" {
		t.Errorf("remove twice: %s", b)
	}
	st, _, b = e.call("POST", "/v1.0/applications/00000000-0000-0000-0000-000000000000/addPassword", map[string]any{})
	e.want(st, 404, b)
	if len(e.s.CredentialsOf("u1")) != 1 {
		t.Errorf("after remove: %+v", e.s.CredentialsOf("u1"))
	}
	for op, n := range map[string]int{fakeentra.OpCreateApplication: 1, fakeentra.OpCreateServicePrincipal: 3,
		fakeentra.OpAddPassword: 3, fakeentra.OpRemovePassword: 2, fakeentra.OpListApplications: 1} {
		if e.s.Count(op) != n {
			t.Errorf("Count(%s) = %d, want %d", op, e.s.Count(op), n)
		}
	}
}

func TestIssuedSecretSignsInAndReports(t *testing.T) {
	e := newEnv(t)
	a := e.createApp("app", "apppass", fakeentra.OwnerTagPrefix+"u1")
	st, _, b := e.call("POST", "/v1.0/servicePrincipals", map[string]any{"appId": a.AppID})
	e.want(st, 201, b)
	c := e.addPassword(a.ID, "x")
	st, _, b = e.call("GET", "/beta/reports/appCredentialSignInActivities", nil)
	e.want(st, 403, b)
	if errCode(t, b) != "Authorization_RequestDenied" {
		t.Errorf("unlicensed: %s", b)
	}
	e.s.EnableSignInActivity(true)
	if _, err := getToken(credential(t, e.s, a.AppID, "wrong"), "https://graph.microsoft.com/.default"); err == nil {
		t.Error("wrong app secret accepted")
	}
	if _, err := getToken(credential(t, e.s, a.AppID, *c.SecretText), "https://graph.microsoft.com/.default"); err != nil {
		t.Fatalf("issued secret rejected: %v", err)
	}
	seen := e.s.CredentialsOf("") // no owner tag: empty
	if len(seen) != 0 {
		t.Errorf("CredentialsOf(\"\") = %v", seen)
	}
	app, _ := e.s.Application(a.ID)
	if app.Passwords[0].LastSignIn == nil {
		t.Fatal("sign-in not recorded")
	}
	c2 := e.addPassword(a.ID, "y")
	e.addPassword(a.ID, "never used")
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	e.s.SetLastSignIn(c2.KeyID, at)
	type row struct {
		KeyID, AppID, AppObjectID, CredentialOrigin, KeyType, KeyUsage string
		SignInActivity                                                 struct{ LastSignInDateTime time.Time }
	}
	st, _, b = e.call("GET", "/beta/reports/appCredentialSignInActivities?%24filter="+kiotaEscape("appId eq '"+a.AppID+"'")+"&%24top=1", nil)
	e.want(st, 200, b)
	p1 := decode[list[row]](t, b)
	if len(p1.Value) != 1 || p1.Value[0].KeyID != c.KeyID || p1.Value[0].AppObjectID != a.ID || p1.NextLink == "" ||
		p1.Value[0].KeyType != "clientSecret" || p1.Value[0].CredentialOrigin != "application" {
		t.Fatalf("page 1: %s", b)
	}
	st, _, b = e.call("GET", p1.NextLink, nil)
	e.want(st, 200, b)
	p2 := decode[list[row]](t, b)
	if len(p2.Value) != 1 || p2.Value[0].KeyID != c2.KeyID || !p2.Value[0].SignInActivity.LastSignInDateTime.Equal(at) || p2.NextLink != "" {
		t.Fatalf("page 2: %s", b)
	}
	st, _, b = e.call("POST", "/v1.0/applications/"+a.ID+"/removePassword", map[string]string{"keyId": c.KeyID})
	e.want(st, 204, b)
	if _, err := getToken(credential(t, e.s, a.AppID, *c.SecretText), "https://graph.microsoft.com/.default"); err == nil {
		t.Error("removed secret still signs in")
	}
	st, _, b = e.call("GET", "/beta/reports/appCredentialSignInActivities", nil)
	e.want(st, 200, b)
	if l := decode[list[row]](t, b); len(l.Value) != 1 || l.Value[0].KeyID != c2.KeyID {
		t.Errorf("after removal: %s", b)
	}
}
