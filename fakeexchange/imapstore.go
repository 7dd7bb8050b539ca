// Package fakeexchange is a stand-in for Exchange Online's mail protocols,
// for apppass's tests and demo: IMAP (go-imap v2's imapserver over its
// in-memory imapmemserver) and POP3 over the same mailboxes, taking
// app-only OAuth tokens through SASL XOAUTH2 only, and checking them as
// Exchange does: the token's audience and role, the mailbox's
// ImapEnabled/PopEnabled, the FullAccess grant to apppass's principal, 20
// sessions per mailbox and protocol, and the session ending when the token
// expires.
package fakeexchange

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// StoreOptions configures a Store. Zero values take Exchange's defaults.
type StoreOptions struct {
	// TLS is the servers' certificate, for STARTTLS/STLS and for
	// listeners the caller wraps in TLS.
	TLS *tls.Config
	// Audience is the token audience accepted; default DefaultAudience.
	Audience string
	// ReadToken reads a bearer token; default ReadJWTClaims.
	ReadToken TokenReader
	// MaxSessions is how many logged-in sessions a mailbox may have per
	// protocol; default 20, as Exchange Online allows.
	MaxSessions int
	// Now is the clock tokens are checked against; default time.Now.
	Now func() time.Time
	// TokenAsPassword, for measurements only, lets IMAP LOGIN carry a
	// bearer token as its password, checked as XOAUTH2 would be: mbsync
	// has no XOAUTH2 without a SASL plugin, and the benchmark times the
	// same client straight against the fake and through apppass. Exchange
	// has no such thing.
	TokenAsPassword bool
}

// Store is a fake Exchange Online mailbox server: mailboxes with their
// IMAP/POP settings and FullAccess grants, served over IMAP (go-imap's
// imapserver over its in-memory backend, imapmemserver) and POP3 (pop3.go,
// over the same mailboxes).
type Store struct {
	audience    string
	readToken   TokenReader
	maxSessions int
	now         func() time.Time
	tls         *tls.Config
	tokenLogin  atomic.Bool
	mem         *imapmemserver.Server
	imap        *imapserver.Server
	internal    *pipeListener
	pop3ln      []net.Listener
	imapln      []net.Listener
	serving     sync.WaitGroup // Serve loops, all returned before imap.Close

	mu       sync.Mutex
	boxes    map[string]*mailbox // by lower-case address
	live     map[*imapSession]bool
	livePOP  map[*pop3Session]bool
	refusals []Refusal
	closed   bool
}

// Refusal is a login the fake refused or let in without access, with the
// reason Exchange does not tell the client.
type Refusal struct {
	Protocol, Mailbox, Reason string
}

// mailbox is one Exchange mailbox.
type mailbox struct {
	address     string
	user        *imapmemserver.User
	imapEnabled bool
	popEnabled  bool
	fullAccess  map[string]bool // app ids of principals holding FullAccess
	sessions    map[string]int  // logged-in sessions by protocol
}

