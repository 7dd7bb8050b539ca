package gateway

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apppass/apppass/domain"
)

// The reading side (SPEC §15): IMAP and POP3 listeners that speak the
// protocol themselves until the device has logged in with an app
// password, then log in to Exchange Online as the owner with apppass's
// own app-only token (SASL XOAUTH2) and copy bytes both ways unchanged.
//
// No library proxies IMAP or POP3. go-imap v2's parser (imapwire) is
// internal to its module and its imapserver would answer for the mailbox
// itself, so the few commands spoken before login are read by a small
// hand-written parser (imapparse.go) that takes quoted strings and
// literals as RFC 9051 defines them; go-sasl's PLAIN server decodes
// AUTHENTICATE PLAIN / AUTH PLAIN. After login nothing is parsed: UIDs,
// flags, IDLE and every extension are Exchange's own.

// Scopes tells what a password may be used for (SPEC §16). store.DB
// implements it.
type Scopes interface {
	// PasswordScope returns the scope recorded for ownerID's keyID, or
	// domain.SendOnly when none was.
	PasswordScope(ctx context.Context, ownerID, keyID string) (domain.Scope, error)
}

// ReadingAlert tells the helpdesk that Exchange refused apppass a
// mailbox, with the PowerShell that enables it.
type ReadingAlert struct {
	Mailbox  string   // the owner's primary address
	Protocol string   // "IMAP" or "POP3"
	Commands []string // the PowerShell lines to run
	At       time.Time
}

// ReadingAlerter posts ReadingAlerts to the helpdesk channel; the gateway
// calls it at most once a day per mailbox.
type ReadingAlerter interface {
	AlertReadingDisabled(ctx context.Context, a ReadingAlert) error
}

// sendOnlyScopes is the Scopes of a gateway without a store of scopes:
// every password sends only.
type sendOnlyScopes struct{}

func (sendOnlyScopes) PasswordScope(context.Context, string, string) (domain.Scope, error) {
	return domain.SendOnly, nil
}

// upstreamTimeout bounds logging in to Exchange.
const upstreamTimeout = 30 * time.Second

// reader is the state the IMAP and POP3 listeners share; the gateway's
// Limiter counts their connections with SMTP's.
type reader struct {
	mu        sync.Mutex
	listeners map[net.Listener]bool
	conns     map[net.Conn]bool
	live      map[*liveSession]bool
	alerted   map[string]time.Time // reading-disabled alerts by mailbox
	watching  bool
	closed    bool
	bytesIn   atomic.Int64 // device → Exchange
	bytesOut  atomic.Int64 // Exchange → device
	sessions  atomic.Int64 // logged-in sessions now
}

func newReader() *reader {
	return &reader{listeners: map[net.Listener]bool{}, conns: map[net.Conn]bool{}, live: map[*liveSession]bool{}, alerted: map[string]time.Time{}}
}

// liveSession is a logged-in reading session, cut when its password is
// removed or its owner disabled.
type liveSession struct {
	proto Protocol
	owner domain.Mailbox
	keyID string
	mu    sync.Mutex
	cutFn func()
}

func (s *liveSession) setCut(f func()) { s.mu.Lock(); s.cutFn = f; s.mu.Unlock() }

func (s *liveSession) cut() {
	s.mu.Lock()
	f := s.cutFn
	s.mu.Unlock()
	f()
}

// serveRead accepts connections on ln (wrapped by the limiter) for proto
// until the gateway closes.
func (g *Gateway) serveRead(ctx context.Context, ln net.Listener, proto Protocol) error {
	r := g.read
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		ln.Close()
		return nil
	}
	r.listeners[ln] = true
	if !r.watching {
		r.watching = true
		go g.watchSessions(ctx)
	}
	r.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			r.mu.Lock()
			closed := r.closed
			r.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return fmt.Errorf("gateway: %s: %w", proto, err)
		}
		go g.handleRead(c, proto)
	}
}

