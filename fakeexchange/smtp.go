package fakeexchange

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/apppass/apppass/xoauth2"
)

// Exchange Online's SMTP defaults (PLATFORM.md).
const (
	// DefaultMaxMessageBytes is the default send limit, 35 MiB.
	DefaultMaxMessageBytes = 35 << 20
	// DefaultMaxConnections is the concurrent connections per mailbox.
	DefaultMaxConnections = 3
	// DefaultMessagesPerMinute is the submissions per mailbox and minute.
	DefaultMessagesPerMinute = 30
	// maxRecipients is Exchange's per-message recipient limit.
	maxRecipients = 500
)

// SMTPMessage is a message the SMTP listener accepted, with its envelope.
type SMTPMessage struct {
	// MailboxID and Mailbox are the object id and primary address of the
	// mailbox the client signed in as (XOAUTH2 user=).
	MailboxID, Mailbox string
	// From and To are the envelope: MAIL FROM and every RCPT TO, in order.
	From string
	To   []string
	// Data is the message byte for byte as DATA carried it (dot-unstuffed),
	// nil when bodies are discarded ([Server.DiscardBodies]).
	Data []byte
	// Size and SHA256 describe Data, also when it is discarded.
	Size   int64
	SHA256 [32]byte
	// At is when it was accepted, by the fake's clock.
	At time.Time
}

// Stage is the point of an SMTP session where a fault applies.
type Stage string

// Stages a fault can be injected at.
const (
	StageAuth Stage = "auth" // the answer to AUTH XOAUTH2
	StageMail Stage = "mail" // MAIL FROM
	StageRcpt Stage = "rcpt" // RCPT TO
	StageData Stage = "data" // the answer after the message's final dot
)

// Fault is an injected answer: Code (4xx or 5xx) with EnhancedCode and
// Message instead of the usual one, or, with DropAfter, a dropped
// connection.
type Fault struct {
	Code         int
	EnhancedCode [3]int
	Message      string
	// DropAfter, at StageData, closes the connection once this many bytes
	// of the message have been read, without any answer.
	DropAfter int64
	// Times is how many sessions the fault applies to; 0 means 1.
	Times int
}

// Throttled is the fault Exchange answers a busy mailbox with.
var Throttled = Fault{Code: 432, EnhancedCode: [3]int{4, 3, 2}, Message: "STOREDRV.ClientSubmit; sender thread limit exceeded"}

// SMTPCounts are what the SMTP listener answered, for tests that must
// show that a client stayed within the limits.
type SMTPCounts struct {
	Sessions, Auths, AuthRefused int
	// ConnectionLimited and RateLimited count 432 4.3.2 and 421 4.7.66.
	ConnectionLimited, RateLimited int
	// Dropped counts connections closed mid-DATA by a fault.
	Dropped int
	// PeakConnections is the most authenticated connections any one
	// mailbox held at once.
	PeakConnections int
}

// smtpState is the SMTP side of the fake; Server.mu guards it.
type smtpState struct {
	srv           *smtp.Server
	ln            net.Listener
	maxBytes      int64
	maxConns      int
	ratePerMinute int
	rateWindow    time.Duration
	discard       bool
	conns         map[string]int         // mailbox id → authenticated connections
	sent          map[string][]time.Time // mailbox id → acceptance times within the window
	faults        map[Stage][]Fault
	messages      []SMTPMessage
	counts        SMTPCounts
}

func newSMTPState() smtpState {
	return smtpState{
		maxBytes: DefaultMaxMessageBytes, maxConns: DefaultMaxConnections,
		ratePerMinute: DefaultMessagesPerMinute, rateWindow: time.Minute,
		conns: map[string]int{}, sent: map[string][]time.Time{}, faults: map[Stage][]Fault{},
	}
}

// StartSMTP listens on a free port of 127.0.0.1 and serves SMTP
// submission there (STARTTLS, then AUTH XOAUTH2) until Close.
func (s *Server) StartSMTP() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("fakeexchange: listen: %w", err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSMTPSession))
	srv.Domain = "SN4PR0201CA0001.outlook.office365.test"
	srv.TLSConfig = s.tlsConfig()
	srv.MaxRecipients = maxRecipients
	srv.MaxLineLength = 64 << 10 // AUTH XOAUTH2 carries a token of a few kilobytes
	srv.ReadTimeout = 10 * time.Minute
	srv.WriteTimeout = time.Minute
	s.mu.Lock()
	srv.MaxMessageBytes = s.smtp.maxBytes
	s.smtp.srv, s.smtp.ln = srv, ln
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }() // returns once Close closes the listener
	return nil
}

