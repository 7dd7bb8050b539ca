// Package fakeentra is an in-process fake of the Microsoft Entra ID token
// endpoint and of the small part of Microsoft Graph that apppass uses, served
// over TLS by an httptest server.
//
// It speaks the real wire format, so the real azidentity.ClientSecretCredential
// (MSAL underneath) and the real msgraph-sdk-go request adapter (kiota) can talk
// to it unchanged: point the credential's cloud.Configuration
// ActiveDirectoryAuthorityHost at [Server.AuthorityHost] with
// DisableInstanceDiscovery set, point the Graph adapter's base URL at
// [Server.GraphBaseURL], and use [Server.Client] (or [Server.CertPool]) as the
// transport. With msgraph-sdk-go, give the kiota authentication provider
// "127.0.0.1" as an allowed host (it attaches no token to other hosts than
// Graph's by default, and the fake then answers 401); its default scope,
// URL()+"/.default", is accepted like https://graph.microsoft.com/.default.
//
// Served routes (see route.go): OIDC discovery and the v2.0 token endpoint of
// [TenantID]; GET /v1.0/users/{id|upn}; GET /v1.0/users?$filter=…;
// GET /v1.0/users/delta; POST /v1.0/users/{id}/checkMemberGroups; GET and
// POST /v1.0/applications; GET /v1.0/applications/{id}/owners;
// POST /v1.0/applications/{id}/addPassword and …/removePassword;
// POST /v1.0/servicePrincipals; GET /v1.0/policies/defaultAppManagementPolicy
// (policy.go); GET /beta/reports/appCredentialSignInActivities;
// and for the mail gateway POST /v1.0/users/{id}/sendMail (MIME), POST
// /v1.0/users/{id}/messages (a draft from MIME, needing Mail.ReadWrite),
// POST …/messages/{mid}/attachments (a fileAttachment),
// …/attachments/createUploadSession (3 MB to 150 MB), PUT to the upload URL,
// …/messages/{mid}/send and DELETE /v1.0/users/{id}/messages/{mid} (see
// mail.go, uploads.go; [Server.SentMessages], [Server.Mailbox] and
// [Server.Drafts] show what arrived and what was left behind).
// Anything else answers 400 and is recorded as op "unknown".
//
// Where apppass must cope with how Entra really behaves, the fake does the
// same: the users delta query pages to a deltaLink that later returns only
// changes, removed users as "@removed", and syncStateNotFound for an
// expired token (delta.go); an application lists its creator's service
// principal ([ServicePrincipalID]) as owner, and look-alikes another owner
// (owners.go); a service principal cannot be created for a while after its
// application ([Server.SetServicePrincipalLag]); an after-effect fault on
// POST /applications creates it and still fails, so a retry makes a second
// one; a UPN Graph cannot take in a path answers 400
// ([Server.RejectUserPath]); the beta sign-in report can fail in more ways
// than a missing licence ([Server.FailSignInActivity]).
//
// Tests shape the directory directly ([Server.AddUser], [Server.Seed], …),
// inspect what happened ([Server.Calls], [Server.Applications], …) and make
// the service misbehave ([Server.Inject], [Server.SetLatency],
// [Server.SetReplicationLag], [Server.SetNewAppLag], [Server.SetObjectQuota],
// [Server.SetServicePrincipalLag], [Server.ExpireDeltaLinks], …).
//
// All state sits behind one mutex, which is never held while sleeping or while
// writing a response to the network. Listing pages costs O(page) thanks to
// per-tag indexes and sequence-number skip tokens, so a tenant of 100,000
// applications is cheap to serve.
package fakeentra

import (
	"crypto/x509"
	"net/http"
	"sync"
	"time"

	"github.com/apppass/apppass/internal/localserver"
)

const (
	// TenantID is the directory (tenant) ID that the fake serves; discovery and
	// token requests for any other tenant fail.
	TenantID = "6a1f3c52-8d4e-4b7a-9c2f-0e5d8b3a7f14"
	// ClientID is the application (client) ID of apppass's own app
	// registration, accepted by the token endpoint with [ClientSecret].
	ClientID = "3e9b7d21-5c4a-4f86-b1d0-7a2e6c9f8b35"
	// ClientSecret is the client secret accepted for [ClientID].
	ClientSecret = "fake-client-secret"
)

