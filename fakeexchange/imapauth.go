package fakeexchange

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The application permissions of Office 365 Exchange Online that open a
// mailbox's IMAP and POP3 to an app-only token: they arrive in the
// token's roles claim.
const (
	RoleIMAP = "IMAP.AccessAsApp"
	RolePOP  = "POP.AccessAsApp"
)

// DefaultAudience is the audience Exchange Online accepts: the resource
// apppass asks tokens for (APPPASS_EXCHANGE_RESOURCE).
const DefaultAudience = "https://outlook.office365.com"

// exchangeAppID is Office 365 Exchange Online's application id, which
// Entra also puts in aud for tokens asked for by it.
const exchangeAppID = "00000002-0000-0ff1-ce00-000000000000"

// Token is what the fake reads from an access token.
type Token struct {
	Audience string
	AppID    string
	Roles    []string
	Expires  time.Time
}

// TokenReader turns a bearer token into its claims; an error means the
// token is not one Exchange would take (malformed, not issued by Entra).
type TokenReader func(token string) (Token, error)

// ReadJWTClaims reads the claims of a JWT-shaped token as fakeentra mints
// them, without checking the signature (fakeentra's signatures are
// random). It is the default TokenReader.
func ReadJWTClaims(token string) (Token, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Token{}, errors.New("not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return Token{}, fmt.Errorf("JWT payload: %w", err)
	}
	var c struct {
		Aud   string   `json:"aud"`
		AppID string   `json:"appid"`
		Roles []string `json:"roles"`
		Exp   int64    `json:"exp"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return Token{}, fmt.Errorf("JWT claims: %w", err)
	}
	return Token{Audience: c.Aud, AppID: c.AppID, Roles: c.Roles, Expires: time.Unix(c.Exp, 0)}, nil
}

// ErrTokenRevoked is a TokenReader's error for a token its issuer has
// revoked (or expired early): Exchange refuses it as any bad token.
var ErrTokenRevoked = errors.New("token revoked")

// IssuedBy returns a TokenReader that, like Exchange checking Entra's
// signature, takes only the tokens issuer issued and has not revoked or
// expired (fakeentra's RevokeTokens, ExpireTokens), and reads their
// claims with ReadJWTClaims.
func IssuedBy(issuer Issuer) TokenReader {
	return func(token string) (Token, error) {
		c, ok := issuer.Introspect(token)
		switch {
		case !ok:
			return Token{}, errors.New("not issued by the tenant's Entra")
		case c.Expired, c.Revoked:
			return Token{}, ErrTokenRevoked
		}
		return ReadJWTClaims(token)
	}
}

// parseXOAUTH2 reads the client's SASL XOAUTH2 response:
// "user=" mailbox "\x01auth=Bearer " token "\x01\x01".
func parseXOAUTH2(resp []byte) (user, token string, err error) {
	rest, ok := bytes.CutSuffix(resp, []byte("\x01\x01"))
	if !ok {
		return "", "", errors.New("XOAUTH2 response does not end with two ^A")
	}
	for _, f := range bytes.Split(rest, []byte{1}) {
		k, v, _ := strings.Cut(string(f), "=")
		switch strings.ToLower(k) {
		case "user":
			user = v
		case "auth":
			scheme, tok, _ := strings.Cut(v, " ")
			if !strings.EqualFold(scheme, "Bearer") {
				return "", "", errors.New("XOAUTH2 auth is not a Bearer token")
			}
			token = tok
		}
	}
	if user == "" || token == "" {
		return "", "", errors.New("XOAUTH2 response lacks user or auth")
	}
	return user, token, nil
}

// Why a login was refused, as the fake records it (Exchange itself only
// answers "AUTHENTICATE failed." or, for a missing grant, lets the login
// through and refuses every command).
const (
	RefusedMalformed    = "malformed XOAUTH2"
	RefusedToken        = "token not readable"
	RefusedAudience     = "wrong audience"
	RefusedExpired      = "token expired"
	RefusedRevoked      = "token revoked"
	RefusedRole         = "role missing"
	RefusedNoMailbox    = "no such mailbox"
	RefusedDisabled     = "protocol disabled on the mailbox"
	RefusedTooMany      = "too many sessions"
	RefusedNoGrant      = "no FullAccess"
	RefusedBasicAuthOff = "basic authentication"
)

// authorize decides an XOAUTH2 login for protocol proto ("IMAP" or
// "POP3"). It returns the mailbox, whether apppass's principal holds
// FullAccess on it, the token's expiry, and a refusal reason ("" when the
// login is accepted).
func (s *Store) authorize(proto string, resp []byte) (box *mailbox, granted bool, expires time.Time, reason string) {
	user, tok, err := parseXOAUTH2(resp)
	if err != nil {
		return nil, false, time.Time{}, RefusedMalformed
	}
	t, err := s.readToken(tok)
	if errors.Is(err, ErrTokenRevoked) {
		return nil, false, time.Time{}, RefusedRevoked
	}
	if err != nil {
		return nil, false, time.Time{}, RefusedToken
	}
	role := RoleIMAP
	if proto == "POP3" {
		role = RolePOP
	}
	switch {
	case !strings.EqualFold(strings.TrimSuffix(t.Audience, "/"), strings.TrimSuffix(s.audience, "/")) && !strings.EqualFold(t.Audience, exchangeAppID):
		return nil, false, time.Time{}, RefusedAudience
	case !t.Expires.After(s.now()):
		return nil, false, time.Time{}, RefusedExpired
	case !slices.Contains(t.Roles, role):
		return nil, false, time.Time{}, RefusedRole
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	box = s.boxes[strings.ToLower(user)]
	switch {
	case box == nil:
		return nil, false, time.Time{}, RefusedNoMailbox
	case proto == "IMAP" && !box.imapEnabled, proto == "POP3" && !box.popEnabled:
		return nil, false, time.Time{}, RefusedDisabled
	case box.sessions[proto] >= s.maxSessions:
		return nil, false, time.Time{}, RefusedTooMany
	}
	box.sessions[proto]++
	return box, box.fullAccess[strings.ToLower(t.AppID)], t.Expires, ""
}

// release ends a session counted by authorize.
func (s *Store) release(box *mailbox, proto string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	box.sessions[proto]--
}