// SMTPAddr returns host:port of the SMTP listener.
func (s *Server) SMTPAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.smtp.ln == nil {
		return ""
	}
	return s.smtp.ln.Addr().String()
}

// closeSMTP stops the SMTP listener and its connections.
func (s *Server) closeSMTP() {
	s.mu.Lock()
	srv := s.smtp.srv
	s.smtp.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// SetMaxMessageBytes changes the send limit (Exchange allows up to
// 150 MB); it applies to listeners started afterwards.
func (s *Server) SetMaxMessageBytes(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.smtp.maxBytes = n
}

// SetSMTPLimits changes the per-mailbox limits: concurrent connections,
// and messages per window (Exchange: 3, and 30 a minute). Tests shorten
// the window rather than wait a minute.
func (s *Server) SetSMTPLimits(connections, messages int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.smtp.maxConns, s.smtp.ratePerMinute, s.smtp.rateWindow = connections, messages, window
}

// DiscardBodies keeps only the size and SHA-256 of messages accepted from
// now on, so that benchmarks measure the client's memory, not the fake's.
func (s *Server) DiscardBodies(discard bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.smtp.discard = discard
}

// InjectSMTP queues f for the next sessions that reach stage.
func (s *Server) InjectSMTP(stage Stage, f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.smtp.faults[stage] = append(s.smtp.faults[stage], f)
}

// ClearSMTPFaults drops every queued fault.
func (s *Server) ClearSMTPFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.smtp.faults)
}

// SMTPMessages returns the messages the SMTP listener accepted so far, in order. Their byte
// slices are shared: callers must not modify them.
func (s *Server) SMTPMessages() []SMTPMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.smtp.messages)
}

// SMTPCounts returns what the SMTP listener has answered so far.
func (s *Server) SMTPCounts() SMTPCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.smtp.counts
}

// nextFault pops the fault for stage, if any.
func (s *Server) nextFault(stage Stage) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.smtp.faults[stage]
	if len(q) == 0 {
		return Fault{}, false
	}
	f := q[0]
	if q[0].Times--; q[0].Times == 0 {
		s.smtp.faults[stage] = q[1:]
	}
	return f, true
}

func (f Fault) smtpError() *smtp.SMTPError {
	return &smtp.SMTPError{Code: f.Code, EnhancedCode: smtp.EnhancedCode(f.EnhancedCode), Message: f.Message}
}

// Exchange's answers.
var (
	errAuthUnsuccessful = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 3}, Message: "Authentication unsuccessful [SN4PR0201CA0001.namprd02.prod.outlook.office365.test]"}
	errSMTPAuthDisabled = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 139}, Message: "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information."}
	errNotAuthenticated = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 57}, Message: "Client not authenticated to send mail. [SN4PR0201CA0001.namprd02.prod.outlook.office365.test]"}
	errSendAs           = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 60}, Message: "SMTP; Client does not have permissions to send as this sender"}
	errConnections      = &smtp.SMTPError{Code: 432, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "STOREDRV.ClientSubmit; sender thread limit exceeded"}
	errRate             = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 66}, Message: "Message submission rate for this client has exceeded the configured limit"}
	errTooBig           = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "Message size exceeds fixed maximum message size"}
)

// smtpSession is one client connection.
type smtpSession struct {
	s       *Server
	conn    *smtp.Conn
	mailbox *Mailbox // after AUTH
	from    string
	to      []string
}

func (s *Server) newSMTPSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.smtp.counts.Sessions++
	s.mu.Unlock()
	return &smtpSession{s: s, conn: c}, nil
}

// AuthMechanisms offers XOAUTH2 only (go-smtp offers it only after TLS).
func (ss *smtpSession) AuthMechanisms() []string { return []string{xoauth2.Mechanism} }

// Auth starts AUTH XOAUTH2.
func (ss *smtpSession) Auth(mech string) (sasl.Server, error) {
	if !strings.EqualFold(mech, xoauth2.Mechanism) {
		return nil, &smtp.SMTPError{Code: 504, EnhancedCode: smtp.EnhancedCode{5, 7, 4}, Message: "Unrecognized authentication type"}
	}
	return xoauth2.NewServer(ss.authenticate), nil
}

