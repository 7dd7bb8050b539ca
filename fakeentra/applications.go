package fakeentra

import (
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// OwnerTagPrefix starts the tag that marks an application as held by a user:
// "apppass:owner:{userID}". [Server.CredentialsOf] and [Server.Seed] use it.
const OwnerTagPrefix = "apppass:owner:"

// Application is a snapshot of an app registration.
type Application struct {
	ID                  string       // object ID
	AppID               string       // application (client) ID
	DisplayName         string       // displayName
	SignInAudience      string       // signInAudience, "AzureADMyOrg" unless given
	Tags                []string     // tags, in creation order
	Passwords           []Credential // passwordCredentials, replication lag ignored
	HasServicePrincipal bool         // a service principal exists for AppID
	Created             time.Time    // createdDateTime
}

// Credential is a snapshot of a password credential (client secret).
// SecretText is set only for secrets issued by addPassword; seeded ones have
// none. LastSignIn is nil until a use is recorded.
type Credential struct {
	KeyID       string     // keyId (a GUID)
	DisplayName string     // displayName
	Hint        string     // hint: the secret's first three characters
	SecretText  string     // the secret, "" for seeded credentials
	Start       time.Time  // startDateTime (UTC)
	End         time.Time  // endDateTime (UTC)
	LastSignIn  *time.Time // last recorded use, nil if none
}

// app is a stored application; creds holds its password credentials.
type app struct {
	seq            int
	id, appID      string
	displayName    string
	signInAudience string
	tags           []string // never mutated after creation
	creds          []cred
	created        time.Time
	seeded         bool // exempt from the new-app lag
	hasSP          bool
	owners         []ownerRef // nil for seeded applications means apppass's
}

// cred is a stored credential; added is when addPassword stored it
// (unix nanoseconds, 0 for seeded credentials), for the replication lag.
type cred struct {
	Credential
	added int64
}

func (a *app) str(prop string) string {
	switch prop {
	case "id":
		return a.id
	case "appId":
		return a.appID
	case "displayName":
		return a.displayName
	case "signInAudience":
		return a.signInAudience
	}
	return ""
}

func (a *app) coll(prop string) []string {
	if prop == "tags" {
		return a.tags
	}
	return nil
}

// cred returns a's credential with keyID, or nil.
func (a *app) cred(keyID string) *cred {
	for i := range a.creds {
		if eq(a.creds[i].KeyID, keyID) {
			return &a.creds[i]
		}
	}
	return nil
}

// snapshot deep-copies a into an Application.
func (a *app) snapshot() Application {
	out := Application{
		ID: a.id, AppID: a.appID, DisplayName: a.displayName, SignInAudience: a.signInAudience,
		Tags: append([]string(nil), a.tags...), HasServicePrincipal: a.hasSP, Created: a.created,
		Passwords: make([]Credential, len(a.creds)),
	}
	for i := range a.creds {
		out.Passwords[i] = a.creds[i].snapshot()
	}
	return out
}

// snapshot copies a credential, including its LastSignIn.
func (c *cred) snapshot() Credential {
	out := c.Credential
	if c.LastSignIn != nil {
		t := *c.LastSignIn
		out.LastSignIn = &t
	}
	return out
}

// appType lists the application properties the fake models.
var appType = entityType{
	name:     "microsoft.graph.application",
	props:    []string{"id", "appId", "createdDateTime", "displayName", "signInAudience", "tags", "passwordCredentials"},
	defaults: 0b1111111,
	colls:    1 << 5,
}

// Applications returns a deep copy of every application, in creation order.
func (s *Server) Applications() []Application {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Application, len(s.apps))
	for i, a := range s.apps {
		out[i] = a.snapshot()
	}
	return out
}

// Application returns a deep copy of the application with the given object
// ID or appId.
func (s *Server) Application(id string) (Application, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.appByID[strings.ToLower(id)]
	if a == nil {
		a = s.appByAppID[strings.ToLower(id)]
	}
	if a == nil {
		return Application{}, false
	}
	return a.snapshot(), true
}

// CredentialsOf returns copies of the credentials of every application tagged
// "apppass:owner:{ownerUserID}", ignoring replication lag.
func (s *Server) CredentialsOf(ownerUserID string) []Credential {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Credential
	for _, a := range s.appsByTag[strings.ToLower(OwnerTagPrefix+ownerUserID)] {
		for i := range a.creds {
			out = append(out, a.creds[i].snapshot())
		}
	}
	return out
}

// ObjectCount returns the number of directory objects that count toward the
// quota: applications plus service principals (seeded ones included).
func (s *Server) ObjectCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.apps) + s.spCount
}

// insertApp stores a new application and indexes it; s.mu must be held.
func (s *Server) insertApp(a *app) {
	a.seq = len(s.apps)
	s.apps = append(s.apps, a)
	s.appByID[strings.ToLower(a.id)] = a
	s.appByAppID[strings.ToLower(a.appID)] = a
	for _, t := range a.tags {
		k := strings.ToLower(t)
		if l := s.appsByTag[k]; len(l) == 0 || l[len(l)-1] != a {
			s.appsByTag[k] = append(l, a)
		}
	}
	if s.keyIndex != nil {
		for i := range a.creds {
			s.keyIndex[strings.ToLower(a.creds[i].KeyID)] = a
		}
	}
}

// quotaExceeded answers Directory_QuotaExceeded when one more object would
// pass the quota; s.mu must be held.
func (s *Server) quotaExceeded(x *exchange) bool {
	if s.objectQuota < 0 || len(s.apps)+s.spCount < s.objectQuota {
		return false
	}
	x.graphError(http.StatusBadRequest, "Directory_QuotaExceeded",
		"The directory object quota limit for the Principal has been exceeded. Please ask your administrator to increase the quota limit or delete objects to reduce the used quota.")
	return true
}

// createApplication serves POST /v1.0/applications. The caller's service
// principal becomes the application's owner (see [ServicePrincipalID]). A
// Fault with AfterEffect injected for [OpCreateApplication] creates the
// application and then answers the fault (e.g. 503), which the SDK's retry
// handler retries: a second application, as on real Graph.
func (s *Server) createApplication(x *exchange) {
	var body struct {
		DisplayName    string   `json:"displayName"`
		SignInAudience string   `json:"signInAudience"`
		Tags           []string `json:"tags"`
	}
	if !x.decodeJSON(&body) {
		return
	}
	if strings.TrimSpace(body.DisplayName) == "" {
		x.badRequest("Invalid value specified for property 'displayName' of resource 'Application'.")
		return
	}
	if body.SignInAudience == "" {
		body.SignInAudience = "AzureADMyOrg"
	}
	owners := ownersFor(s.callerClientID(x))
	s.mu.Lock()
	if s.quotaExceeded(x) {
		s.mu.Unlock()
		return
	}
	a := &app{
		id: uuid.NewString(), appID: uuid.NewString(), displayName: body.DisplayName,
		signInAudience: body.SignInAudience, tags: append([]string{}, body.Tags...), created: s.now().UTC(),
		owners: owners,
	}
	s.insertApp(a)
	v := appView{app: *a}
	s.mu.Unlock()
	x.object(http.StatusCreated, func(o *objWriter) {
		o.str("@odata.context", x.context("applications", nil, true))
		writeApp(o, &v, appType.defaults)
	})
}
