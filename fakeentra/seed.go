package fakeentra

import (
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"time"
)

// Seed fills the directory without HTTP, fast enough for a tenant of
// 100,000 holders. For each holder h (0 ≤ h < holders) it creates, with n
// counting holders across Seed calls from 0:
//
//   - the user "user{n}@example.test" (also its mail; display name
//     "User {n}"; enabled), retrievable with [Server.LookupUser];
//   - the application "apppass-user{n}" tagged "apppass" and
//     "apppass:owner:{userID}", with a service principal (counted toward the
//     quota, flagged only);
//   - perHolder password credentials i = 0…perHolder-1, display name
//     "seed-{i}", starting at start(h, i) (now when start is nil) and ending
//     two years later, with a hint but no SecretText.
//
// The application's createdDateTime is its earliest credential start. Seeded
// objects are never hidden by the replication or new-app lags. start runs
// with the server's lock held and must not call the Server.
func (s *Server) Seed(holders, perHolder int, start func(holder, i int) time.Time) {
	if holders <= 0 {
		return
	}
	perHolder = max(perHolder, 0)
	names := make([]string, perHolder)
	for i := range names {
		names[i] = "seed-" + strconv.Itoa(i)
	}
	ids := newIDBlock(holders * (3 + perHolder))
	apps := make([]app, holders)
	creds := make([]cred, holders*perHolder)
	tags := make([]string, 2*holders)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.reserve(holders)
	now := s.now().UTC()
	for h := range holders {
		n := strconv.Itoa(s.seedUsers + h)
		upn := "user" + n + "@example.test"
		uid := ids.take()
		s.putUser(User{ID: uid, DisplayName: "User " + n, UserPrincipalName: upn, Mail: upn, AccountEnabled: true})

		a := &apps[h]
		a.id, a.appID = ids.take(), ids.take()
		a.displayName = "apppass-user" + n
		a.signInAudience = "AzureADMyOrg"
		a.tags = tags[2*h : 2*h+2 : 2*h+2]
		a.tags[0], a.tags[1] = "apppass", OwnerTagPrefix+uid
		a.seeded, a.hasSP = true, true
		a.creds = creds[h*perHolder : (h+1)*perHolder : (h+1)*perHolder]
		a.created = now
		for i := range a.creds {
			c := &a.creds[i]
			c.KeyID = ids.take()
			c.DisplayName = names[i]
			c.Hint = c.KeyID[:3]
			c.Start = now
			if start != nil {
				c.Start = start(h, i).UTC()
			}
			c.End = c.Start.AddDate(2, 0, 0)
			if i == 0 || c.Start.Before(a.created) {
				a.created = c.Start
			}
		}
		s.insertApp(a)
	}
	s.spCount += holders
	s.seedUsers += holders
}

// reserve regrows the user and application indexes to take n more holders
// without rehashing along the way; s.mu must be held.
func (s *Server) reserve(n int) {
	s.userByID = regrow(s.userByID, n)
	s.userByUPN = regrow(s.userByUPN, n)
	s.userByMail = regrow(s.userByMail, n)
	s.appByID = regrow(s.appByID, n)
	s.appByAppID = regrow(s.appByAppID, n)
	s.appsByTag = regrow(s.appsByTag, n)
	if s.keyIndex != nil {
		s.keyIndex = nil // rebuilt on demand, at its new size
	}
}

// regrow copies m into a map with room for n more entries.
func regrow[K comparable, V any](m map[K]V, n int) map[K]V {
	out := make(map[K]V, len(m)+n)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// idBlock hands out random (version 4) GUID strings carved from one shared
// string, so that seeding allocates nothing per ID.
type idBlock struct {
	s    string
	next int
}

// newIDBlock generates n GUIDs.
func newIDBlock(n int) *idBlock {
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // crypto/rand.Read never fails
	rng := rand.NewChaCha8(seed)
	buf := make([]byte, 36*n)
	var u [16]byte
	for i := range n {
		binary.LittleEndian.PutUint64(u[:8], rng.Uint64())
		binary.LittleEndian.PutUint64(u[8:], rng.Uint64())
		u[6] = u[6]&0x0f | 0x40 // version 4
		u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
		encodeGUID(buf[36*i:36*i+36], &u)
	}
	return &idBlock{s: string(buf)}
}

// take returns the next GUID.
func (b *idBlock) take() string {
	v := b.s[36*b.next : 36*b.next+36]
	b.next++
	return v
}

// encodeGUID writes u in the canonical 8-4-4-4-12 lowercase form.
func encodeGUID(dst []byte, u *[16]byte) {
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst[j] = '-'
			j++
		}
		dst[j] = hexDigits[c>>4]
		dst[j+1] = hexDigits[c&0xf]
		j += 2
	}
}
