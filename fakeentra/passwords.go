package fakeentra

import (
	"crypto/rand"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// secretAlphabet is the character set of Entra client secrets.
const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-"

// newSecret returns a random 40-character secret shaped like Entra's: three
// hint characters, a digit, "Q~", then 34 characters of secretAlphabet.
func newSecret() string {
	var rnd [40]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails
	b := make([]byte, 40)
	for i := range b {
		switch {
		case i < 3:
			b[i] = secretAlphabet[int(rnd[i])%62]
		case i == 3:
			b[i] = '0' + rnd[i]%10
		case i == 4:
			b[i] = 'Q'
		case i == 5:
			b[i] = '~'
		default:
			b[i] = secretAlphabet[int(rnd[i])%len(secretAlphabet)]
		}
	}
	return string(b)
}

// findApp resolves the application named by the route arguments
// ("id", x) or ("appId", x); s.mu must be held.
func (s *Server) findApp(args []string) *app {
	k := strings.ToLower(args[1])
	if args[0] == "appId" {
		return s.appByAppID[k]
	}
	return s.appByID[k]
}

// addPassword serves POST /v1.0/applications/{id}/addPassword: a new secret
// with keyId, hint and secretText, starting now (or at the given
// startDateTime) and ending at endDateTime or two years after the start. An
// application younger than the new-app lag answers 404, as a replica that has
// not seen it yet would.
func (s *Server) addPassword(x *exchange) {
	var body struct {
		PasswordCredential *struct {
			DisplayName   string     `json:"displayName"`
			StartDateTime *time.Time `json:"startDateTime"`
			EndDateTime   *time.Time `json:"endDateTime"`
		} `json:"passwordCredential"`
	}
	if !x.decodeJSON(&body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(x.args)
	now := s.now().UTC()
	if a == nil || (!a.seeded && s.newAppLag > 0 && now.Sub(a.created) < s.newAppLag) {
		x.notFound(x.args[1])
		return
	}
	c := cred{added: now.UnixNano()}
	c.Start = now
	endGiven := false
	if pc := body.PasswordCredential; pc != nil {
		c.DisplayName = pc.DisplayName
		if pc.StartDateTime != nil {
			c.Start = pc.StartDateTime.UTC()
		}
		if pc.EndDateTime != nil {
			c.End = pc.EndDateTime.UTC()
			endGiven = true
		}
	}
	if s.lifetimeRefused(c.Start, c.End, endGiven) {
		x.graphError(http.StatusBadRequest, "CredentialInvalidLifetimeAsPerAppPolicy",
			"Credential lifetime exceeds the max value allowed as per assigned policy '"+policyID+"'.")
		return
	}
	if c.End.IsZero() {
		c.End = c.Start.AddDate(2, 0, 0)
	}
	if !c.End.After(c.Start) {
		x.badRequest("Invalid value specified for property 'endDateTime' of resource 'PasswordCredential': it must be later than startDateTime.")
		return
	}
	c.KeyID = uuid.NewString()
	c.SecretText = newSecret()
	c.Hint = c.SecretText[:3]
	a.creds = append(a.creds, c)
	s.secrets[c.SecretText] = secretRef{app: a, keyID: c.KeyID}
	s.issued = append(s.issued, c.SecretText)
	if s.keyIndex != nil {
		s.keyIndex[c.KeyID] = a
	}
	x.object(http.StatusOK, func(o *objWriter) {
		o.str("@odata.context", x.context("microsoft.graph.passwordCredential", nil, false))
		writeCred(o, &c.Credential, true)
	})
}

// removePassword serves POST /v1.0/applications/{id}/removePassword. It
// finds credentials still hidden by the replication lag too, and answers 400
// Request_BadRequest, about the keyId property, when the application has no
// credential with that keyId.
func (s *Server) removePassword(x *exchange) {
	var body struct {
		KeyID string `json:"keyId"`
	}
	if !x.decodeJSON(&body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(x.args)
	if a == nil {
		x.notFound(x.args[1])
		return
	}
	for i := range a.creds {
		if !eq(a.creds[i].KeyID, body.KeyID) {
			continue
		}
		if sec := a.creds[i].SecretText; sec != "" {
			if s.honourRemoved {
				s.ghosts[sec] = ghost{app: a, cred: a.creds[i]}
			}
			delete(s.secrets, sec)
		}
		if s.keyIndex != nil {
			delete(s.keyIndex, strings.ToLower(body.KeyID))
		}
		a.creds = append(a.creds[:i], a.creds[i+1:]...)
		x.noContent()
		return
	}
	// Graph's answer for a key the application does not hold names the
	// property, not the key; apppass must decide "already gone" by
	// listing, not by reading this.
	x.badRequest("Invalid value specified for property 'keyId' of resource 'PasswordCredential'.")
}

// IssuedSecrets returns every secretText ever returned by addPassword, in
// order, including those of credentials removed since.
func (s *Server) IssuedSecrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// appOfKey finds the application holding credential keyID, building the
// keyId index on first use so that seeding stays cheap; s.mu must be held.
func (s *Server) appOfKey(keyID string) *app {
	if s.keyIndex == nil {
		n := 0
		for _, a := range s.apps {
			n += len(a.creds)
		}
		s.keyIndex = make(map[string]*app, n)
		for _, a := range s.apps {
			for i := range a.creds {
				s.keyIndex[strings.ToLower(a.creds[i].KeyID)] = a
			}
		}
	}
	return s.keyIndex[strings.ToLower(keyID)]
}

// DeleteCredential removes credential keyID from the application with
// object ID appID behind apppass's back, as an administrator in the Entra
// admin center would, and reports whether it was there.
func (s *Server) DeleteCredential(appID, keyID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.appByID[strings.ToLower(appID)]
	if a == nil {
		return false
	}
	for i := range a.creds {
		if !eq(a.creds[i].KeyID, keyID) {
			continue
		}
		if sec := a.creds[i].SecretText; sec != "" {
			delete(s.secrets, sec)
		}
		if s.keyIndex != nil {
			delete(s.keyIndex, strings.ToLower(keyID))
		}
		a.creds = append(a.creds[:i], a.creds[i+1:]...)
		return true
	}
	return false
}
