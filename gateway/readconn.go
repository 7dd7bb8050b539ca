package gateway

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
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

// plainAnswers are a protocol's words while it reads a SASL PLAIN
// response, and how it reads one.
type plainAnswers struct {
	maxLine   int    // bounds the response sent after "+ "
	trimSpace bool   // the response may end in spaces, which do not count
	cancelled string // the device sent "*"
	malformed string // not base64
	failed    string // not a PLAIN message, or acting for someone else
}

// plainCredentials reads the user name and password of a SASL PLAIN
// response (RFC 4616): resp when the device sent it with its command
// (hasResp), else the line it sends after the "+ " continuation. "*"
// cancels and "=" is the empty response. It answers the device itself
// when there are none.
func (s *readConn) plainCredentials(resp string, hasResp bool, a plainAnswers) (user, password string, ok bool) {
	if !hasResp {
		if !s.send("+ ") {
			return "", "", false
		}
		line, err := readIMAPLine(s.r, a.maxLine)
		if err != nil {
			return "", "", false
		}
		resp = string(line)
	}
	if resp == "*" {
		s.send(a.cancelled)
		return "", "", false
	}
	if resp == "=" {
		resp = ""
	}
	if a.trimSpace {
		resp = strings.TrimSpace(resp)
	}
	raw, err := base64.StdEncoding.DecodeString(resp)
	if err != nil {
		s.send(a.malformed)
		return "", "", false
	}
	// go-sasl's PLAIN server splits and checks the message; its callback
	// hands the parts back rather than deciding.
	plain := sasl.NewPlainServer(func(identity, u, p string) error {
		if identity != "" && !strings.EqualFold(identity, u) {
			return errBadCredentials // acting for someone else is not offered
		}
		user, password = u, p
		return nil
	})
	if _, _, err := plain.Next(raw); err != nil {
		s.send(a.failed)
		return "", "", false
	}
	return user, password, true
}
