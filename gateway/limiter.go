package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/apppass/apppass/logging"
)

// Connection limits (SPEC §10). A device that is not logged in costs the
// gateway a file descriptor, a goroutine and buffers and has proved
// nothing, so it gets little: a per-address share of the connections, a
// short time per command and in all, and a few commands and login
// attempts. A logged-in session is someone's mailbox, bounded per owner
// and protocol as Exchange bounds it.

// Limits are the connection limits; zero values take the defaults.
type Limits struct {
	// MaxConnections in all, over every listener sharing the Limiter;
	// default 1,000.
	MaxConnections int
	// MaxPerAddress connections not yet logged in per client address;
	// default 20.
	MaxPerAddress int
	// MaxPerOwner logged-in sessions per owner and protocol; default 20.
	MaxPerOwner int
	// CommandTimeout before login, per command line; default 30 s.
	CommandTimeout time.Duration
	// LoginTimeout before login, in all; default 2 min.
	LoginTimeout time.Duration
	// MaxAuthAttempts per connection; default 3.
	MaxAuthAttempts int
	// MaxCommands before login; default 20.
	MaxCommands int
	// IdleTimeout after login, between commands; default 5 min.
	IdleTimeout time.Duration
	// SessionTimeout after login, in all; default 1 h.
	SessionTimeout time.Duration
}

func (l *Limits) defaults() {
	defInt := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	defDur := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	defInt(&l.MaxConnections, 1000)
	defInt(&l.MaxPerAddress, 20)
	defInt(&l.MaxPerOwner, 20)
	defInt(&l.MaxAuthAttempts, 3)
	defInt(&l.MaxCommands, 20)
	defDur(&l.CommandTimeout, 30*time.Second)
	defDur(&l.LoginTimeout, 2*time.Minute)
	defDur(&l.IdleTimeout, 5*time.Minute)
	defDur(&l.SessionTimeout, time.Hour)
}

// Protocol names a listener's protocol; logged-in sessions are counted
// per owner and protocol.
type Protocol string

// The gateway's protocols.
const (
	ProtocolSMTP Protocol = "smtp"
	ProtocolIMAP Protocol = "imap"
	ProtocolPOP3 Protocol = "pop3"
)

// ErrTooManySessions is LoggedIn's answer when the owner has MaxPerOwner
// sessions of the protocol open already.
var ErrTooManySessions = errors.New("too many sessions for this mailbox")

// Limiter counts connections for every listener it wraps; the gateway
// has one, shared by its SMTP, IMAP and POP3 listeners, so that the cap
// in all holds across them. It is safe for concurrent use.
type Limiter struct {
	limits Limits

	mu       sync.Mutex
	total    int
	preLogin map[netip.Addr]int
	owners   map[ownerProto]int
	stats    LimiterStats
}

type ownerProto struct {
	owner string
	proto Protocol
}

// LimiterStats counts what the limiter refused.
type LimiterStats struct {
	Open, RefusedTotal, RefusedAddress, RefusedOwner, RefusedCommands, RefusedAuth int64
}

// NewLimiter returns a Limiter with limits (zero values: defaults).
func NewLimiter(limits Limits) *Limiter {
	limits.defaults()
	return &Limiter{limits: limits, preLogin: map[netip.Addr]int{}, owners: map[ownerProto]int{}}
}

// Limits returns the limits in force, defaults filled in.
func (l *Limiter) Limits() Limits { return l.limits }

// Stats returns the limiter's counters.
func (l *Limiter) Stats() LimiterStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.Open = int64(l.total)
	return s
}

// ListenOptions say how a wrapped listener refuses and what it counts.
type ListenOptions struct {
	Protocol Protocol
	// Refusal is written, on a plain listener, to a connection over a
	// cap before it is closed: "421 4.7.0 …\r\n", "* BYE …\r\n", "-ERR …\r\n".
	// An implicit-TLS listener closes such connections without a word: a
	// TLS handshake per refused connection is what a flood would want.
	Refusal string
	// TLS, when set, makes the listener implicit TLS: accepted
	// connections are wrapped in tls.Server.
	TLS *tls.Config
	// CountDeadlines counts, before login, each SetReadDeadline as a
	// command: go-smtp sets a read deadline before reading each command
	// line (and each SASL response), so this is its command count. Past
	// MaxCommands the connection gets TooManyCommands and is closed.
	CountDeadlines  bool
	TooManyCommands string
}

// Listen wraps ln: past the caps a new connection is refused; accepted
// ones are *Conn (inside a *tls.Conn on an implicit-TLS listener), each
// with a context carrying a fresh correlation id and derived from ctx.
func (l *Limiter) Listen(ctx context.Context, ln net.Listener, o ListenOptions) net.Listener {
	return &limitedListener{Listener: ln, l: l, ctx: ctx, o: o}
}

type limitedListener struct {
	net.Listener
	l   *Limiter
	ctx context.Context
	o   ListenOptions
}

// Accept returns the next connection within the caps; the others are
// refused here, so a flood never reaches the protocol server.
func (ll *limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := clientAddr(c)
		if !ll.l.admit(addr) {
			if ll.o.TLS == nil && ll.o.Refusal != "" {
				_ = c.SetWriteDeadline(time.Now().Add(time.Second))
				_, _ = io.WriteString(c, ll.o.Refusal)
			}
			_ = c.Close()
			continue
		}
		ctx, cancel := context.WithCancel(ll.ctx)
		ref := logging.NewRef()
		lc := &Conn{Conn: c, l: ll.l, o: ll.o, addr: addr, ref: ref, ctx: logging.WithRef(ctx, ref), cancel: cancel,
			start: time.Now()}
		lc.top = lc
		if ll.o.TLS != nil {
			tc := tls.Server(lc, ll.o.TLS)
			lc.top = tc
			return tc, nil
		}
		return lc, nil
	}
}

