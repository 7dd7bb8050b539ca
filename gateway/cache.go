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

// cacheEntry is a remembered success.
type cacheEntry struct {
	login   Login
	expires time.Time
}

// successCache remembers verified logins in memory only, keyed by an HMAC
// of user name and password under a key drawn at start-up, for at most
// ttl, and forgets those of an owner as soon as the store records a
// removal for them (polled every poll). It also remembers, for
// recentWindow, which passwords and owners were removed, so that a
// password Entra still accepts while the removal replicates is refused,
// and for hintWindow the hints of removed passwords: Entra's token
// service can honour a removed secret for a long while, so a typed
// password starting with one of them is refused whatever Entra says.
type successCache struct {
	key        [32]byte
	ttl        time.Duration
	poll       time.Duration
	recent     time.Duration
	hintWindow time.Duration

	mu       sync.Mutex
	entries  map[[32]byte]cacheEntry
	lastPoll time.Time
	seen     map[domain.Removal]time.Time // removals applied, until recent passes
	removed  map[string]time.Time         // "owner/key" or "owner/" → when
	hints    map[string][]removedHint     // lower-case owner → hints of removed passwords
}

// removedHint is the hint of a password removed at at.
type removedHint struct {
	hint string
	at   time.Time
}

func newSuccessCache(ttl, poll, recent, hintWindow time.Duration) *successCache {
	c := &successCache{ttl: ttl, poll: poll, recent: recent, hintWindow: hintWindow,
		entries: map[[32]byte]cacheEntry{}, seen: map[domain.Removal]time.Time{}, removed: map[string]time.Time{},
		hints: map[string][]removedHint{}}
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
func (c *successCache) get(id [32]byte, now time.Time) (Login, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || !now.Before(e.expires) {
		delete(c.entries, id)
		return Login{}, false
	}
	return e.login, true
}

// put remembers l until ttl from now, or until notAfter when earlier (the
// password's expiry).
func (c *successCache) put(id [32]byte, l Login, now, notAfter time.Time) {
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

// drop forgets the cached login id.
func (c *successCache) drop(id [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, id)
}

// refused reports whether a typed password of ownerID must be refused
// as removed: ownerID's password keyID (when known) or all of theirs
// were removed recently, or password starts with the hint of one of
// their passwords removed within the hint window. A password matching
// both a removed and a live hint is refused too: a removal wins.
func (c *successCache) refused(ownerID, keyID string, password domain.Secret) bool {
	if c.wasRemoved(ownerID, keyID) {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	pw := password.Reveal()
	for _, h := range c.hints[strings.ToLower(ownerID)] {
		if h.hint != "" && strings.HasPrefix(pw, h.hint) {
			return true
		}
	}
	return false
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
	// Overlap the last poll by a minute: a removal committed late, or by
	// a replica whose clock is behind, is still seen.
	since := c.lastPoll.Add(-time.Minute)
	if c.lastPoll.IsZero() {
		since = now.Add(-c.hintWindow)
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
	for r := range c.seen {
		if now.Sub(r.At) > c.hintWindow {
			delete(c.seen, r)
		}
	}
	for o, hs := range c.hints {
		kept := hs[:0]
		for _, h := range hs {
			if now.Sub(h.at) <= c.hintWindow {
				kept = append(kept, h)
			}
		}
		if len(kept) == 0 {
			delete(c.hints, o)
		} else {
			c.hints[o] = kept
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
		if r.Hint != "" && now.Sub(r.At) <= c.hintWindow {
			o := strings.ToLower(r.OwnerID)
			c.hints[o] = append(c.hints[o], removedHint{hint: r.Hint, at: r.At})
		}
		if now.Sub(r.At) > c.recent {
			continue // old: only its hint still counts
		}
		c.removed[strings.ToLower(r.OwnerID)+"/"+strings.ToLower(r.KeyID)] = now
		for k, e := range c.entries {
			if strings.EqualFold(e.login.Mailbox.ID, r.OwnerID) {
				delete(c.entries, k)
			}
		}
	}
	return nil
}