// handleRead runs one connection the limiter admitted.
func (g *Gateway) handleRead(c net.Conn, proto Protocol) {
	r := g.read
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		c.Close()
		return
	}
	r.conns[c] = true
	r.mu.Unlock()
	defer func() {
		c.Close()
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
	}()
	lc := ConnOf(c)
	if lc == nil {
		return // not from the limiter: never the case
	}
	ctx := lc.Context()
	if tc, ok := c.(*tls.Conn); ok {
		_ = tc.SetDeadline(time.Now().Add(time.Minute)) // clamped to the login limits
		if err := tc.HandshakeContext(ctx); err != nil {
			return
		}
	}
	switch proto {
	case ProtocolIMAP:
		g.serveIMAP(ctx, c, lc)
	case ProtocolPOP3:
		g.servePOP3(ctx, c, lc)
	}
}

// tlsConfig is the listeners' TLS configuration.
func (g *Gateway) tlsConfig() *tls.Config { return g.server.TLSConfig }

// closeRead stops the reading listeners and ends every connection.
func (g *Gateway) closeRead() {
	r := g.read
	r.mu.Lock()
	r.closed = true
	for ln := range r.listeners {
		ln.Close()
	}
	for c := range r.conns {
		c.Close()
	}
	var live []*liveSession
	for s := range r.live {
		live = append(live, s)
	}
	r.mu.Unlock()
	for _, s := range live {
		s.cut()
	}
}

// beginSession moves lc to l's owner's logged-in sessions (at most
// Limits.MaxPerOwner per protocol, what Exchange allows a mailbox) and
// registers it, so that a removal cuts it.
func (g *Gateway) beginSession(lc *Conn, proto Protocol, l Login, cut func()) (*liveSession, bool) {
	if err := lc.LoggedIn(l.Mailbox.ID); err != nil {
		return nil, false
	}
	r := g.read
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &liveSession{proto: proto, owner: l.Mailbox, keyID: l.KeyID, cutFn: cut}
	r.live[s] = true
	r.sessions.Add(1)
	return s, true
}

func (g *Gateway) endSession(s *liveSession) {
	r := g.read
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.live[s] {
		delete(r.live, s)
		r.sessions.Add(-1)
	}
}

// watchSessions cuts logged-in sessions whose password was removed or
// whose owner was disabled (SPEC §15: within 60 s): removals are read
// from the store every RemovalPoll, owners asked about every ReadCheck.
func (g *Gateway) watchSessions(ctx context.Context) {
	tick := time.NewTicker(g.opts.RemovalPoll)
	defer tick.Stop()
	lastOwners := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		r := g.read
		r.mu.Lock()
		closed := r.closed
		live := make([]*liveSession, 0, len(r.live))
		for s := range r.live {
			live = append(live, s)
		}
		r.mu.Unlock()
		if closed {
			return
		}
		if len(live) == 0 {
			continue
		}
		now := g.now()
		if err := g.cache.sync(ctx, g.records, now); err != nil {
			g.log.Warn("gateway: reading removals failed", "err", err)
		}
		var cut []*liveSession
		for _, s := range live {
			if g.cache.wasRemoved(s.owner.ID, s.keyID) || (s.keyID == "" && g.cache.wasRemoved(s.owner.ID, "")) {
				cut = append(cut, s)
			}
		}
		if time.Since(lastOwners) >= g.opts.ReadCheck {
			lastOwners = time.Now()
			cut = append(cut, g.disabledOwners(ctx, live)...)
		}
		for _, s := range cut {
			g.log.Info("gateway: reading session ended: password removed or owner disabled", "owner", s.owner.ID, "key", s.keyID, "protocol", string(s.proto))
			s.cut()
		}
	}
}

// disabledOwners asks Entra once per owner with live sessions whether
// they are still enabled, and returns the sessions of those who are not.
func (g *Gateway) disabledOwners(ctx context.Context, live []*liveSession) []*liveSession {
	enabled := map[string]bool{}
	var out []*liveSession
	for _, s := range live {
		id := strings.ToLower(s.owner.ID)
		ok, seen := enabled[id]
		if !seen {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			mb, err := g.mailboxes.FindMailbox(cctx, primaryAddress(s.owner))
			cancel()
			switch {
			case err == nil:
				ok = mb.AccountEnabled && strings.EqualFold(mb.ID, s.owner.ID)
			case domain.KindOf(err) == domain.KindNotFound:
				ok = false
			default:
				ok = true // Entra did not answer: the removal poll still applies
				g.log.Warn("gateway: checking a reading session's owner failed", "owner", s.owner.ID, "err", err)
			}
			enabled[id] = ok
		}
		if !ok {
			out = append(out, s)
		}
	}
	return out
}

