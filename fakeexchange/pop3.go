package fakeexchange

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
)

// POP3 has no Go server library of note: this is a small server in the
// manner of Exchange Online's POP3 (RFC 1939, CAPA RFC 2449, AUTH RFC
// 5034, STLS RFC 2595), reading the same mailboxes as the IMAP server
// through an internal IMAP session, so that what POP3 deletes IMAP no
// longer sees.

// Exchange's POP3 answers.
const (
	pop3Greeting   = "+OK The Microsoft Exchange POP3 service is ready."
	pop3AuthFailed = "-ERR Authentication failure: unknown user name or bad password."
	pop3LogonFail  = "-ERR Logon failure: unknown user name or bad password."
	pop3BadState   = "-ERR Command is not valid in this state."
	pop3NotConn    = "-ERR User is authenticated but not connected."
	pop3NoSuchMsg  = "-ERR The specified message is out of range."
	pop3Unknown    = "-ERR Protocol error. Connection is closed."
)

// maxPOP3Line bounds a command line; an XOAUTH2 response is a few KB.
const maxPOP3Line = 64 << 10

// ServePOP3 serves POP3 on ln until Close; ln may be a TLS listener (port
// 995) or a plain one on which clients use STLS.
func (s *Store) ServePOP3(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errClosed
	}
	s.pop3ln = append(s.pop3ln, ln)
	s.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("fakeexchange: pop3: %w", err)
		}
		ps := &pop3Session{s: s, conn: c}
		go ps.serve()
	}
}

func (s *Store) listeners() []net.Listener {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(append([]net.Listener(nil), s.pop3ln...), s.imapln...)
}

// pop3Session is one POP3 connection.
type pop3Session struct {
	s    *Store
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer

	box       *mailbox
	connected bool
	client    *internalClient
	msgs      []Message // the maildrop as listed at login
	deleted   map[int]bool
	timer     *time.Timer
	closeOnce sync.Once
}

func (ps *pop3Session) serve() {
	defer ps.close()
	ps.r, ps.w = bufio.NewReader(ps.conn), bufio.NewWriter(ps.conn)
	ps.reply(pop3Greeting)
	for {
		_ = ps.conn.SetReadDeadline(time.Now().Add(10 * time.Minute))
		line, err := ps.readLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		if !ps.command(strings.ToUpper(verb), arg) {
			return
		}
	}
}

// readLine reads one CRLF-terminated line, bounded.
func (ps *pop3Session) readLine() (string, error) {
	var b []byte
	for {
		chunk, isPrefix, err := ps.r.ReadLine()
		if err != nil {
			return "", err
		}
		b = append(b, chunk...)
		if len(b) > maxPOP3Line {
			return "", errors.New("line too long")
		}
		if !isPrefix {
			return string(b), nil
		}
	}
}

func (ps *pop3Session) reply(lines ...string) {
	for _, l := range lines {
		ps.w.WriteString(l)
		ps.w.WriteString("\r\n")
	}
	_ = ps.w.Flush()
}

// command handles one command; false ends the session.
func (ps *pop3Session) command(verb, arg string) bool {
	if ps.box == nil {
		return ps.unauthenticated(verb, arg)
	}
	if !ps.connected && verb != "QUIT" {
		ps.reply(pop3NotConn)
		return true
	}
	return ps.transaction(verb, arg)
}

func (ps *pop3Session) isTLS() bool { _, ok := ps.conn.(*tls.Conn); return ok }

func (ps *pop3Session) unauthenticated(verb, arg string) bool {
	switch verb {
	case "CAPA":
		lines := []string{"+OK", "TOP", "UIDL", "SASL PLAIN XOAUTH2", "USER"}
		if !ps.isTLS() && ps.s.tls != nil {
			lines = append(lines, "STLS")
		}
		ps.reply(append(lines, ".")...)
	case "STLS":
		if ps.isTLS() || ps.s.tls == nil {
			ps.reply(pop3BadState)
			return true
		}
		ps.reply("+OK Begin TLS negotiation.")
		tc := tls.Server(ps.conn, ps.s.tls)
		if err := tc.Handshake(); err != nil {
			return false
		}
		ps.conn = tc
		ps.r, ps.w = bufio.NewReader(tc), bufio.NewWriter(tc)
	case "USER":
		ps.reply("+OK")
	case "PASS":
		ps.s.refused("POP3", "", RefusedBasicAuthOff)
		ps.reply(pop3LogonFail)
	case "AUTH":
		return ps.auth(arg)
	case "QUIT":
		ps.reply("+OK Microsoft Exchange Server POP3 server signing off.")
		return false
	case "NOOP":
		ps.reply("+OK")
	default:
		ps.reply(pop3Unknown)
		return false
	}
	return true
}