// NewStore returns an empty Store.
func NewStore(opts StoreOptions) *Store {
	if opts.Audience == "" {
		opts.Audience = DefaultAudience
	}
	if opts.ReadToken == nil {
		opts.ReadToken = ReadJWTClaims
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{audience: opts.Audience, readToken: opts.ReadToken, maxSessions: opts.MaxSessions, now: opts.Now, tls: opts.TLS,
		mem: imapmemserver.New(), boxes: map[string]*mailbox{}, live: map[*imapSession]bool{}, livePOP: map[*pop3Session]bool{},
		internal: newPipeListener()}
	s.tokenLogin.Store(opts.TokenAsPassword)
	s.imap = imapserver.New(&imapserver.Options{
		NewSession: s.newIMAPSession,
		Caps:       exchangeCaps,
		TLSConfig:  opts.TLS,
		Logger:     discardLogger{},
	})
	s.serving.Add(1)
	go func() { defer s.serving.Done(); _ = s.imap.Serve(s.internal) }()
	return s
}

// AddMailbox creates the mailbox of address with an empty INBOX, IMAP and
// POP3 enabled and FullAccess granted to the principals with appIDs.
func (s *Store) AddMailbox(address string, appIDs ...string) {
	u := imapmemserver.NewUser(strings.ToLower(address), rand.Text()) // Basic auth is off: the password is never used
	for _, name := range []string{"INBOX", "Sent Items", "Drafts", "Deleted Items"} {
		_ = u.Create(name, nil) // a fresh user has none of them
	}
	box := &mailbox{address: address, user: u, imapEnabled: true, popEnabled: true, fullAccess: map[string]bool{}, sessions: map[string]int{}}
	for _, id := range appIDs {
		box.fullAccess[strings.ToLower(id)] = true
	}
	s.mem.AddUser(u)
	s.mu.Lock()
	s.boxes[strings.ToLower(address)] = box
	s.mu.Unlock()
}

// AllowTokenAsPassword turns StoreOptions.TokenAsPassword on, for a
// measurement on a Store made by someone else.
func (s *Store) AllowTokenAsPassword() { s.tokenLogin.Store(true) }

// SetFullAccess grants or takes back FullAccess on address's mailbox for
// the principal with appID (Add-/Remove-MailboxPermission).
func (s *Store) SetFullAccess(address, appID string, granted bool) {
	s.withBox(address, func(b *mailbox) { b.fullAccess[strings.ToLower(appID)] = granted })
}

// SetIMAPEnabled is Set-CASMailbox -ImapEnabled.
func (s *Store) SetIMAPEnabled(address string, on bool) {
	s.withBox(address, func(b *mailbox) { b.imapEnabled = on })
}

// SetPOPEnabled is Set-CASMailbox -PopEnabled.
func (s *Store) SetPOPEnabled(address string, on bool) {
	s.withBox(address, func(b *mailbox) { b.popEnabled = on })
}

func (s *Store) withBox(address string, f func(*mailbox)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.boxes[strings.ToLower(address)]; b != nil {
		f(b)
	}
}

// Deliver appends msg to address's INBOX, as mail arriving, and returns
// its UID.
func (s *Store) Deliver(address string, msg []byte) (uint32, error) {
	s.mu.Lock()
	b := s.boxes[strings.ToLower(address)]
	s.mu.Unlock()
	if b == nil {
		return 0, fmt.Errorf("fakeexchange: no mailbox %s", address)
	}
	r := literal{strings.NewReader(string(msg)), int64(len(msg))}
	d, err := b.user.Append("INBOX", r, &imap.AppendOptions{Time: s.now()})
	if err != nil {
		return 0, fmt.Errorf("fakeexchange: delivering to %s: %w", address, err)
	}
	return uint32(d.UID), nil
}

// Message is a message in a mailbox, as the tests see it.
type Message struct {
	UID   uint32
	Flags []string
	Size  int64
	Body  []byte // nil unless asked for
}

// Messages returns the messages in address's INBOX, read over an IMAP
// session of the fake's own.
func (s *Store) Messages(ctx context.Context, address string) ([]Message, error) {
	c, err := s.open(ctx, address)
	if err != nil {
		return nil, err
	}
	defer c.close()
	return c.messages(true)
}

// Refusals returns the logins refused so far, and those let in without
// FullAccess, with the reason.
func (s *Store) Refusals() []Refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Refusal(nil), s.refusals...)
}

func (s *Store) refused(proto, address, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusals = append(s.refusals, Refusal{proto, strings.ToLower(address), reason})
}

// Sessions returns how many logged-in sessions address has per protocol.
func (s *Store) Sessions(address string) (imapN, popN int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.boxes[strings.ToLower(address)]; b != nil {
		return b.sessions["IMAP"], b.sessions["POP3"]
	}
	return 0, 0
}

