package gateway

import (
	"context"
	"io"
	"net"
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

// session is one SMTP connection.
type session struct {
	g     *Gateway
	addr  string // client IP address
	login *login
	from  string
	rcpts []string
}

// newSession is the go-smtp Backend.
func (g *Gateway) newSession(c *smtp.Conn) (smtp.Session, error) {
	addr := c.Conn().RemoteAddr().String()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	return &session{g: g, addr: addr}, nil
}

// AuthMechanisms offers PLAIN and LOGIN; go-smtp offers them only on a TLS
// connection.
func (s *session) AuthMechanisms() []string { return []string{sasl.Plain, sasl.Login} }

// Auth starts a SASL exchange.
func (s *session) Auth(mech string) (sasl.Server, error) {
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, password string) error {
			if identity != "" && !strings.EqualFold(identity, user) {
				return errBadCredentials // acting for someone else is not offered
			}
			return s.authenticate(user, password)
		}), nil
	case sasl.Login:
		return &loginServer{check: s.authenticate}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// authenticate checks a user name and password; the password is wrapped
// at once so that nothing below can print it.
func (s *session) authenticate(user, password string) error {
	if s.login != nil {
		return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "Already authenticated"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := s.g.authenticate(ctx, user, domain.NewSecret(password), s.addr)
	if err != nil {
		return err
	}
	s.login = &l
	return nil
}

// Mail starts a message; the envelope sender must be the owner's.
func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if s.login == nil {
		return errAuthRequired
	}
	if !s.login.mailbox.Owns(from) {
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
	s.rcpts = append(s.rcpts, to)
	return nil
}

// Data hands the message on as it arrives (deliver.go).
func (s *session) Data(r io.Reader) error {
	if s.login == nil {
		return errAuthRequired
	}
	return s.g.deliver(*s.login, s.addr, s.from, s.rcpts, r)
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
