// The SMTP side of the fake (Server, smtp.go): SMTP submission with OAuth,
// over a tenant of mailboxes with Exchange RBAC for Applications role
// assignments, checking the access tokens that a fake Entra
// (github.com/apppass/apppass/fakeentra) issued by introspection, as
// Exchange checks Entra's signature.
//
// It is as strict as the real service where apppass must cope with it
// (see PLATFORM.md): XOAUTH2 only, and only after STARTTLS; the token's
// issuer, audience, expiry and revocation; the application's role on a
// management scope holding the mailbox (535 5.7.3 otherwise); SMTP AUTH
// switched off per mailbox (535 5.7.139); MAIL FROM one of the mailbox's
// addresses (550 5.7.60); 3 concurrent connections (432 4.3.2) and 30
// messages a minute (421 4.7.66) per mailbox; 35 MiB messages by default.

package fakeexchange

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apppass/apppass/fakeentra"
)

// Resource is Exchange Online's resource, the audience of its tokens.
const Resource = "https://outlook.office365.com"

// RoleSMTPSendAsApp is the Exchange RBAC for Applications role that lets
// an application send through SMTP AUTH as the mailboxes of its scope.
const RoleSMTPSendAsApp = "Application SMTP.SendAsApp"

// Issuer checks the access tokens a fake Entra issued; *fakeentra.Server
// implements it.
type Issuer interface {
	Introspect(token string) (fakeentra.TokenClaims, bool)
}

// Mailbox is an Exchange Online mailbox.
type Mailbox struct {
	// ID is the owner's Entra object id.
	ID string
	// Address is the primary SMTP address; Aliases are the others.
	Address string
	Aliases []string
	// SMTPAuthDisabled is Set-CASMailbox -SmtpClientAuthenticationDisabled.
	SMTPAuthDisabled bool
}

// owns reports whether addr is one of m's addresses.
func (m *Mailbox) owns(addr string) bool {
	if strings.EqualFold(addr, m.Address) {
		return true
	}
	return slices.ContainsFunc(m.Aliases, func(a string) bool { return strings.EqualFold(a, addr) })
}

// Server is a fake Exchange Online tenant. Create it with New; all methods
// are safe for concurrent use.
type Server struct {
	issuer Issuer
	cert   tls.Certificate
	pool   *x509.CertPool

	mu        sync.Mutex
	now       func() time.Time
	resource  string
	mailboxes map[string]*Mailbox // lower-case address (primary and aliases) → mailbox
	// roles are the RBAC for Applications assignments: app id → role →
	// scope (lower-case mailbox addresses and ids; nil: the organisation).
	roles map[string]map[string]map[string]bool

	smtp smtpState
}

// New returns a fake tenant whose tokens issuer vouches for. It holds no
// mailbox and no role assignment yet.
func New(issuer Issuer) (*Server, error) {
	cert, pool, err := selfSigned()
	if err != nil {
		return nil, err
	}
	return &Server{
		issuer: issuer, cert: cert, pool: pool, now: time.Now, resource: Resource,
		mailboxes: map[string]*Mailbox{}, roles: map[string]map[string]map[string]bool{},
		smtp: newSMTPState(),
	}, nil
}

// CertPool returns a pool holding the certificate every listener of the
// fake presents (for 127.0.0.1, localhost and *.office365.test).
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// SetNow replaces the clock of the rate limits; nil restores time.Now.
func (s *Server) SetNow(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// SetResource changes the audience Exchange accepts (a national cloud's).
func (s *Server) SetResource(resource string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resource = strings.TrimRight(resource, "/")
}

// AddMailbox creates or replaces a mailbox.
func (s *Server) AddMailbox(m Mailbox) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mb := m
	mb.Aliases = slices.Clone(m.Aliases)
	for _, a := range append([]string{m.Address}, m.Aliases...) {
		s.mailboxes[strings.ToLower(a)] = &mb
	}
}

