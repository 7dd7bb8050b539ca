package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/xoauth2"
)

// ExchangeTokens gives apppass's own app-only token for Exchange Online.
// graphclient.Client implements it.
type ExchangeTokens interface {
	// ExchangeToken returns a token, cached until shortly before it
	// expires; KindUpstream when Entra gives none.
	ExchangeToken(ctx context.Context) (domain.Secret, error)
}

// ExchangeTokenRenewer is an ExchangeTokens that can replace a token
// Exchange refused; graphclient.Client is one. With it, a login Exchange
// refuses is tried once more with a new token; without it, the refusal
// stands until the cached token expires.
type ExchangeTokenRenewer interface {
	// RenewExchangeToken returns a token in place of refused, shared by
	// every session refused with it; false when refused stands (it was
	// itself new).
	RenewExchangeToken(ctx context.Context, refused domain.Secret) (domain.Secret, bool, error)
}

// renewExchangeToken returns a token to try in place of refused, or false
// when there is none to try: the refusal stands. An error (KindUpstream)
// says Entra gave no new token, so that the refusal is not final.
func renewExchangeToken(ctx context.Context, tokens ExchangeTokens, refused domain.Secret, log *slog.Logger, protocol string) (domain.Secret, bool, error) {
	r, ok := tokens.(ExchangeTokenRenewer)
	if !ok {
		return domain.Secret{}, false, nil
	}
	tok, ok, err := r.RenewExchangeToken(ctx, refused)
	if err != nil {
		log.Warn("gateway: Exchange refused apppass's token and Entra gave no new one", "protocol", protocol, "err", err)
		return domain.Secret{}, false, err
	}
	if ok {
		log.Info("gateway: Exchange refused apppass's token; trying once with a new one", "protocol", protocol)
	}
	return tok, ok, nil
}

// SMTPUpstreamOptions configures an SMTPUpstream. Zero values take
// Exchange Online's figures.
type SMTPUpstreamOptions struct {
	// Addr is Exchange's submission endpoint, host:port
	// (APPPASS_EXCHANGE_SMTP, smtp.office365.com:587).
	Addr string
	// TLS is the client TLS configuration; its ServerName defaults to
	// Addr's host and its RootCAs to the system's. The certificate is
	// always verified, TLS 1.2 at least.
	TLS *tls.Config
	// Tokens gives the XOAUTH2 bearer token.
	Tokens ExchangeTokens
	// Hostname is the name in EHLO.
	Hostname string
	// MaxConnections per mailbox (Exchange: 3) and MaxMessages per
	// Window (Exchange: 30 a minute): deliveries beyond wait their turn
	// within their context's deadline.
	MaxConnections int
	MaxMessages    int
	Window         time.Duration
	// IdleTimeout is how long a connection stays open for the next
	// message of the same mailbox; default 10 s, negative: never reused.
	IdleTimeout time.Duration
	// MaxAge bounds a connection's reuse; default 5 min (Exchange ends a
	// session when its token expires).
	MaxAge time.Duration
	// Dialer opens connections; nil: a net.Dialer with a 30 s timeout.
	Dialer interface {
		DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	}
	Now    func() time.Time
	Logger *slog.Logger
}

// SMTPUpstream relays messages to Exchange Online's SMTP submission with
// OAuth (SPEC §14): STARTTLS with the certificate verified, AUTH XOAUTH2
// as the owner's primary address with apppass's token, the envelope
// exactly as the device gave it, and DATA streamed byte for byte.
type SMTPUpstream struct {
	opts SMTPUpstreamOptions
	mu   sync.Mutex
	box  map[string]*mailboxLane // by lower-case primary address
}

