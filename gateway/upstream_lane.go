package gateway

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// mailboxLane keeps one mailbox within Exchange's limits: at most
// maxConns connections open (in use or idle), at most maxMsgs messages
// begun per window. Deliveries beyond wait their turn, within their
// context's deadline, rather than be refused by Exchange.
type mailboxLane struct {
	u *SMTPUpstream

	mu    sync.Mutex
	open  int           // connections open, idle ones included
	idle  []*upConn     // authenticated, ready for the next message
	wake  chan struct{} // closed when a connection is freed
	sends []*time.Time  // times reserved for messages, then when Exchange took them
}

// Refusals when a mailbox's turn does not come within the device's time.
var (
	errLaneBusy = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 2},
		Message: "This mailbox already has as many messages in flight as Exchange Online allows; try again shortly"}
	errLaneRate = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 66},
		Message: "This mailbox has sent as many messages this minute as Exchange Online allows; try again shortly"}
)

func (u *SMTPUpstream) lane(user string) *mailboxLane {
	key := strings.ToLower(user)
	u.mu.Lock()
	defer u.mu.Unlock()
	l := u.box[key]
	if l == nil {
		l = &mailboxLane{u: u, wake: make(chan struct{})}
		u.box[key] = l
	}
	return l
}

// reserve waits until a message may begin under the rate limit and books
// its place; errLaneRate when that would pass ctx's deadline. The booking
// is moved to when Exchange took the message (settle), which is when
// Exchange counts it.
func (l *mailboxLane) reserve(ctx context.Context, now func() time.Time) (*time.Time, error) {
	win, maxMsgs := l.u.opts.Window, l.u.opts.MaxMessages
	margin := win / 30 // clocks differ, and Exchange stamps before it answers
	l.mu.Lock()
	t := now()
	kept := l.sends[:0]
	for _, s := range l.sends {
		if s.After(t.Add(-win - margin)) {
			kept = append(kept, s)
		}
	}
	l.sends = kept
	at := t
	if len(l.sends) >= maxMsgs {
		times := make([]time.Time, len(l.sends))
		for i, s := range l.sends {
			times[i] = *s
		}
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		// The booking that frees a place for this one.
		at = times[len(times)-maxMsgs].Add(win + margin)
	}
	wait := at.Sub(t)
	if dl, ok := ctx.Deadline(); ok && wait > 0 && time.Until(dl) < wait+time.Second {
		l.mu.Unlock()
		return nil, errLaneRate
	}
	booking := &at
	l.sends = append(l.sends, booking)
	l.mu.Unlock()
	if wait > 0 {
		if err := sleepCtx(ctx, wait); err != nil {
			return nil, errLaneRate
		}
	}
	return booking, nil
}

// settle moves a booking to at, when Exchange took (or refused) the
// message.
func (l *mailboxLane) settle(booking *time.Time, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*booking = at
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// take returns an idle connection, or nil with a place booked for a new
// one, waiting for a place while the mailbox has maxConns open.
func (l *mailboxLane) take(ctx context.Context) (*upConn, error) {
	for {
		l.mu.Lock()
		for len(l.idle) > 0 {
			c := l.idle[len(l.idle)-1]
			l.idle = l.idle[:len(l.idle)-1]
			if c.expires != nil && !c.expires.Stop() {
				continue // expiring right now: its timer frees its place
			}
			l.mu.Unlock()
			if l.u.opts.Now().Sub(c.opened) < l.u.opts.MaxAge && c.c.Reset() == nil {
				return c, nil
			}
			c.close()
			l.mu.Lock()
			l.open--
		}
		if l.open < l.u.opts.MaxConnections {
			l.open++
			l.mu.Unlock()
			return nil, nil
		}
		wake := l.wake
		l.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, errLaneBusy
		}
	}
}

// release gives back a place: c kept idle for the next message, or, when
// c is nil, the place of a connection that is gone.
func (l *mailboxLane) release(c *upConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c != nil && l.u.opts.IdleTimeout > 0 {
		c.expires = time.AfterFunc(l.u.opts.IdleTimeout, func() { l.expire(c) })
		l.idle = append(l.idle, c)
	} else {
		if c != nil {
			go c.close()
		}
		l.open--
	}
	close(l.wake)
	l.wake = make(chan struct{})
}

// expire closes an idle connection whose time is up.
func (l *mailboxLane) expire(c *upConn) {
	l.mu.Lock()
	for i, x := range l.idle {
		if x == c {
			l.idle = append(l.idle[:i], l.idle[i+1:]...)
			break
		}
	}
	l.open--
	close(l.wake)
	l.wake = make(chan struct{})
	l.mu.Unlock()
	_ = c.c.Quit()
	c.close()
}

// closeIdle closes every idle connection now.
func (l *mailboxLane) closeIdle() {
	l.mu.Lock()
	idle := l.idle
	l.idle = nil
	for _, c := range idle {
		if c.expires == nil || c.expires.Stop() {
			l.open--
		}
	}
	close(l.wake)
	l.wake = make(chan struct{})
	l.mu.Unlock()
	for _, c := range idle {
		_ = c.c.Quit()
		c.close()
	}
}