// admit counts a new connection from addr, or refuses it.
func (l *Limiter) admit(addr netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.total >= l.limits.MaxConnections:
		l.stats.RefusedTotal++
		return false
	case l.preLogin[addr] >= l.limits.MaxPerAddress:
		l.stats.RefusedAddress++
		return false
	}
	l.total++
	l.preLogin[addr]++
	return true
}

// clientAddr is c's remote IP address (unmapped), or the zero Addr.
func clientAddr(c net.Conn) netip.Addr {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		a := ta.AddrPort().Addr().Unmap()
		return a
	}
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// Conn is a connection a Limiter accepted. Get it from the protocol
// server's connection with ConnOf.
type Conn struct {
	net.Conn
	l      *Limiter
	o      ListenOptions
	addr   netip.Addr
	ref    string
	ctx    context.Context
	cancel context.CancelFunc
	start  time.Time

	mu       sync.Mutex
	top      net.Conn // what the protocol writes to (a *tls.Conn after TLS)
	owner    string   // "" until logged in
	loginAt  time.Time
	commands int
	auths    int
	closed   bool
}

// ConnOf finds the *Conn under c (through *tls.Conn and the like), or nil.
func ConnOf(c net.Conn) *Conn {
	for c != nil {
		if lc, ok := c.(*Conn); ok {
			return lc
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return nil
		}
		c = u.NetConn()
	}
	return nil
}

// Context is the connection's context: it carries the correlation id
// (logging.Ref) and ends when the connection closes.
func (c *Conn) Context() context.Context { return c.ctx }

// Ref is the connection's correlation id, the reference a device sees in
// an error and the helpdesk finds in the logs.
func (c *Conn) Ref() string { return c.ref }

// ClientAddr is the client's IP address.
func (c *Conn) ClientAddr() netip.Addr { return c.addr }

// SetTop tells the connection what the protocol now writes to (the
// *tls.Conn after STARTTLS), for Refuse and the command limit.
func (c *Conn) SetTop(top net.Conn) {
	c.mu.Lock()
	c.top = top
	c.mu.Unlock()
}

// AuthAttempt counts an authentication attempt; false past
// MaxAuthAttempts (the caller then refuses and closes).
func (c *Conn) AuthAttempt() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.auths++
	if c.auths <= c.l.limits.MaxAuthAttempts {
		return true
	}
	c.l.mu.Lock()
	c.l.stats.RefusedAuth++
	c.l.mu.Unlock()
	return false
}

// Command counts a command before login; false past MaxCommands. After
// login commands are not counted.
func (c *Conn) Command() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.owner != "" {
		return true
	}
	c.commands++
	if c.commands <= c.l.limits.MaxCommands {
		return true
	}
	c.l.mu.Lock()
	c.l.stats.RefusedCommands++
	c.l.mu.Unlock()
	return false
}

// LoggedIn moves the connection from its address's not-yet-logged-in
// share to ownerID's sessions of the listener's protocol. It returns
// ErrTooManySessions, and changes nothing, when the owner has MaxPerOwner
// of them already.
func (c *Conn) LoggedIn(ownerID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.owner != "" || c.closed {
		return nil
	}
	l := c.l
	l.mu.Lock()
	defer l.mu.Unlock()
	k := ownerProto{ownerID, c.o.Protocol}
	if l.owners[k] >= l.limits.MaxPerOwner {
		l.stats.RefusedOwner++
		return ErrTooManySessions
	}
	l.owners[k]++
	l.release(c.addr)
	c.owner, c.loginAt = ownerID, time.Now()
	return nil
}

// release forgets one not-logged-in connection of addr; l.mu held.
func (l *Limiter) release(addr netip.Addr) {
	if l.preLogin[addr] <= 1 {
		delete(l.preLogin, addr)
		return
	}
	l.preLogin[addr]--
}

// Refuse writes line to w (the protocol's view of the connection) with a
// short deadline and closes the connection.
func (c *Conn) Refuse(w io.Writer, line string) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = io.WriteString(w, line)
	_ = c.Close()
}

// SetReadDeadline clamps t to the limits: before login to the command
// and login timeouts, after it to the session timeout. Network deadlines
// are wall-clock times, so these use the wall clock. With
// CountDeadlines, it also counts a command before login.
func (c *Conn) SetReadDeadline(t time.Time) error {
	if c.o.CountDeadlines && !c.Command() {
		c.mu.Lock()
		top := c.top
		c.mu.Unlock()
		c.Refuse(top, c.o.TooManyCommands)
		return net.ErrClosed
	}
	return c.Conn.SetReadDeadline(c.clamp(t))
}

// SetDeadline clamps the read side as SetReadDeadline does.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.Conn.SetReadDeadline(c.clamp(t))
}

func (c *Conn) clamp(t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	lim := c.l.limits
	var limit time.Time
	if c.owner == "" {
		limit = time.Now().Add(lim.CommandTimeout)
		if end := c.start.Add(lim.LoginTimeout); end.Before(limit) {
			limit = end
		}
	} else {
		limit = c.loginAt.Add(lim.SessionTimeout)
	}
	if t.IsZero() || limit.Before(t) {
		return limit
	}
	return t
}

// Close closes the connection once and gives its place back.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	owner := c.owner
	c.mu.Unlock()
	c.cancel()
	l := c.l
	l.mu.Lock()
	l.total--
	if owner == "" {
		l.release(c.addr)
	} else {
		k := ownerProto{owner, c.o.Protocol}
		if l.owners[k] <= 1 {
			delete(l.owners, k)
		} else {
			l.owners[k]--
		}
	}
	l.mu.Unlock()
	return c.Conn.Close()
}