// NewSMTPUpstream returns an SMTPUpstream; it connects on first use.
func NewSMTPUpstream(opts SMTPUpstreamOptions) (*SMTPUpstream, error) {
	host, _, err := net.SplitHostPort(opts.Addr)
	if err != nil || host == "" {
		return nil, fmt.Errorf("smtp upstream: address %q is not host:port", opts.Addr)
	}
	if opts.Tokens == nil {
		return nil, errors.New("smtp upstream: a token source is required")
	}
	tc := &tls.Config{}
	if opts.TLS != nil {
		tc = opts.TLS.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	tc.MinVersion = max(tc.MinVersion, tls.VersionTLS12)
	tc.InsecureSkipVerify = false
	opts.TLS = tc
	if opts.Hostname == "" {
		opts.Hostname = "localhost"
	}
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = 3
	}
	if opts.MaxMessages <= 0 {
		opts.MaxMessages = 30
	}
	if opts.Window <= 0 {
		opts.Window = time.Minute
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = 10 * time.Second
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 5 * time.Minute
	}
	if opts.Dialer == nil {
		opts.Dialer = &net.Dialer{Timeout: 30 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &SMTPUpstream{opts: opts, box: map[string]*mailboxLane{}}, nil
}

// Close closes the idle connections.
func (u *SMTPUpstream) Close() {
	u.mu.Lock()
	lanes := make([]*mailboxLane, 0, len(u.box))
	for _, l := range u.box {
		lanes = append(lanes, l)
	}
	u.mu.Unlock()
	for _, l := range lanes {
		l.closeIdle()
	}
}

// primaryAddress is the owner's primary SMTP address, Exchange's user=.
func primaryAddress(m domain.Mailbox) string {
	if m.Mail != "" {
		return m.Mail
	}
	return m.UserPrincipalName
}

// Deliver implements Upstream. Before the first byte of msg is read,
// Exchange's 4xx answers and lost connections are retried within ctx's
// deadline; after, a failure is final: 4xx and lost connections are
// KindUpstream (451: the device retries, and Exchange has nothing), a
// connection lost after the message's end was sent is an Unconfirmed
// delivery.
func (u *SMTPUpstream) Deliver(ctx context.Context, env Envelope, msg io.Reader) (Delivery, error) {
	user := primaryAddress(env.Owner)
	lane := u.lane(user)
	booking, err := lane.reserve(ctx, u.opts.Now)
	if err != nil {
		return Delivery{}, err
	}
	defer func() { lane.settle(booking, u.opts.Now()) }()
	wait := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		c, err := lane.take(ctx)
		if err != nil {
			return Delivery{}, err
		}
		if c == nil {
			c, err = u.dial(ctx, user)
			if err != nil {
				lane.release(nil)
				if retryable(err) && attempt < 4 && sleepWithin(ctx, wait) {
					wait *= 2
					continue
				}
				return Delivery{}, err
			}
		}
		d, err, started := u.transact(ctx, c, env, msg)
		if err == nil {
			lane.release(c)
			return d, nil
		}
		if c.usable() {
			lane.release(c)
		} else {
			c.close()
			lane.release(nil)
		}
		if !started && retryable(err) && attempt < 4 && sleepWithin(ctx, wait) {
			wait *= 2
			continue
		}
		return Delivery{}, err
	}
}

// retryable reports whether a failure before DATA may pass on retry.
func retryable(err error) bool {
	var ee *ExchangeError
	if errors.As(err, &ee) {
		return ee.Temporary()
	}
	return domain.KindOf(err) == domain.KindUpstream
}

// sleepWithin waits d unless that would pass ctx's deadline.
func sleepWithin(ctx context.Context, d time.Duration) bool {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d+time.Second {
		return false
	}
	return domain.Sleep(ctx, d) == nil
}

// upConn is one authenticated connection to Exchange.
type upConn struct {
	c       *smtp.Client
	raw     *watchedConn
	opened  time.Time
	broken  bool // a command failed on the wire: not reusable
	expires *time.Timer
}

func (c *upConn) usable() bool { return !c.broken && !c.raw.failed() }
func (c *upConn) close()       { _ = c.c.Close() }

// dial opens, secures and authenticates a connection for user. When
// Exchange refuses the cached token, it tries once more on a new
// connection with a new one.
func (u *SMTPUpstream) dial(ctx context.Context, user string) (*upConn, error) {
	tok, err := u.opts.Tokens.ExchangeToken(ctx)
	if err != nil {
		return nil, err
	}
	c, err := u.dialWith(ctx, user, tok)
	if !tokenRefused(err) {
		return c, err
	}
	fresh, ok, rerr := renewExchangeToken(ctx, u.opts.Tokens, tok, u.opts.Logger, "smtp")
	if rerr != nil {
		return nil, rerr // 451: a new token may yet pass
	}
	if !ok {
		return nil, err
	}
	return u.dialWith(ctx, user, fresh)
}

// tokenRefused reports whether err is Exchange's refusal of a token
// ("535 5.7.3 Authentication unsuccessful"), which a new token may pass;
// its other AUTH answers (5.7.139: SMTP AUTH off for the mailbox) do not
// depend on the token.
func tokenRefused(err error) bool {
	var ee *ExchangeError
	return errors.As(err, &ee) && ee.Stage == "auth" && ee.Reply.Code == 535 && ee.Reply.EnhancedCode == smtp.EnhancedCode{5, 7, 3}
}

// dialWith is dial with the token tok.
func (u *SMTPUpstream) dialWith(ctx context.Context, user string, tok domain.Secret) (*upConn, error) {
	nc, err := u.opts.Dialer.DialContext(ctx, "tcp", u.opts.Addr)
	if err != nil {
		return nil, domain.Wrap(domain.KindUpstream, fmt.Errorf("smtp upstream: connect: %w", err), "Exchange Online could not be reached.")
	}
	raw := &watchedConn{Conn: nc}
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl) // lifted once the connection is set up
	}
	c, err := smtp.NewClientStartTLS(raw, u.opts.TLS)
	if err != nil {
		nc.Close()
		return nil, upstreamFailure("connect", err)
	}
	c.CommandTimeout = 2 * time.Minute
	c.SubmissionTimeout = 10 * time.Minute
	if err := c.Hello(u.opts.Hostname); err != nil {
		c.Close()
		return nil, upstreamFailure("connect", err)
	}
	if err := c.Auth(xoauth2.NewClient(user, tok.Reveal())); err != nil {
		c.Close()
		return nil, upstreamFailure("auth", err)
	}
	_ = raw.SetDeadline(time.Time{})
	return &upConn{c: c, raw: raw, opened: u.opts.Now()}, nil
}