// ExpireTokens ends every logged-in session as Exchange does when its
// token expires: IMAP with "* BYE Session invalidated -
// AccessTokenExpired", POP3 by closing the connection.
func (s *Store) ExpireTokens() {
	s.mu.Lock()
	var imaps []*imapSession
	for is := range s.live {
		imaps = append(imaps, is)
	}
	var pops []*pop3Session
	for ps := range s.livePOP {
		pops = append(pops, ps)
	}
	s.mu.Unlock()
	for _, is := range imaps {
		is.expire()
	}
	for _, ps := range pops {
		ps.expire()
	}
}

// ServeIMAP serves IMAP on ln until Close; ln may be a TLS listener
// (port 993) or a plain one on which clients use STARTTLS.
func (s *Store) ServeIMAP(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errClosed
	}
	s.imapln = append(s.imapln, ln)
	s.serving.Add(1)
	s.mu.Unlock()
	defer s.serving.Done()
	return s.imap.Serve(ln)
}

// Close stops every server and ends every session.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	var pops []*pop3Session
	for ps := range s.livePOP {
		pops = append(pops, ps)
	}
	s.mu.Unlock()
	for _, ps := range pops {
		ps.conn.Close()
	}
	for _, ln := range s.listeners() {
		ln.Close()
	}
	s.internal.Close()
	// imapserver's Close must not race a Serve still starting up.
	s.serving.Wait()
	return s.imap.Close()
}

// literal is an imap.LiteralReader over a string.
type literal struct {
	*strings.Reader
	n int64
}

func (l literal) Size() int64 { return l.n }

// discardLogger drops imapserver's complaints about clients that hang up.
type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// pipeListener hands the IMAP server in-memory connections that the
// fake's own sessions (POP3, Messages) open, already logged in.
type pipeListener struct {
	conns  chan net.Conn
	done   chan struct{}
	closed sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error { l.closed.Do(func() { close(l.done) }); return nil }

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "fakeexchange" }

// internalConn is the server side of an internal connection: the session
// it opens is pre-authenticated as box.
type internalConn struct {
	net.Conn
	box *mailbox
}

// internalClient is an IMAP client on one mailbox's INBOX, over an
// internal connection.
type internalClient struct {
	c        *imapclient.Client
	validity uint32
}

var errClosed = errors.New("fakeexchange: closed")

// open starts an internal IMAP session on address's INBOX.
func (s *Store) open(ctx context.Context, address string) (*internalClient, error) {
	s.mu.Lock()
	b := s.boxes[strings.ToLower(address)]
	s.mu.Unlock()
	if b == nil {
		return nil, fmt.Errorf("fakeexchange: no mailbox %s", address)
	}
	return s.openBox(ctx, b)
}

func (s *Store) openBox(ctx context.Context, b *mailbox) (*internalClient, error) {
	client, server := net.Pipe()
	select {
	case s.internal.conns <- internalConn{server, b}:
	case <-s.internal.done:
		return nil, errClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c := imapclient.New(client, nil)
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("fakeexchange: selecting INBOX: %w", err)
	}
	return &internalClient{c: c, validity: sel.UIDValidity}, nil
}

func (ic *internalClient) close() { _ = ic.c.Close() }

// messages lists INBOX; with bodies, their full text too.
func (ic *internalClient) messages(bodies bool) ([]Message, error) {
	opts := &imap.FetchOptions{UID: true, Flags: true, RFC822Size: true}
	if bodies {
		opts.BodySection = []*imap.FetchItemBodySection{{Peek: true}}
	}
	var all imap.SeqSet
	all.AddRange(1, 0)
	bufs, err := ic.c.Fetch(all, opts).Collect()
	if err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) {
			return nil, nil // an empty mailbox has no 1:*
		}
		return nil, fmt.Errorf("fakeexchange: fetching: %w", err)
	}
	out := make([]Message, 0, len(bufs))
	for _, b := range bufs {
		m := Message{UID: uint32(b.UID), Size: b.RFC822Size}
		for _, f := range b.Flags {
			m.Flags = append(m.Flags, string(f))
		}
		if bodies && len(b.BodySection) > 0 {
			m.Body = b.BodySection[0].Bytes
		}
		out = append(out, m)
	}
	return out, nil
}