// authenticate checks the token and the mailbox, then counts the
// connection against the mailbox's limit.
func (ss *smtpSession) authenticate(user, token string) error {
	s := ss.s
	if f, ok := s.nextFault(StageAuth); ok {
		return f.smtpError()
	}
	refuse := func(err *smtp.SMTPError) error {
		s.mu.Lock()
		s.smtp.counts.AuthRefused++
		s.mu.Unlock()
		return err
	}
	claims, err := s.CheckToken(token)
	if err != nil {
		return refuse(errAuthUnsuccessful)
	}
	m, err := s.Authorize(claims, RoleSMTPSendAsApp, user)
	if err != nil {
		return refuse(errAuthUnsuccessful)
	}
	if m.SMTPAuthDisabled {
		return refuse(errSMTPAuthDisabled)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.smtp.conns[m.ID] >= s.smtp.maxConns {
		s.smtp.counts.ConnectionLimited++
		return errConnections
	}
	s.smtp.conns[m.ID]++
	s.smtp.counts.Auths++
	s.smtp.counts.PeakConnections = max(s.smtp.counts.PeakConnections, s.smtp.conns[m.ID])
	ss.mailbox = &m
	return nil
}

// Mail checks the sender against the signed-in mailbox and the rate.
func (ss *smtpSession) Mail(from string, opts *smtp.MailOptions) error {
	s := ss.s
	if ss.mailbox == nil {
		return errNotAuthenticated
	}
	if f, ok := s.nextFault(StageMail); ok {
		return f.smtpError()
	}
	if !ss.mailbox.owns(from) {
		return errSendAs
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if opts != nil && opts.Size > s.smtp.maxBytes {
		return errTooBig
	}
	if len(s.recentLocked(ss.mailbox.ID)) >= s.smtp.ratePerMinute {
		s.smtp.counts.RateLimited++
		return errRate
	}
	ss.from = from
	return nil
}

// recentLocked returns the mailbox's acceptances within the rate window,
// dropping older ones.
func (s *Server) recentLocked(id string) []time.Time {
	cutoff := s.now().Add(-s.smtp.rateWindow)
	times := s.smtp.sent[id]
	i := 0
	for i < len(times) && !times[i].After(cutoff) {
		i++
	}
	s.smtp.sent[id] = times[i:]
	return s.smtp.sent[id]
}

// Rcpt adds a recipient; go-smtp enforces the 500 limit.
func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.mailbox == nil {
		return errNotAuthenticated
	}
	if f, ok := ss.s.nextFault(StageRcpt); ok {
		return f.smtpError()
	}
	ss.to = append(ss.to, to)
	return nil
}

// Data reads the message and records it byte for byte.
func (ss *smtpSession) Data(r io.Reader) error {
	s := ss.s
	if ss.mailbox == nil {
		return errNotAuthenticated
	}
	f, faulted := s.nextFault(StageData)
	if faulted && f.DropAfter > 0 {
		_, _ = io.CopyN(io.Discard, r, f.DropAfter)
		s.mu.Lock()
		s.smtp.counts.Dropped++
		s.mu.Unlock()
		_ = ss.conn.Conn().Close()
		return errors.New("fakeexchange: connection dropped by an injected fault")
	}
	s.mu.Lock()
	discard := s.smtp.discard
	s.mu.Unlock()
	h := sha256.New()
	var buf bytes.Buffer
	var w io.Writer = h
	if !discard {
		w = io.MultiWriter(h, &buf)
	}
	n, err := io.Copy(w, r)
	if err != nil {
		if errors.Is(err, smtp.ErrDataTooLarge) {
			return errTooBig
		}
		return err
	}
	if faulted {
		return f.smtpError()
	}
	ss.record(n, h, buf.Bytes(), discard)
	return nil
}

// record files an accepted message.
func (ss *smtpSession) record(n int64, h hash.Hash, data []byte, discard bool) {
	s := ss.s
	m := SMTPMessage{MailboxID: ss.mailbox.ID, Mailbox: ss.mailbox.Address, From: ss.from, To: slices.Clone(ss.to), Size: n}
	copy(m.SHA256[:], h.Sum(nil))
	if !discard {
		m.Data = data
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m.At = s.now()
	s.recentLocked(ss.mailbox.ID)
	s.smtp.sent[ss.mailbox.ID] = append(s.smtp.sent[ss.mailbox.ID], m.At)
	s.smtp.messages = append(s.smtp.messages, m)
}

// Reset forgets the current transaction.
func (ss *smtpSession) Reset() { ss.from, ss.to = "", nil }

// Logout releases the connection's place in the mailbox's limit.
func (ss *smtpSession) Logout() error {
	if ss.mailbox != nil {
		ss.s.mu.Lock()
		ss.s.smtp.conns[ss.mailbox.ID]--
		ss.s.mu.Unlock()
		ss.mailbox = nil
	}
	return nil
}