// upstreamRefusal is why Exchange would not let apppass read a mailbox.
type upstreamRefusal int

const (
	upstreamOK           upstreamRefusal = iota
	upstreamNotEnabled                   // the mailbox is not set up for apppass (grant, protocol)
	upstreamNoRole                       // apppass's token lacks IMAP/POP.AccessAsApp
	upstreamUnavailable                  // Exchange or the token service did not answer
	upstreamTooManyConns                 // Exchange's own per-mailbox limit
	// upstreamTokenRefused is Exchange refusing the login with apppass's
	// token. It never reaches the device: the login is tried once more
	// with a new token, and a refusal that stands becomes
	// upstreamNoRole or upstreamNotEnabled (refusedToken).
	upstreamTokenRefused
)

// loginWithRenewal runs login with apppass's Exchange token and, when
// Exchange refuses that token, once more with a new one (the cached token
// may have been revoked, or the app's roles changed, since it was issued).
// It returns the token of the last attempt, for refusedToken.
func (g *Gateway) loginWithRenewal(ctx context.Context, protocol Protocol, login func(token domain.Secret) upstreamRefusal) (domain.Secret, upstreamRefusal) {
	token, err := g.tokens.ExchangeToken(ctx)
	if err != nil {
		g.log.Error("gateway: no Exchange token for reading mail", "err", err)
		return domain.Secret{}, upstreamUnavailable
	}
	refusal := login(token)
	if refusal != upstreamTokenRefused {
		return token, refusal
	}
	fresh, ok, err := renewExchangeToken(ctx, g.tokens, token, g.log, string(protocol))
	if err != nil {
		return token, upstreamUnavailable // a new token may yet pass: try again later
	}
	if !ok {
		return token, refusal
	}
	return fresh, login(fresh)
}

// refusedToken turns Exchange's refusal of token for l's mailbox into
// what the device is told: apppass lacks the application permission role
// (the token says so), or else the mailbox is not set up for apppass, of
// which the helpdesk is told once a day.
func (g *Gateway) refusedToken(ctx context.Context, l Login, protocol Protocol, token domain.Secret, role string) upstreamRefusal {
	if !tokenHasRole(token, role) {
		g.log.Error("gateway: apppass's Exchange token lacks "+role+": grant it with admin consent (see apppass check)", "protocol", protocol)
		return upstreamNoRole
	}
	g.alertNotEnabled(ctx, l, protocol, true)
	return upstreamNotEnabled
}

// dialExchange connects to addr over TLS, the certificate verified.
func (g *Gateway) dialExchange(ctx context.Context, addr string) (*tls.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("exchange address %q: %w", addr, err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	if g.opts.ExchangeTLS != nil {
		cfg = g.opts.ExchangeTLS.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		cfg.MinVersion = max(cfg.MinVersion, tls.VersionTLS12)
		cfg.InsecureSkipVerify = false
	}
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: upstreamTimeout}, Config: cfg}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to Exchange at %s: %w", addr, err)
	}
	return c.(*tls.Conn), nil
}

// xoauth2Response is the SASL XOAUTH2 initial response for mailbox.
func xoauth2Response(mailbox string, token domain.Secret) string {
	return base64.StdEncoding.EncodeToString([]byte("user=" + mailbox + "\x01auth=Bearer " + token.Reveal() + "\x01\x01"))
}

// tokenHasRole reports whether apppass's Exchange token carries role in
// its roles claim, reading the JWT's payload (no signature check: it is
// apppass's own token, read only to explain a refusal).
func tokenHasRole(token domain.Secret, role string) bool {
	parts := strings.Split(token.Reveal(), ".")
	if len(parts) != 3 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false
	}
	var c struct {
		Roles []string `json:"roles"`
	}
	if json.Unmarshal(raw, &c) != nil {
		return false
	}
	return slices.Contains(c.Roles, role)
}

