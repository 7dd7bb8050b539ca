package fakeentra

import (
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// employeeSignIn decides a client-credentials request for an application
// other than apppass's own, as Entra would: the application must exist and
// be an employee's (tagged "apppass:owner:…"), have a service principal,
// and the secret must be one of its current credentials (not removed, not
// expired, started, and older than the secret lag). On success the use is
// recorded as a sign-in and it returns true; otherwise it answers Entra's
// AADSTS error and returns false. s.mu must be held.
func (s *Server) employeeSignIn(x *exchange, clientID, secret string, now time.Time) bool {
	a := s.appByAppID[strings.ToLower(clientID)]
	if a == nil || !a.employee() {
		s.aadError(x, http.StatusBadRequest, "unauthorized_client", 700016,
			"Application with identifier '"+clientID+"' was not found in the directory '"+TenantID+"'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.")
		return false
	}
	if !a.hasSP {
		s.aadError(x, http.StatusBadRequest, "unauthorized_client", 7000229,
			"The client application "+clientID+" is missing service principal in the tenant "+TenantID+".")
		return false
	}
	ref, ok := s.secrets[secret]
	c := a.cred(ref.keyID)
	if g, seen := s.ghosts[secret]; !ok && seen && g.app == a {
		c, ok, ref.app = &g.cred, true, a // a removed secret the token service still honours
	}
	if !ok || ref.app != a || c == nil {
		s.badSecret(x, clientID)
		return false
	}
	if s.secretLag > 0 && c.added != 0 && now.UnixNano()-c.added < int64(s.secretLag) {
		// Entra's token service has not seen the new credential yet.
		s.badSecret(x, clientID)
		return false
	}
	if !c.End.After(now) {
		s.aadError(x, http.StatusUnauthorized, "invalid_client", 7000222,
			"The provided client secret keys for app '"+clientID+"' are expired. Visit the Azure portal to create new keys for your app.")
		return false
	}
	if c.Start.After(now) {
		s.badSecret(x, clientID)
		return false
	}
	s.recordSignIn(a, c, now)
	return true
}

// employee reports whether a is an employee's application: tagged
// "apppass:owner:{id}".
func (a *app) employee() bool {
	for _, t := range a.tags {
		if len(t) > len(OwnerTagPrefix) && eq(t[:len(OwnerTagPrefix)], OwnerTagPrefix) {
			return true
		}
	}
	return false
}

// SetSecretLag makes the token endpoint refuse a secret added by addPassword
// (or [Server.AddSecret]) less than d ago, by the fake's clock, with
// AADSTS7000215 "Invalid client secret provided", as Entra does while a new
// credential replicates. d <= 0 removes the lag (the default).
func (s *Server) SetSecretLag(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secretLag = d
}

// ghost is a removed credential the token service still honours.
type ghost struct {
	app  *app
	cred cred
}

// SetHonourRemovedSecrets makes the token endpoint keep accepting secrets
// removed (removePassword) from now on, as Entra's token service does for
// minutes or longer after a removal: what apppass must not rely on.
func (s *Server) SetHonourRemovedSecrets(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.honourRemoved = on
	if s.ghosts == nil {
		s.ghosts = map[string]ghost{}
	}
}

// AddSecret adds a password credential named name to the application with
// object ID or appId id, as addPassword does, and returns it with its
// SecretText; end zero means two years from now. It fails the test
// (tb.Fatalf) when there is no such application.
func (s *Server) AddSecret(id, name string, end time.Time) Credential {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.appByID[strings.ToLower(id)]
	if a == nil {
		a = s.appByAppID[strings.ToLower(id)]
	}
	if a == nil {
		s.tb.Fatalf("fakeentra: AddSecret: no application %s", id)
		return Credential{}
	}
	now := s.now().UTC()
	c := cred{added: now.UnixNano()}
	c.Start, c.End, c.DisplayName = now, end.UTC(), name
	if end.IsZero() {
		c.End = now.AddDate(2, 0, 0)
	}
	c.KeyID = uuid.NewString()
	c.SecretText = newSecret()
	c.Hint = c.SecretText[:3]
	a.creds = append(a.creds, c)
	s.secrets[c.SecretText] = secretRef{app: a, keyID: c.KeyID}
	s.issued = append(s.issued, c.SecretText)
	if s.keyIndex != nil {
		s.keyIndex[strings.ToLower(c.KeyID)] = a
	}
	return c.snapshot()
}

// AddEmployeeApp creates, without HTTP, an application for the user
// ownerID tagged "apppass" and "apppass:owner:{ownerID}", with a service
// principal when withSP, and returns it. Tests of the mail gateway use it
// to set up an owner in one line.
func (s *Server) AddEmployeeApp(ownerID string, withSP bool) Application {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &app{
		id: uuid.NewString(), appID: uuid.NewString(), displayName: "App passwords – " + ownerID,
		signInAudience: "AzureADMyOrg", tags: []string{"apppass", OwnerTagPrefix + ownerID},
		created: s.now().UTC(), seeded: true, hasSP: withSP,
	}
	s.insertApp(a)
	if withSP {
		s.spCount++
	}
	return a.snapshot()
}