// Server is a running fake of Entra ID and Microsoft Graph. Create it with
// [New] in tests, or [Start] elsewhere; all methods are safe for concurrent
// use.
type Server struct {
	ts        *localserver.Server
	tb        TB
	closed    chan struct{}
	closeOnce sync.Once

	mu  sync.Mutex
	now func() time.Time
	// noClaims: the token endpoint refuses claims challenges
	// (RefuseClaimsChallenges).
	noClaims bool

	tokens map[string]tokenInfo

	users      []*user
	userByID   map[string]*user
	userByUPN  map[string]*user
	userByMail map[string][]*user
	groups     map[string]map[string]struct{}
	seedUsers  int
	userSeq    int // next user.seq

	// users delta (delta.go)
	changeSeq          int
	tombstones         map[string]*tombstone // lower-case ID → removed user
	deltaGen           int
	deltaExpiredStatus int

	apps       []*app
	appByID    map[string]*app
	appByAppID map[string]*app
	appsByTag  map[string][]*app
	keyIndex   map[string]*app // keyId → app; built lazily, nil until first needed
	secrets    map[string]secretRef
	issued     []string
	sps        map[string]*servicePrincipal
	spCount    int

	signInEnabled bool
	signInFailure string          // FailSignInActivity
	rejectedPaths map[string]bool // RejectUserPath
	signIns       []*signInEntry
	signInByKey   map[string]*signInEntry
	signInByApp   map[string][]*signInEntry

	faults         map[string][]Fault
	latency        map[string]time.Duration
	replLag        time.Duration
	newAppLag      time.Duration
	spLag          time.Duration   // service principal replication window
	spLagForbidden bool            // answer 403 instead of 400 during it
	objectQuota    int             // < 0: no quota
	revoked        map[string]bool // permissions taken from apppass's identity, lower case
	secretLag      time.Duration
	honourRemoved  bool             // SetHonourRemovedSecrets
	ghosts         map[string]ghost // removed secrets the token service still takes
	// maxPasswordLifetime is the tenant policy's cap (policy.go); 0: none.
	maxPasswordLifetime time.Duration

	mail mailState

	calls    []Call
	counts   map[string]int
	inFlight map[string]int
}

// New starts a fake on a loopback TLS listener and registers its shutdown
// with tb.Cleanup.
func New(tb TB) *Server {
	tb.Helper()
	s, err := start(tb)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// newServer builds a fake that is not listening yet; tb may be nil.
func newServer(tb TB) *Server {
	return &Server{
		tb:          tb,
		closed:      make(chan struct{}),
		now:         time.Now,
		tokens:      map[string]tokenInfo{},
		userByID:    map[string]*user{},
		userByUPN:   map[string]*user{},
		userByMail:  map[string][]*user{},
		groups:      map[string]map[string]struct{}{},
		tombstones:  map[string]*tombstone{},
		appByID:     map[string]*app{},
		appByAppID:  map[string]*app{},
		appsByTag:   map[string][]*app{},
		secrets:     map[string]secretRef{},
		sps:         map[string]*servicePrincipal{},
		signInByKey: map[string]*signInEntry{},
		signInByApp: map[string][]*signInEntry{},
		faults:      map[string][]Fault{},
		latency:     map[string]time.Duration{},
		objectQuota: -1,
		counts:      map[string]int{},
		inFlight:    map[string]int{},
	}
}

// Close shuts the server down, cutting short any injected latency. It is
// called automatically at test cleanup; calling it again is harmless.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.ts.Close()
	})
}

// TB is the part of testing.TB the fake reports to; *testing.T and
// *testing.B satisfy it. Declaring it here keeps package testing out of
// the apppass binary, which runs the fake for `apppass demo`.
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Cleanup(func())
}

// URL returns the server's base URL, https://127.0.0.1:port.
func (s *Server) URL() string { return s.ts.URL }

// AuthorityHost returns the value for azcore's
// cloud.Configuration.ActiveDirectoryAuthorityHost: URL() plus "/".
func (s *Server) AuthorityHost() string { return s.ts.URL + "/" }

// GraphBaseURL returns the Graph v1.0 base URL, URL() plus "/v1.0".
func (s *Server) GraphBaseURL() string { return s.ts.URL + "/v1.0" }

// Client returns an HTTP client that trusts the fake's certificate. It is
// shared; the server closes its idle connections on shutdown.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// CertPool returns a pool holding only the fake's self-signed certificate.
func (s *Server) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(s.ts.Certificate())
	return pool
}

// SetNow replaces the clock used for credential start times, lags, call
// timestamps and token claims; nil restores time.Now. The function must not
// call back into the Server.
func (s *Server) SetNow(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}

// clock reads the current fake time; it must be called without s.mu held.
func (s *Server) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// sleep waits d, or less when the request is cancelled or the server closes.
func (s *Server) sleep(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	case <-s.closed:
	}
}