// auth is AUTH mech [initial-response].
func (ps *pop3Session) auth(arg string) bool {
	mech, ir, hasIR := strings.Cut(arg, " ")
	switch strings.ToUpper(mech) {
	case "XOAUTH2":
	case "PLAIN":
		ps.s.refused("POP3", "", RefusedBasicAuthOff)
		ps.reply(pop3AuthFailed)
		return true
	default:
		ps.reply("-ERR Unrecognized authentication type.")
		return true
	}
	if !ps.isTLS() {
		ps.reply(pop3BadState)
		return true
	}
	if !hasIR {
		ps.reply("+ ")
		line, err := ps.readLine()
		if err != nil {
			return false
		}
		ir = line
	}
	resp, err := base64.StdEncoding.DecodeString(strings.TrimSpace(ir))
	if err != nil {
		ps.reply(pop3AuthFailed)
		return true
	}
	box, granted, expires, reason := ps.s.authorize("POP3", resp)
	if reason != "" {
		user, _, _ := parseXOAUTH2(resp)
		ps.s.refused("POP3", user, reason)
		ps.reply(pop3AuthFailed)
		return true
	}
	ps.box, ps.connected = box, granted
	ps.s.mu.Lock()
	ps.s.livePOP[ps] = true
	ps.s.mu.Unlock()
	ps.timer = time.AfterFunc(expires.Sub(ps.s.now()), ps.expire)
	if !granted {
		ps.s.refused("POP3", box.address, RefusedNoGrant)
		ps.reply("+OK User successfully authenticated.")
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := ps.s.openBox(ctx, box)
	if err == nil {
		ps.client = c
		ps.msgs, err = c.messages(false)
	}
	if err != nil {
		ps.reply("-ERR Server Unavailable. 21")
		return false
	}
	ps.deleted = map[int]bool{}
	ps.reply("+OK User successfully authenticated.")
	return true
}

// msg returns message n (1-based) when it exists and is not deleted.
func (ps *pop3Session) msg(arg string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(arg))
	if err != nil || n < 1 || n > len(ps.msgs) || ps.deleted[n] {
		ps.reply(pop3NoSuchMsg)
		return 0, false
	}
	return n, true
}

func (ps *pop3Session) transaction(verb, arg string) bool {
	switch verb {
	case "STAT":
		n, size := 0, int64(0)
		for i, m := range ps.msgs {
			if !ps.deleted[i+1] {
				n, size = n+1, size+m.Size
			}
		}
		ps.reply(fmt.Sprintf("+OK %d %d", n, size))
	case "LIST", "UIDL":
		entry := func(i int) string {
			if verb == "LIST" {
				return fmt.Sprintf("%d %d", i, ps.msgs[i-1].Size)
			}
			return fmt.Sprintf("%d %s", i, ps.uidl(ps.msgs[i-1]))
		}
		if strings.TrimSpace(arg) != "" {
			if i, ok := ps.msg(arg); ok {
				ps.reply("+OK " + entry(i))
			}
			return true
		}
		lines := []string{"+OK"}
		for i := range ps.msgs {
			if !ps.deleted[i+1] {
				lines = append(lines, entry(i+1))
			}
		}
		ps.reply(append(lines, ".")...)
	case "RETR", "TOP":
		num, lines, _ := strings.Cut(strings.TrimSpace(arg), " ")
		i, ok := ps.msg(num)
		if !ok {
			return true
		}
		body, err := ps.fetch(ps.msgs[i-1].UID)
		if err != nil {
			ps.reply("-ERR Server Unavailable. 21")
			return false
		}
		if verb == "TOP" {
			k, err := strconv.Atoi(lines)
			if err != nil || k < 0 {
				ps.reply("-ERR Protocol error. 14")
				return true
			}
			body = top(body, k)
		}
		ps.w.WriteString("+OK\r\n")
		writeDotStuffed(ps.w, body)
		ps.w.WriteString(".\r\n")
		_ = ps.w.Flush()
	case "DELE":
		if i, ok := ps.msg(arg); ok {
			ps.deleted[i] = true
			ps.reply("+OK")
		}
	case "RSET":
		clear(ps.deleted)
		ps.reply("+OK")
	case "NOOP":
		ps.reply("+OK")
	case "QUIT":
		if err := ps.update(); err != nil {
			ps.reply("-ERR Server Unavailable. 21")
			return false
		}
		ps.reply("+OK Microsoft Exchange Server POP3 server signing off.")
		return false
	default:
		ps.reply("-ERR Protocol error. 14")
	}
	return true
}