// SetSMTPAuthDisabled is Set-CASMailbox -SmtpClientAuthenticationDisabled
// for the mailbox with address addr.
func (s *Server) SetSMTPAuthDisabled(addr string, disabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.mailboxes[strings.ToLower(addr)]; m != nil {
		m.SMTPAuthDisabled = disabled
	}
}

// AssignRole is New-ManagementRoleAssignment -App appID -Role role
// -CustomResourceScope: the application may act as the mailboxes of
// scope, given by address or object id; a nil scope is the whole
// organisation. A second assignment of the same role replaces the first.
func (s *Server) AssignRole(appID, role string, scope []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	app := strings.ToLower(appID)
	if s.roles[app] == nil {
		s.roles[app] = map[string]map[string]bool{}
	}
	var set map[string]bool
	if scope != nil {
		set = map[string]bool{}
		for _, m := range scope {
			set[strings.ToLower(m)] = true
		}
	}
	s.roles[app][strings.ToLower(role)] = set
}

// RemoveRole removes the application's assignment of role.
func (s *Server) RemoveRole(appID, role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.roles[strings.ToLower(appID)], strings.ToLower(role))
}

// TokenError is why Exchange refused a token; each protocol words it its
// own way (SMTP: 535 5.7.3 Authentication unsuccessful).
type TokenError struct{ Reason string }

func (e *TokenError) Error() string { return "fakeexchange: token refused: " + e.Reason }

// CheckToken checks an access token as Exchange Online does for every
// protocol: issued by the tenant's Entra, not expired, for Exchange's
// audience. It returns the token's claims, or a *TokenError.
func (s *Server) CheckToken(token string) (fakeentra.TokenClaims, error) {
	c, ok := s.issuer.Introspect(token)
	s.mu.Lock()
	resource := s.resource
	s.mu.Unlock()
	switch {
	case !ok:
		return c, &TokenError{"signature or issuer not valid"}
	case c.Expired:
		return c, &TokenError{"token expired"}
	case c.Revoked:
		return c, &TokenError{"token revoked"}
	case !strings.EqualFold(strings.TrimRight(c.Audience, "/"), resource) && !strings.EqualFold(c.Audience, exchangeAppID):
		return c, &TokenError{"audience " + c.Audience + " is not " + resource}
	case !strings.EqualFold(c.TenantID, fakeentra.TenantID):
		return c, &TokenError{"token of another tenant"}
	}
	return c, nil
}

// Authorize checks that the application of claims holds role on a scope
// that contains the mailbox with address user, and returns that mailbox.
// It returns a *TokenError otherwise (an unknown mailbox included, as
// Exchange does not tell them apart).
func (s *Server) Authorize(claims fakeentra.TokenClaims, role, user string) (Mailbox, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mailboxes[strings.ToLower(user)]
	if m == nil {
		return Mailbox{}, &TokenError{"no such mailbox"}
	}
	scope, ok := s.roles[strings.ToLower(claims.AppID)][strings.ToLower(role)]
	if !ok {
		return Mailbox{}, &TokenError{"the application holds no " + role + " role assignment"}
	}
	if scope != nil && !scope[strings.ToLower(m.ID)] && !scope[strings.ToLower(m.Address)] {
		return Mailbox{}, &TokenError{"the mailbox is outside the role assignment's management scope"}
	}
	return *m, nil
}

// mailbox returns the mailbox of address addr, if any.
func (s *Server) mailbox(addr string) (Mailbox, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mailboxes[strings.ToLower(addr)]
	if m == nil {
		return Mailbox{}, false
	}
	return *m, true
}

// selfSigned makes the fake's TLS certificate.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("fakeexchange: key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "outlook.office365.test"},
		DNSNames:     []string{"localhost", "smtp.office365.test", "outlook.office365.test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("fakeexchange: certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("fakeexchange: certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

// tlsConfig is what every listener of the fake presents: TLS 1.2 or later.
func (s *Server) tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{s.cert}}
}
