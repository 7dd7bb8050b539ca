package fakeentra

import (
	"time"

	"github.com/google/uuid"
)

// SeedPassword is one password credential for [Server.SeedApplication].
type SeedPassword struct {
	Name  string    // displayName
	Start time.Time // startDateTime; zero means now
	End   time.Time // endDateTime; zero means two years after Start
	// LastSignIn, when set, is recorded as the credential's last use (see
	// [Server.SetLastSignIn]).
	LastSignIn time.Time
}

// SeedApplication gives the user ownerID an application as apppass would
// have made it (displayName, tags "apppass" and "apppass:owner:{ownerID}",
// a service principal) holding passwords, with no HTTP and no secret text,
// like [Server.Seed] but with chosen names and dates. Seeded objects are
// never hidden by the replication or new-app lags. It returns a snapshot of
// the application.
func (s *Server) SeedApplication(ownerID, displayName string, passwords []SeedPassword) Application {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC()
	a := &app{
		id: uuid.NewString(), appID: uuid.NewString(), displayName: displayName,
		signInAudience: "AzureADMyOrg", tags: []string{"apppass", OwnerTagPrefix + ownerID},
		seeded: true, hasSP: true, created: now,
	}
	for _, p := range passwords {
		c := cred{}
		c.KeyID = uuid.NewString()
		c.DisplayName = p.Name
		c.Hint = c.KeyID[:3]
		c.Start = now
		if !p.Start.IsZero() {
			c.Start = p.Start.UTC()
		}
		c.End = c.Start.AddDate(2, 0, 0)
		if !p.End.IsZero() {
			c.End = p.End.UTC()
		}
		if c.Start.Before(a.created) {
			a.created = c.Start
		}
		a.creds = append(a.creds, c)
	}
	s.insertApp(a)
	s.spCount++
	for i, p := range passwords {
		if !p.LastSignIn.IsZero() {
			s.recordSignIn(a, &a.creds[i], p.LastSignIn)
		}
	}
	return a.snapshot()
}
