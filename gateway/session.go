package gateway

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/apppass/apppass/domain"
)

var (
	errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	errNotYourAddr  = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Sender address is not one of the signed-in user's addresses"}
	errTooBig       = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "Message too big"}
)

// errBusy answers a message past the memory bounds; the device retries.
var errBusy = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Too many messages in flight; try again later"}

// session is one SMTP session: go-smtp makes a new one after STARTTLS,
// so what must last the connection (limits, correlation id) is in conn.
type session struct {
	g     *Gateway
	conn  *Conn           // the limiter's connection; nil only in odd wiring
	smtp  *smtp.Conn      // for writing refusals
	addr  netip.Addr      // client IP address
	ctx   context.Context // carries the connection's correlation id
	login *Login
	from  string
	rcpts []string
}

// newSession is the go-smtp Backend.
func (g *Gateway) newSession(c *smtp.Conn) (smtp.Session, error) {
	s := &session{g: g, smtp: c, ctx: context.Background()}
	if lc := ConnOf(c.Conn()); lc != nil {
		lc.SetTop(c.Conn())
		s.conn, s.addr, s.ctx = lc, lc.ClientAddr(), lc.Context()
	} else if ap, err := netip.ParseAddrPort(c.Conn().RemoteAddr().String()); err == nil {
		s.addr = ap.Addr().Unmap()
	}
	return s, nil
}

// refuse answers err and closes the connection.
func (s *session) refuse(err *smtp.SMTPError) error {
	if s.conn != nil {
		s.conn.Refuse(s.smtp.Conn(), fmt.Sprintf("%d %d.%d.%d %s\r\n", err.Code, err.EnhancedCode[0], err.EnhancedCode[1], err.EnhancedCode[2], err.Message))
	}
	return err
}

// AuthMechanisms offers PLAIN and LOGIN; go-smtp offers them only on a TLS
// connection.
func (s *session) AuthMechanisms() []string { return []string{sasl.Plain, sasl.Login} }

// Auth starts a SASL exchange; past the attempts a connection may make,
// it answers 421 and closes.
func (s *session) Auth(mech string) (sasl.Server, error) {
	if s.conn != nil && !s.conn.AuthAttempt() {
		return nil, s.refuse(&smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Too many authentication attempts; closing"})
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, password string) error {
			if identity != "" && !strings.EqualFold(identity, user) {
				return s.authenticate("", password) // acting for someone else is not offered: a bad name
			}
			return s.authenticate(user, password)
		}), nil
	case sasl.Login:
		return &loginServer{check: s.authenticate}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// The SMTP answers to AuthError kinds; the same 535 whatever was wrong.
var (
	errBadCredentials = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
	errTooManyFails   = &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Too many failed logins; try again later"}
	errAuthTemporary  = &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Temporary authentication failure; try again later"}
	errTooManySession = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Too many sessions for this mailbox; try again later"}
)

// smtpAuthError is the SMTP answer to Authenticate's error, with the
// session's reference.
func smtpAuthError(err error) *smtp.SMTPError {
	var ae *AuthError
	if !errors.As(err, &ae) {
		return errAuthTemporary
	}
	var e smtp.SMTPError
	switch ae.Kind {
	case AuthBadCredentials:
		e = *errBadCredentials
	case AuthOutOfScope:
		e = *errBadCredentials
		if ae.Detail != "" {
			e.Message = ae.Detail
		}
	case AuthTooManyFailures:
		e = *errTooManyFails
	default:
		e = *errAuthTemporary
	}
	if ae.Ref != "" {
		e.Message += " (ref " + ae.Ref + ")"
	}
	return &e
}

// authenticate checks a user name and password; the password is wrapped
// at once so that nothing below can print it.
func (s *session) authenticate(user, password string) error {
	if s.login != nil {
		return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "Already authenticated"}
	}
	ctx, cancel := context.WithTimeout(s.ctx, time.Minute)
	defer cancel()
	l, err := s.g.Authenticate(ctx, AuthRequest{Protocol: ProtocolSMTP, User: user, Password: domain.NewSecret(password), ClientAddr: s.addr})
	if err != nil {
		return smtpAuthError(err)
	}
	if s.conn != nil {
		if err := s.conn.LoggedIn(l.Mailbox.ID); err != nil {
			return s.refuse(withRef(errTooManySession, refOf(s.ctx)))
		}
	}
	s.login = &l
	return nil
}