// enableCommands are the PowerShell lines that let apppass read mailbox
// over proto; grant says whether FullAccess is (also) missing.
func (g *Gateway) enableCommands(mailbox string, proto Protocol, grant bool) []string {
	var out []string
	sp := g.opts.ServicePrincipal
	if sp == "" {
		sp = "<apppass's service principal>"
	}
	if grant {
		out = append(out, fmt.Sprintf("Add-MailboxPermission -Identity %s -User %s -AccessRights FullAccess -AutoMapping $false", mailbox, sp))
	}
	if proto == ProtocolIMAP {
		out = append(out, fmt.Sprintf("Set-CASMailbox -Identity %s -ImapEnabled $true", mailbox))
	} else {
		out = append(out, fmt.Sprintf("Set-CASMailbox -Identity %s -PopEnabled $true", mailbox))
	}
	return out
}

// alertNotEnabled tells the helpdesk, once a day per mailbox (of all
// replicas, with AlertClaims), that Exchange refused apppass a mailbox
// and how to enable it.
func (g *Gateway) alertNotEnabled(ctx context.Context, l Login, proto Protocol, grant bool) {
	mailbox := primaryAddress(l.Mailbox)
	now := g.now()
	g.log.Warn("gateway: Exchange refused apppass the mailbox; reading mail is not enabled for it", "owner", l.Mailbox.ID, "protocol", string(proto))
	r := g.read
	r.mu.Lock()
	last, seen := r.alerted[mailbox]
	if seen && now.Sub(last) < 24*time.Hour {
		r.mu.Unlock()
		return
	}
	r.alerted[mailbox] = now
	r.mu.Unlock()
	if g.readAlert == nil {
		return
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if g.claims != nil {
		// Once a day of all replicas, not of each.
		ok, err := g.claims.ClaimAlert(actx, "reading-disabled:"+strings.ToLower(mailbox), now, now.Add(-24*time.Hour))
		if err != nil {
			g.log.Warn("gateway: reading alert not shared; this replica's own day applies", "err", err)
		} else if !ok {
			return
		}
	}
	a := ReadingAlert{Mailbox: mailbox, Protocol: strings.ToUpper(string(proto)), Commands: g.enableCommands(mailbox, proto, grant), At: now}
	if err := g.readAlert.AlertReadingDisabled(actx, a); err != nil {
		g.log.Warn("gateway: alerting the helpdesk failed", "err", err)
	}
}

// splice copies bytes both ways between the device and Exchange until
// either side closes, the device is silent for ReadIdle, or the session
// reaches Limits.SessionTimeout (the device's read deadlines are clamped
// to it). Buffers are taken only while data flows, so an idle session
// holds little memory.
func (g *Gateway) splice(device, upstream net.Conn) {
	done := make(chan struct{}, 2)
	go func() {
		g.copyStream(upstream, device, g.opts.ReadIdle, &g.read.bytesIn)
		upstream.Close()
		done <- struct{}{}
	}()
	go func() {
		g.copyStream(device, upstream, 0, &g.read.bytesOut)
		device.Close()
		done <- struct{}{}
	}()
	<-done
	device.Close()
	upstream.Close()
	<-done
}

// copyBufs are the buffers of busy streams.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// copyStream copies src to dst. It reads into a small buffer while the
// stream is quiet and into a pooled 32 KiB one while it is busy; idle,
// when set, ends the stream after that long without a byte from src.
func (g *Gateway) copyStream(dst io.Writer, src net.Conn, idle time.Duration, counter *atomic.Int64) {
	var small [512]byte
	buf := small[:]
	var big *[]byte
	defer func() {
		if big != nil {
			copyBufs.Put(big)
		}
	}()
	for {
		if idle > 0 {
			_ = src.SetReadDeadline(time.Now().Add(idle))
		}
		n, err := src.Read(buf)
		if n > 0 {
			counter.Add(int64(n))
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
		switch {
		case n == len(buf) && big == nil:
			big = copyBufs.Get().(*[]byte)
			buf = *big
		case n < len(small) && big != nil:
			copyBufs.Put(big)
			big, buf = nil, small[:]
		}
	}
}
