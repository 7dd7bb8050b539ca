package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/apppass/apppass/domain"
)

// imapCaps are the capabilities announced before login: Exchange
// Online's (PLATFORM.md), since those are what the device gets after
// login, with PLAIN as the only mechanism and, before TLS, STARTTLS and
// LOGINDISABLED instead.
const (
	imapCapsTLS   = "IMAP4 IMAP4rev1 AUTH=PLAIN SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+"
	imapCapsPlain = "IMAP4 IMAP4rev1 STARTTLS LOGINDISABLED SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+"
)

// imapCodes are IMAP's response codes for a refused login (RFC 5530).
var imapCodes = refusalCodes{
	denied:         "[AUTHORIZATIONFAILED] ",
	badCredentials: "[AUTHENTICATIONFAILED] ",
	temporary:      "[UNAVAILABLE] ",
}

// roleIMAP is the Exchange permission apppass's token needs for IMAP.
const roleIMAP = "IMAP.AccessAsApp"

// imapConn is one device's IMAP connection before login.
type imapConn struct {
	readConn
}

func (g *Gateway) serveIMAP(ctx context.Context, c net.Conn, lc *Conn) {
	s := &imapConn{newReadConn(g, c, lc)}
	if !s.send("* OK [CAPABILITY " + s.caps() + "] " + g.opts.Hostname + " apppass IMAP4 gateway ready.") {
		return
	}
	for lc.Command() {
		_ = s.c.SetDeadline(time.Now().Add(time.Minute)) // clamped to the login limits
		cmd, err := readIMAPCommand(s.r, s.c)
		switch {
		case errors.Is(err, errIMAPSyntax):
			if !s.send(cmd.tag + " BAD Command Error. 10") {
				return
			}
			continue
		case err != nil:
			if errors.Is(err, errIMAPTooLong) {
				s.send("* BYE Command too long.")
			}
			return
		}
		switch cmd.name {
		case "CAPABILITY":
			s.send("* CAPABILITY " + s.caps() + "\r\n" + cmd.tag + " OK CAPABILITY completed.")
		case "NOOP":
			s.send(cmd.tag + " OK NOOP completed.")
		case "ID":
			s.send("* ID NIL\r\n" + cmd.tag + " OK ID completed.")
		case "LOGOUT":
			s.send("* BYE apppass IMAP4 gateway signing off.\r\n" + cmd.tag + " OK LOGOUT completed.")
			return
		case "STARTTLS":
			if !s.starttls(ctx, cmd.tag) {
				return
			}
		case "LOGIN", "AUTHENTICATE":
			if !s.lc.AuthAttempt() {
				s.send("* BYE Too many authentication attempts.")
				return
			}
			user, password, ok := s.credentials(cmd)
			if !ok {
				continue
			}
			if s.login(ctx, cmd.tag, user, password) {
				return
			}
		default:
			s.send(cmd.tag + " BAD Command received in Invalid state.")
		}
	}
	s.send("* BYE Too many commands before login.")
}

func (s *imapConn) caps() string {
	if s.tls {
		return imapCapsTLS
	}
	return imapCapsPlain
}

// starttls upgrades the connection; false ends the session.
func (s *imapConn) starttls(ctx context.Context, tag string) bool {
	if s.tls {
		return s.send(tag + " BAD STARTTLS is not available now.")
	}
	return s.startTLS(ctx, "* BYE Data after STARTTLS.", tag+" OK Begin TLS negotiation now.")
}

// credentials reads LOGIN's or AUTHENTICATE PLAIN's user name and
// password; it answers the device itself when there are none.
func (s *imapConn) credentials(cmd imapCommand) (user, password string, ok bool) {
	if !s.tls {
		s.send(cmd.tag + " NO [PRIVACYREQUIRED] Use STARTTLS first: no password is taken before TLS.")
		return "", "", false
	}
	if cmd.name == "LOGIN" {
		u, err1 := cmd.astring(0)
		p, err2 := cmd.astring(1)
		if err1 != nil || err2 != nil || len(cmd.args) != 2 {
			s.send(cmd.tag + " BAD Command Argument Error. 11")
			return "", "", false
		}
		return u, p, true
	}
	mech, err := cmd.astring(0)
	if err != nil || len(cmd.args) > 2 {
		s.send(cmd.tag + " BAD Command Argument Error. 11")
		return "", "", false
	}
	if !strings.EqualFold(mech, sasl.Plain) {
		s.send(cmd.tag + " NO The specified authentication mechanism is not supported.")
		return "", "", false
	}
	var resp string
	hasResp := len(cmd.args) == 2
	if hasResp {
		resp = cmd.args[1].val
	}
	return s.plainCredentials(resp, hasResp, plainAnswers{
		maxLine:   maxIMAPCommand,
		cancelled: cmd.tag + " BAD AUTHENTICATE cancelled.",
		malformed: cmd.tag + " BAD Malformed SASL response.",
		failed:    cmd.tag + " NO [AUTHENTICATIONFAILED] Authentication failed.",
	})
}