// transact carries out one mail transaction on c. started reports
// whether msg's reading began (then nothing may be retried).
func (u *SMTPUpstream) transact(ctx context.Context, c *upConn, env Envelope, msg io.Reader) (d Delivery, err error, started bool) {
	// go-smtp's client knows no context: its per-command timeouts keep
	// it within the device's transaction time instead.
	c.c.CommandTimeout, c.c.SubmissionTimeout = 2*time.Minute, 10*time.Minute
	if dl, ok := ctx.Deadline(); ok {
		left := max(time.Until(dl), time.Second)
		c.c.CommandTimeout, c.c.SubmissionTimeout = min(c.c.CommandTimeout, left), min(c.c.SubmissionTimeout, left)
	}
	fail := func(stage string, err error) (Delivery, error, bool) {
		c.broken = c.broken || !isSMTPAnswer(err)
		return Delivery{}, upstreamFailure(stage, err), false
	}
	if err := c.c.Mail(env.From, nil); err != nil {
		return fail("mail", err)
	}
	for _, to := range env.To {
		if err := c.c.Rcpt(to, nil); err != nil {
			_ = c.c.Reset()
			return fail("rcpt", err)
		}
	}
	w, err := c.c.Data()
	if err != nil {
		return fail("data", err)
	}
	dr := &deviceReader{r: msg}
	if _, err := io.Copy(w, dr); err != nil {
		// Never send the final dot of a message not read whole: closing
		// the connection makes Exchange drop the transaction.
		c.broken = true
		var de *deviceReadError
		if errors.As(err, &de) {
			return Delivery{}, err, true
		}
		return Delivery{}, domain.Wrap(domain.KindUpstream, fmt.Errorf("smtp upstream: data: %w", err), "The connection to Exchange Online was lost while sending."), true
	}
	resp, err := w.CloseWithResponse()
	if err == nil {
		return Delivery{Ref: queueRef(resp.StatusText)}, nil, true
	}
	if isSMTPAnswer(err) {
		return Delivery{}, upstreamFailure("data", err), true
	}
	c.broken = true
	if c.raw.writeFailed() {
		// The final dot never left: Exchange has no message.
		return Delivery{}, domain.Wrap(domain.KindUpstream, fmt.Errorf("smtp upstream: data: %w", err), "The connection to Exchange Online was lost while sending."), true
	}
	// The whole message and its end went out and the answer was lost.
	u.opts.Logger.Warn("smtp upstream: answer to DATA lost; the message may have been sent", "err", err)
	return Delivery{Unconfirmed: true}, nil, true
}

// queueRef keeps the queue id Exchange puts in its 250 answer, for logs.
func queueRef(status string) string {
	if i := strings.IndexByte(status, '<'); i >= 0 {
		if j := strings.IndexByte(status[i:], '>'); j > 0 {
			return clip(status[i+1:i+j], 200)
		}
	}
	return ""
}

// isSMTPAnswer reports whether err is an SMTP answer (the session goes on).
func isSMTPAnswer(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se)
}

// upstreamFailure turns a failed command into an *ExchangeError (an
// answer) or a KindUpstream error (the connection failed).
func upstreamFailure(stage string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return &ExchangeError{Stage: stage, Reply: se}
	}
	return domain.Wrap(domain.KindUpstream, fmt.Errorf("smtp upstream: %s: %w", stage, err), "Exchange Online could not be reached.")
}

// watchedConn remembers whether a write failed: after a lost connection,
// that tells a message whose end never left from one whose answer was
// lost.
type watchedConn struct {
	net.Conn
	mu             sync.Mutex
	wErr, anyError bool
}

func (w *watchedConn) Write(p []byte) (int, error) {
	n, err := w.Conn.Write(p)
	if err != nil {
		w.mu.Lock()
		w.wErr, w.anyError = true, true
		w.mu.Unlock()
	}
	return n, err
}

func (w *watchedConn) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	if err != nil {
		w.mu.Lock()
		w.anyError = true
		w.mu.Unlock()
	}
	return n, err
}

func (w *watchedConn) writeFailed() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.wErr }
func (w *watchedConn) failed() bool      { w.mu.Lock(); defer w.mu.Unlock(); return w.anyError }