// uidl is a message's unique id: stable across sessions, as RFC 1939 asks.
func (ps *pop3Session) uidl(m Message) string {
	return fmt.Sprintf("AAQkAD%08x%08x", ps.client.validity, m.UID)
}

// fetch reads a message's full text (and marks it read, as Exchange does).
func (ps *pop3Session) fetch(uid uint32) ([]byte, error) {
	bufs, err := ps.client.c.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}}).Collect()
	if err != nil || len(bufs) != 1 || len(bufs[0].BodySection) == 0 {
		return nil, fmt.Errorf("fakeexchange: fetching UID %d: %v", uid, err)
	}
	return bufs[0].BodySection[0].Bytes, nil
}

// update removes the deleted messages (POP3's UPDATE state).
func (ps *pop3Session) update() error {
	var uids imap.UIDSet
	for i := range ps.deleted {
		uids.AddNum(imap.UID(ps.msgs[i-1].UID))
	}
	if len(uids) == 0 {
		return nil
	}
	if err := ps.client.c.Store(uids, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		return fmt.Errorf("fakeexchange: flagging deleted: %w", err)
	}
	if err := ps.client.c.UIDExpunge(uids).Close(); err != nil {
		return fmt.Errorf("fakeexchange: expunging: %w", err)
	}
	return nil
}

// expire ends the session when its token expires.
func (ps *pop3Session) expire() { ps.conn.Close() }

func (ps *pop3Session) close() {
	ps.closeOnce.Do(func() {
		ps.conn.Close()
		if ps.timer != nil {
			ps.timer.Stop()
		}
		if ps.box != nil {
			ps.s.mu.Lock()
			delete(ps.s.livePOP, ps)
			ps.s.mu.Unlock()
			ps.s.release(ps.box, "POP3")
		}
		if ps.client != nil {
			ps.client.close()
		}
	})
}

// top returns the header and the first k lines of the body.
func top(msg []byte, k int) []byte {
	i := bytes.Index(msg, []byte("\r\n\r\n"))
	if i < 0 {
		return msg
	}
	out := msg[:i+4]
	rest := msg[i+4:]
	for ; k > 0 && len(rest) > 0; k-- {
		j := bytes.Index(rest, []byte("\r\n"))
		if j < 0 {
			out = append(out[:len(out):len(out)], rest...)
			break
		}
		out = append(out[:len(out):len(out)], rest[:j+2]...)
		rest = rest[j+2:]
	}
	return out
}

// writeDotStuffed writes msg as a POP3 multi-line body: lines starting
// with "." get another, and the text ends with CRLF.
func writeDotStuffed(w io.Writer, msg []byte) {
	for len(msg) > 0 {
		j := bytes.IndexByte(msg, '\n')
		line := msg
		if j >= 0 {
			line, msg = msg[:j+1], msg[j+1:]
		} else {
			msg = nil
		}
		if line[0] == '.' {
			w.Write([]byte{'.'})
		}
		w.Write(line)
		if j < 0 {
			w.Write([]byte("\r\n"))
		}
	}
}
