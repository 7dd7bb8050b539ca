package gateway

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/apppass/apppass/domain"
)

// A device's login on the reading side, shared by the IMAP and POP3
// listeners: the password checked, Exchange logged in to as the owner,
// then bytes spliced. Each protocol gives it its own words.

// refusalCodes are a protocol's response codes for a refused login, each
// with its trailing space: IMAP's (RFC 5530) or POP3's (RFC 3206).
type refusalCodes struct {
	denied         string // the password may not do this here, or the mailbox is not enabled
	badCredentials string
	temporary      string // try again later
}

// authRefusal is the text for a login apppass refused, with the
// attempt's reference where there is one.
func (rc refusalCodes) authRefusal(err error) string {
	var ae *AuthError
	if !errors.As(err, &ae) {
		return rc.temporary + "Temporary authentication failure; try again later."
	}
	ref := ""
	if ae.Ref != "" {
		ref = " (ref " + ae.Ref + ")"
	}
	switch ae.Kind {
	case AuthOutOfScope:
		return rc.denied + ae.Detail
	case AuthBadCredentials:
		return rc.badCredentials + "Authentication failed." + ref
	case AuthTooManyFailures:
		return rc.temporary + "Too many failed logins; try again later." + ref
	}
	return rc.temporary + "Temporary authentication failure; try again later." + ref
}

// upstreamRefusal is the text for a login Exchange refused apppass.
func (rc refusalCodes) upstreamRefusal(r upstreamRefusal) string {
	switch r {
	case upstreamNotEnabled:
		return rc.denied + "reading mail is not enabled for this mailbox; the helpdesk has been told how to enable it."
	case upstreamNoRole:
		return rc.temporary + "reading mail through apppass is not set up in this organisation yet; please tell the helpdesk."
	case upstreamTooManyConns:
		return rc.temporary + "Exchange Online has too many sessions for this mailbox; try again later."
	}
	return rc.temporary + "Exchange Online did not answer; try again later."
}

// readLogin is a protocol's own part in a device's login.
type readLogin struct {
	proto Protocol
	open  func(context.Context, Login) (*exchangeConn, upstreamRefusal) // logs in to Exchange
	codes refusalCodes
	no    string // starts a refusal: IMAP's "<tag> NO ", POP3's "-ERR "
	busy  string // the answer when the owner has too many sessions
	// in is the answer once Exchange has let the owner in, from Exchange's.
	in func(up *exchangeConn) string
}

// loginAndSplice checks the password, opens the owner's mailbox at
// Exchange and, when both succeed, answers the device with Exchange's
// answer and splices. It returns true when the session is over.
func (s *readConn) loginAndSplice(ctx context.Context, user, password string, p readLogin) bool {
	g := s.g
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	l, err := g.Authenticate(actx, AuthRequest{Protocol: p.proto, User: user, Password: domain.NewSecret(password), ClientAddr: s.lc.ClientAddr()})
	cancel()
	if err != nil {
		return !s.send(p.no + p.codes.authRefusal(err))
	}
	live, ok := g.beginSession(s.lc, p.proto, l, func() { s.c.Close() })
	if !ok {
		s.send(p.busy)
		return true
	}
	defer g.endSession(live)
	_ = s.c.SetDeadline(time.Time{})
	up, refusal := p.open(ctx, l)
	if refusal != upstreamOK {
		s.send(p.no + p.codes.upstreamRefusal(refusal))
		return true
	}
	defer up.c.Close()
	live.setCut(func() { s.c.Close(); up.c.Close() })
	if !s.send(p.in(up)) {
		return true
	}
	if err := flushBuffered(up.c, s.r); err != nil {
		return true
	}
	if err := flushBuffered(s.c, up.r); err != nil {
		return true
	}
	g.splice(s.c, up.c)
	return true
}

// flushBuffered writes what r has read ahead to w, so that a command the
// device pipelined after its login, or a response Exchange sent early, is
// not lost when the streams are spliced.
func flushBuffered(w io.Writer, r *bufio.Reader) error {
	n := r.Buffered()
	if n == 0 {
		return nil
	}
	b, _ := r.Peek(n)
	_, err := w.Write(b)
	return err
}

// exchangeConn is apppass's connection to Exchange's IMAP or POP3 for one
// device's login.
type exchangeConn struct {
	g        *Gateway
	l        Login
	proto    Protocol
	c        *tls.Conn
	r        *bufio.Reader
	final    string // Exchange's answer to the login
	untagged string // IMAP: the untagged lines before final, each ending in CRLF
}

// openExchange logs in to Exchange's IMAP or POP3 at addr as l's owner,
// login speaking the protocol on each new connection: with apppass's
// token and, when Exchange refuses it, once more with a new one
// (loginWithRenewal). A refusal that stands is explained by
// refusedToken, which looks for role in the token.
func (g *Gateway) openExchange(ctx context.Context, l Login, proto Protocol, addr, role string, login func(context.Context, *exchangeConn, domain.Secret) upstreamRefusal) (*exchangeConn, upstreamRefusal) {
	ctx, cancel := context.WithTimeout(ctx, upstreamTimeout)
	defer cancel()
	var u *exchangeConn
	token, refusal := g.loginWithRenewal(ctx, proto, func(token domain.Secret) upstreamRefusal {
		c, err := g.dialExchange(ctx, addr)
		if err != nil {
			g.log.Warn("gateway: Exchange "+strings.ToUpper(string(proto))+" unreachable", "err", err)
			return upstreamUnavailable
		}
		stop := context.AfterFunc(ctx, func() { c.Close() })
		defer stop()
		attempt := &exchangeConn{g: g, l: l, proto: proto, c: c, r: bufio.NewReaderSize(c, 1024)}
		refusal := login(ctx, attempt, token)
		if refusal == upstreamOK {
			u = attempt
		}
		return refusal
	})
	if refusal == upstreamTokenRefused {
		refusal = g.refusedToken(ctx, l, proto, token, role)
	}
	return u, refusal
}

// fail ends a login Exchange did not complete: it closes the connection,
// logs why when there is something to say, and returns refusal.
func (u *exchangeConn) fail(why string, refusal upstreamRefusal) upstreamRefusal {
	u.c.Close()
	if why != "" {
		u.g.log.Warn("gateway: Exchange "+strings.ToUpper(string(u.proto))+" login failed", "owner", u.l.Mailbox.ID, "why", why)
	}
	return refusal
}

// maxUpstreamLine bounds a line read from Exchange before splicing.
const maxUpstreamLine = 64 << 10

func readUpstreamLine(r *bufio.Reader) (string, error) {
	b, err := readIMAPLine(r, maxUpstreamLine)
	return string(b), err
}

// clipLine shortens an upstream line for a log.
func clipLine(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
