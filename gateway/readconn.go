package gateway

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"time"
)

// The device's side of a reading session before login, shared by the
// IMAP and POP3 listeners (imap.go, pop3.go); what they say is given to
// it in each protocol's own words.

// readConn is one device's IMAP or POP3 connection before login.
type readConn struct {
	g   *Gateway
	c   net.Conn
	r   *bufio.Reader
	lc  *Conn // the limiter's view: client address, counts
	tls bool
}

func newReadConn(g *Gateway, c net.Conn, lc *Conn) readConn {
	_, isTLS := c.(*tls.Conn)
	return readConn{g: g, c: c, r: bufio.NewReaderSize(c, 1024), lc: lc, tls: isTLS}
}

// send writes lines and CRLF; false when the device is gone.
func (s *readConn) send(lines string) bool {
	_ = s.c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	_, err := io.WriteString(s.c, lines+"\r\n")
	return err == nil
}

// startTLS upgrades the connection after STARTTLS or STLS: dataAfter is
// the answer that ends a session which sent more behind the command,
// ready the one that tells the device to begin. False ends the session.
func (s *readConn) startTLS(ctx context.Context, dataAfter, ready string) bool {
	if s.r.Buffered() > 0 {
		// Commands sent after STARTTLS in the clear must not be read as
		// if they came over TLS.
		s.send(dataAfter)
		return false
	}
	if !s.send(ready) {
		return false
	}
	tc := tls.Server(s.c, s.g.tlsConfig())
	if err := tc.HandshakeContext(ctx); err != nil {
		return false
	}
	s.c, s.r, s.tls = tc, bufio.NewReaderSize(tc, 1024), true
	return true
}