// login is the device's LOGIN or AUTHENTICATE; true when the session is
// over (see loginAndSplice).
func (s *imapConn) login(ctx context.Context, tag, user, password string) bool {
	return s.loginAndSplice(ctx, user, password, readLogin{
		proto: ProtocolIMAP,
		open:  s.g.openIMAP,
		codes: imapCodes,
		no:    tag + " NO ",
		busy:  "* BYE Too many sessions for this mailbox; try again later.",
		// Exchange's untagged lines, then its OK under the device's tag.
		in: func(up *exchangeConn) string { return up.untagged + tag + " " + strings.TrimPrefix(up.final, "A1 ") },
	})
}

// openIMAP logs in to Exchange's IMAP as l's owner and checks that the
// mailbox can be read. The connection's final is Exchange's tagged OK
// line, its untagged the lines that came before it.
func (g *Gateway) openIMAP(ctx context.Context, l Login) (*exchangeConn, upstreamRefusal) {
	return g.openExchange(ctx, l, ProtocolIMAP, g.opts.ExchangeIMAP, roleIMAP, loginIMAP)
}

// loginIMAP is one login to Exchange's IMAP on u with token: AUTHENTICATE
// XOAUTH2, then a LIST to see that the mailbox is reachable.
func loginIMAP(ctx context.Context, u *exchangeConn, token domain.Secret) upstreamRefusal {
	greeting, err := readUpstreamLine(u.r)
	if err != nil || !strings.HasPrefix(greeting, "* OK") {
		return u.fail(fmt.Sprintf("greeting %q: %v", clipLine(greeting), err), upstreamUnavailable)
	}
	mailbox := primaryAddress(u.l.Mailbox)
	if _, err := io.WriteString(u.c, "A1 AUTHENTICATE XOAUTH2 "+xoauth2Response(mailbox, token)+"\r\n"); err != nil {
		return u.fail(err.Error(), upstreamUnavailable)
	}
	var untagged strings.Builder
	var final string
	for final == "" {
		line, err := readUpstreamLine(u.r)
		switch {
		case err != nil:
			return u.fail(err.Error(), upstreamUnavailable)
		case strings.HasPrefix(line, "A1 "):
			final = line
		case strings.HasPrefix(line, "+"):
			// A challenge after a refused token (Google's form): acknowledge
			// it to get the tagged answer.
			if _, err := io.WriteString(u.c, "\r\n"); err != nil {
				return u.fail(err.Error(), upstreamUnavailable)
			}
		case strings.HasPrefix(line, "* BYE"):
			return u.fail(clipLine(line), upstreamUnavailable)
		default:
			untagged.WriteString(line + "\r\n")
		}
	}
	if !strings.HasPrefix(final, "A1 OK") {
		return u.fail(clipLine(final), upstreamTokenRefused)
	}
	// Exchange lets a principal without FullAccess log in and then
	// refuses every command that reaches the mailbox ("BAD User is
	// authenticated but not connected."): ask once before telling the
	// device it is in.
	if _, err := io.WriteString(u.c, "A2 LIST \"\" INBOX\r\n"); err != nil {
		return u.fail(err.Error(), upstreamUnavailable)
	}
	for {
		line, err := readUpstreamLine(u.r)
		if err != nil {
			return u.fail(err.Error(), upstreamUnavailable)
		}
		if strings.HasPrefix(line, "A2 ") {
			if strings.Contains(line, "not connected") || strings.HasPrefix(line, "A2 BAD") {
				u.g.alertNotEnabled(ctx, u.l, ProtocolIMAP, true)
				return u.fail(clipLine(line), upstreamNotEnabled)
			}
			break
		}
	}
	u.final, u.untagged = final, untagged.String()
	return upstreamOK
}
