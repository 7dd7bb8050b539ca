package gateway

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/apppass/apppass/domain"
)

// maxPOP3Line bounds a command line before login (RFC 2449 allows 255
// octets; a PLAIN response with a long address is a little more).
const maxPOP3Line = 2 << 10

// rolePOP is the Exchange permission apppass's token needs for POP3.
const rolePOP = "POP.AccessAsApp"

// pop3Codes are POP3's response codes for a refused login (RFC 3206).
var pop3Codes = refusalCodes{
	denied:         "[AUTH] ",
	badCredentials: "[AUTH] ",
	temporary:      "[SYS/TEMP] ",
}

// pop3Conn is one device's POP3 connection before login.
type pop3Conn struct {
	readConn
	user string // from USER
}

func (g *Gateway) servePOP3(ctx context.Context, c net.Conn, lc *Conn) {
	s := &pop3Conn{readConn: newReadConn(g, c, lc)}
	if !s.send("+OK " + g.opts.Hostname + " apppass POP3 gateway ready.") {
		return
	}
	for lc.Command() {
		_ = s.c.SetDeadline(time.Now().Add(time.Minute)) // clamped to the login limits
		line, err := readIMAPLine(s.r, maxPOP3Line)
		if err != nil {
			if errors.Is(err, errIMAPTooLong) {
				s.send("-ERR Line too long.")
			}
			return
		}
		verb, arg, _ := strings.Cut(string(line), " ")
		switch strings.ToUpper(verb) {
		case "CAPA":
			s.send(s.capa())
		case "STLS":
			if !s.stls(ctx) {
				return
			}
		case "USER":
			switch {
			case !s.tls:
				s.send("-ERR [AUTH] Use STLS first: no user name or password is taken before TLS.")
			case arg == "" || len(arg) > 320:
				s.send("-ERR Bad user name.")
			default:
				s.user = arg
				s.send("+OK")
			}
		case "PASS", "AUTH":
			if strings.EqualFold(verb, "AUTH") && arg == "" {
				s.send("+OK\r\nPLAIN\r\n.")
				continue
			}
			if !s.lc.AuthAttempt() {
				s.send("-ERR Too many authentication attempts.")
				return
			}
			var user, password string
			var ok bool
			if strings.EqualFold(verb, "PASS") {
				user, password, ok = s.user, arg, s.user != ""
				if !s.tls {
					s.send("-ERR [AUTH] Use STLS first: no password is taken before TLS.")
					continue
				}
				if !ok {
					s.send("-ERR USER first.")
					continue
				}
			} else if user, password, ok = s.authPlain(arg); !ok {
				continue
			}
			if s.login(ctx, user, password) {
				return
			}
		case "QUIT":
			s.send("+OK apppass POP3 gateway signing off.")
			return
		default:
			s.send("-ERR Command is not valid in this state.")
		}
	}
	s.send("-ERR Too many commands before login.")
}

// capa lists the capabilities: before TLS only STLS and what needs no
// credentials.
func (s *pop3Conn) capa() string {
	if !s.tls {
		return "+OK\r\nSTLS\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n."
	}
	return "+OK\r\nUSER\r\nSASL PLAIN\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n."
}

func (s *pop3Conn) stls(ctx context.Context) bool {
	if s.tls {
		return s.send("-ERR Command is not valid in this state.")
	}
	if !s.startTLS(ctx, "-ERR Data after STLS.", "+OK Begin TLS negotiation.") {
		return false
	}
	s.user = "" // nothing said in the clear carries over
	return true
}

// authPlain reads AUTH PLAIN [initial-response] (RFC 5034).
func (s *pop3Conn) authPlain(arg string) (user, password string, ok bool) {
	mech, resp, hasIR := strings.Cut(arg, " ")
	if !strings.EqualFold(mech, sasl.Plain) {
		s.send("-ERR Unrecognized authentication type.")
		return "", "", false
	}
	if !s.tls {
		s.send("-ERR [AUTH] Use STLS first: no password is taken before TLS.")
		return "", "", false
	}
	return s.plainCredentials(resp, hasIR, plainAnswers{
		maxLine:   maxPOP3Line,
		trimSpace: true,
		cancelled: "-ERR AUTH cancelled.",
		malformed: "-ERR Malformed SASL response.",
		failed:    "-ERR [AUTH] Authentication failed.",
	})
}

// login is the device's PASS or AUTH; true when the session is over
// (see loginAndSplice).
func (s *pop3Conn) login(ctx context.Context, user, password string) bool {
	return s.loginAndSplice(ctx, user, password, readLogin{
		proto: ProtocolPOP3,
		open:  s.g.openPOP3,
		codes: pop3Codes,
		no:    "-ERR ",
		busy:  "-ERR [IN-USE] Too many sessions for this mailbox; try again later.",
		in:    func(up *exchangeConn) string { return up.final },
	})
}

// openPOP3 logs in to Exchange's POP3 as l's owner and checks that the
// mailbox can be read. The connection's final is Exchange's +OK.
func (g *Gateway) openPOP3(ctx context.Context, l Login) (*exchangeConn, upstreamRefusal) {
	return g.openExchange(ctx, l, ProtocolPOP3, g.opts.ExchangePOP, rolePOP, loginPOP3)
}

// loginPOP3 is one login to Exchange's POP3 on u with token: AUTH
// XOAUTH2, the response on its own line, then a NOOP to see that the
// mailbox is reachable.
func loginPOP3(ctx context.Context, u *exchangeConn, token domain.Secret) upstreamRefusal {
	ask := func(line string) (string, error) {
		if _, err := io.WriteString(u.c, line+"\r\n"); err != nil {
			return "", err
		}
		return readUpstreamLine(u.r)
	}
	greeting, err := readUpstreamLine(u.r)
	if err != nil || !strings.HasPrefix(greeting, "+OK") {
		return u.fail("greeting "+clipLine(greeting), upstreamUnavailable)
	}
	cont, err := ask("AUTH XOAUTH2")
	if err != nil || !strings.HasPrefix(cont, "+") {
		return u.fail("AUTH XOAUTH2: "+clipLine(cont), upstreamUnavailable)
	}
	final, err := ask(xoauth2Response(primaryAddress(u.l.Mailbox), token))
	if err != nil {
		return u.fail(err.Error(), upstreamUnavailable)
	}
	if !strings.HasPrefix(final, "+OK") {
		return u.fail(clipLine(final), upstreamTokenRefused)
	}
	probe, err := ask("NOOP")
	if err != nil {
		return u.fail(err.Error(), upstreamUnavailable)
	}
	if !strings.HasPrefix(probe, "+OK") {
		u.g.alertNotEnabled(ctx, u.l, ProtocolPOP3, true)
		return u.fail(clipLine(probe), upstreamNotEnabled)
	}
	u.final = final
	return upstreamOK
}
