package gateway

import (
	"strings"
	"sync"
	"time"
)

// guessLimiter counts failed logins per user name and client address.
// Past max failures within window, the pair is refused without asking
// Entra until its failures age out.
type guessLimiter struct {
	max    int
	window time.Duration

	mu    sync.Mutex
	fails map[string]*failures
}

type failures struct {
	at      []time.Time
	alerted bool
}

func newGuessLimiter(max int, window time.Duration) *guessLimiter {
	return &guessLimiter{max: max, window: window, fails: map[string]*failures{}}
}

func pairKey(user, addr string) string { return strings.ToLower(user) + "\x00" + addr }

// prune drops failures older than the window; l.mu must be held.
func (l *guessLimiter) prune(k string, now time.Time) *failures {
	f := l.fails[k]
	if f == nil {
		return nil
	}
	i := 0
	for i < len(f.at) && now.Sub(f.at[i]) >= l.window {
		i++
	}
	f.at = f.at[i:]
	if len(f.at) == 0 {
		delete(l.fails, k)
		return nil
	}
	return f
}

// blocked reports whether the pair has used up its attempts.
func (l *guessLimiter) blocked(user, addr string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.prune(pairKey(user, addr), now)
	return f != nil && len(f.at) >= l.max
}

// fail counts a failure; it returns true once per lockout, when the pair
// reaches the limit and the helpdesk should be told.
func (l *guessLimiter) fail(user, addr string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) > 100000 {
		for k := range l.fails {
			l.prune(k, now)
		}
	}
	k := pairKey(user, addr)
	f := l.prune(k, now)
	if f == nil {
		f = &failures{}
		l.fails[k] = f
	}
	f.at = append(f.at, now)
	if len(f.at) >= l.max && !f.alerted {
		f.alerted = true
		return true
	}
	return false
}

// succeed forgets the pair's failures.
func (l *guessLimiter) succeed(user, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, pairKey(user, addr))
}
