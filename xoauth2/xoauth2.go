// Package xoauth2 is the SASL XOAUTH2 mechanism that Exchange Online's
// SMTP, IMAP and POP3 take for OAuth (go-sasl dropped its own): the client
// sends "user=" mailbox "\x01auth=Bearer " token "\x01\x01" as its initial
// response, and the server either accepts it or refuses.
//
// Google's servers answer a refused token with a base64 JSON challenge
// that the client must acknowledge with an empty response; Exchange
// answers the refusal at once. Both sides here speak Exchange's form but
// the client also acknowledges Google's challenge, so it works against
// either.
package xoauth2

import (
	"bytes"
	"errors"
	"strings"

	"github.com/emersion/go-sasl"
)

// Mechanism is the SASL mechanism name.
const Mechanism = "XOAUTH2"

// maxResponse bounds what the server parses: Entra's access tokens run to
// a few kilobytes.
const maxResponse = 64 << 10

// ErrMalformed is the server's answer to a response that is not
// "user=…\x01auth=Bearer …\x01\x01".
var ErrMalformed = errors.New("xoauth2: malformed initial response")

// Encode returns the initial client response for user and token. The
// result holds the token: never log it.
func Encode(user, token string) []byte {
	return []byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01")
}

// Decode parses an initial client response into user and token.
func Decode(resp []byte) (user, token string, err error) {
	if len(resp) > maxResponse {
		return "", "", ErrMalformed
	}
	rest, ok := bytes.CutSuffix(resp, []byte("\x01\x01"))
	if !ok {
		return "", "", ErrMalformed
	}
	var auth string
	for _, kv := range strings.Split(string(rest), "\x01") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "user":
			user = v
		case "auth":
			scheme, tok, found := strings.Cut(v, " ")
			if found && strings.EqualFold(scheme, "Bearer") {
				auth = strings.TrimSpace(tok)
			}
		}
	}
	if user == "" || auth == "" {
		return "", "", ErrMalformed
	}
	return user, auth, nil
}

// client is the client side.
type client struct {
	user, token string
	acked       bool
}

// NewClient returns a sasl.Client that signs in as user (the mailbox) with
// an OAuth access token.
func NewClient(user, token string) sasl.Client { return &client{user: user, token: token} }

// Start implements sasl.Client.
func (c *client) Start() (string, []byte, error) {
	return Mechanism, Encode(c.user, c.token), nil
}

// Next acknowledges a server's error challenge (Google's form) with an
// empty response; the server then refuses the authentication.
func (c *client) Next(challenge []byte) ([]byte, error) {
	if c.acked {
		return nil, sasl.ErrUnexpectedServerChallenge
	}
	c.acked = true
	return []byte{}, nil
}

// Authenticator checks a mailbox and token; its error is the server's
// answer (a *smtp.SMTPError, for instance).
type Authenticator func(user, token string) error

// server is the server side.
type server struct {
	check Authenticator
	done  bool
}

// NewServer returns a sasl.Server that passes the user and token of the
// client's response to check. A client that sends no initial response
// gets an empty challenge first.
func NewServer(check Authenticator) sasl.Server { return &server{check: check} }

// Next implements sasl.Server.
func (s *server) Next(response []byte) ([]byte, bool, error) {
	if s.done {
		return nil, false, sasl.ErrUnexpectedClientResponse
	}
	if response == nil {
		return []byte{}, false, nil // ask for the initial response
	}
	s.done = true
	user, token, err := Decode(response)
	if err != nil {
		return nil, true, err
	}
	return nil, true, s.check(user, token)
}