// withRef is e with "(ref …)" added.
func withRef(e *smtp.SMTPError, ref string) *smtp.SMTPError {
	c := *e
	if ref != "" {
		c.Message += " (ref " + ref + ")"
	}
	return &c
}

// Mail starts a message; the envelope sender must be the owner's.
func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if s.login == nil {
		return errAuthRequired
	}
	if hasControl(from) {
		return errBadAddress
	}
	if !s.login.Mailbox.Owns(from) {
		return errNotYourAddr
	}
	if opts != nil && opts.Size > s.g.opts.MaxBytes {
		return errTooBig
	}
	s.from = from
	return nil
}

// Rcpt adds a recipient; go-smtp enforces the recipient limit.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.login == nil {
		return errAuthRequired
	}
	if hasControl(to) {
		return errBadAddress
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

// Data takes one of the owner's message places, reads the header block
// (bounded) and checks it, then passes the message on as a stream. With
// an upstream that holds messages (Graph), every byte read is counted
// against the gateway's memory budget; one that streams (Exchange's SMTP)
// holds no more than a buffer.
func (s *session) Data(r io.Reader) error {
	if s.login == nil {
		return errAuthRequired
	}
	ctx := s.ctx
	held, ok := s.g.memory.message(s.login.Mailbox.ID)
	if !ok {
		s.g.metrics.deliveryTemporary.Add(1)
		return withRef(errBusy, refOf(ctx))
	}
	defer held.done()
	src := r
	if s.g.holdsMessages() {
		src = held.reader(r)
	}
	br := bufio.NewReaderSize(src, 4096)
	hdr, err := readHeader(br)
	if err != nil {
		return s.dataError(err)
	}
	if rule := checkHeader(hdr, s.login.Mailbox.Owns, s.rcpts, s.g.opts.MaxRecipients, s.g.opts.Upstream != "smtp"); rule != nil {
		s.g.audit(ctx, domain.AuditEvent{ActorID: s.login.Mailbox.ID, SubjectID: s.login.Mailbox.ID, Action: "smtp-send", KeyID: s.login.KeyID,
			Outcome: rule.outcome, Name: fmt.Sprintf("from %s, %d recipients", s.addr, len(s.rcpts)), At: s.g.now()})
		return withRef(rule.err, refOf(ctx))
	}
	return s.g.deliver(ctx, *s.login, s.addr.String(), s.from, s.rcpts, hdr, br, s.dataError)
}

// dataError maps a failure reading the message to its answer.
func (s *session) dataError(err error) error {
	var se *smtp.SMTPError
	switch {
	case errors.As(err, &se):
		return withRef(se, refOf(s.ctx))
	case errors.Is(err, smtp.ErrDataTooLarge):
		return errTooBig
	case errors.Is(err, errNoMemory):
		s.g.metrics.deliveryTemporary.Add(1)
		return withRef(errBusy, refOf(s.ctx))
	}
	return err
}

// Reset forgets the current message.
func (s *session) Reset() { s.from, s.rcpts = "", nil }

// Logout ends the session.
func (s *session) Logout() error { return nil }

// loginServer is the server side of SASL LOGIN (draft-murchison-sasl-login):
// "Username:" and "Password:" challenges.
type loginServer struct {
	check func(user, password string) error
	user  string
	step  int
}

// Next implements sasl.Server.
func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if len(response) > 0 { // initial response: the user name
			l.user, l.step = string(response), 2
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user, l.step = string(response), 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.check(l.user, string(response))
	}
	return nil, false, sasl.ErrUnexpectedClientResponse
}
