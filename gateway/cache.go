package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"sync"
	"time"

	"github.com/apppass/apppass/domain"
)

// login is a verified sign-in: who, with which application and, when the
// hint identifies it, which password.
type login struct {
	mailbox     domain.Mailbox
	appID       string
	appObjectID string
	keyID       string // "" when the hint does not identify one password
	scope       domain.Scope
}

// cacheEntry is a remembered success.
type cacheEntry struct {
	login   login
	expires time.Time
}

// successCache remembers verified logins in memory only, keyed by an HMAC
// of user name and password under a key drawn at start-up, for at most
// ttl, and forgets those of an owner as soon as the store records a
// removal for them (polled every poll). It also remembers, for
// recentWindow, which passwords and owners were removed, so that a
// password Entra still accepts while the removal replicates is refused.
type successCache struct {
	key    [32]byte
	ttl    time.Duration
	poll   time.Duration
	recent time.Duration

	mu       sync.Mutex
	entries  map[[32]byte]cacheEntry
	lastPoll time.Time
	seen     map[domain.Removal]time.Time // removals applied, until recent passes
	removed  map[string]time.Time         // "owner/key" or "owner/" → when
}

func newSuccessCache(ttl, poll, recent time.Duration) *successCache {
	c := &successCache{ttl: ttl, poll: poll, recent: recent,
		entries: map[[32]byte]cacheEntry{}, seen: map[domain.Removal]time.Time{}, removed: map[string]time.Time{}}
	_, _ = rand.Read(c.key[:]) // crypto/rand.Read never fails
	return c
}

// id is the cache key of a user name and password.
func (c *successCache) id(user string, password domain.Secret) [32]byte {
	m := hmac.New(sha256.New, c.key[:])
	m.Write([]byte(strings.ToLower(user)))
	m.Write([]byte{0})
	m.Write([]byte(password.Reveal()))
	var out [32]byte
	copy(out[:], m.Sum(nil))
	return out
}

// get returns the cached login for id, if any and not expired.
func (c *successCache) get(id [32]byte, now time.Time) (login, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || !now.Before(e.expires) {
		delete(c.entries, id)
		return login{}, false
	}
	return e.login, true
}

// put remembers l until ttl from now, or until notAfter when earlier (the
// password's expiry).
func (c *successCache) put(id [32]byte, l login, now, notAfter time.Time) {
	exp := now.Add(c.ttl)
	if !notAfter.IsZero() && notAfter.Before(exp) {
		exp = notAfter
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) > 100000 {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
	}
	c.entries[id] = cacheEntry{login: l, expires: exp}
}

// wasRemoved reports whether the store recorded, within the recent window,
// the removal of ownerID's password keyID or of all of ownerID's.
func (c *successCache) wasRemoved(ownerID, keyID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.removed[strings.ToLower(ownerID)+"/"]; ok {
		return true
	}
	if keyID == "" {
		return false
	}
	_, ok := c.removed[strings.ToLower(ownerID)+"/"+strings.ToLower(keyID)]
	return ok
}

// sync applies the removals recorded since the last poll, when a poll is
// due. When the store cannot be read it forgets every cached login, so
// that a removal is never missed; Entra then decides again.
func (c *successCache) sync(ctx context.Context, rec Records, now time.Time) error {
	c.mu.Lock()
	due := c.lastPoll.IsZero() || now.Sub(c.lastPoll) >= c.poll
	since := c.lastPoll.Add(-c.recent)
	if c.lastPoll.IsZero() {
		since = now.Add(-c.recent)
	}
	c.mu.Unlock()
	if !due {
		return nil
	}
	rs, err := rec.RemovalsSince(ctx, since)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		clear(c.entries)
		return err
	}
	c.lastPoll = now
	for r, at := range c.seen {
		if now.Sub(at) > c.recent {
			delete(c.seen, r)
		}
	}
	for k, at := range c.removed {
		if now.Sub(at) > c.recent {
			delete(c.removed, k)
		}
	}
	for _, r := range rs {
		if _, done := c.seen[r]; done {
			continue
		}
		c.seen[r] = now
		c.removed[strings.ToLower(r.OwnerID)+"/"+strings.ToLower(r.KeyID)] = now
		for k, e := range c.entries {
			if strings.EqualFold(e.login.mailbox.ID, r.OwnerID) {
				delete(c.entries, k)
			}
		}
	}
	return nil
}
