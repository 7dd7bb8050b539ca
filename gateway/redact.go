package gateway

import (
	"bytes"
	"io"
	"sync"
)

// redactor passes go-smtp's protocol trace through, keeping only complete
// lines that are SMTP replies or commands other than AUTH's arguments, so
// that neither a password (AUTH PLAIN/LOGIN arguments and continuation
// lines) nor message content reaches the debug output. go-smtp writes one
// trace for all connections, in chunks, so it decides per chunk and drops
// partial lines.
type redactor struct {
	mu sync.Mutex
	w  io.Writer
}

func newRedactor(w io.Writer) *redactor { return &redactor{w: w} }

// commands are the verbs whose lines are shown (AUTH shows its mechanism only).
var commands = [][]byte{[]byte("EHLO"), []byte("HELO"), []byte("LHLO"), []byte("MAIL FROM:"), []byte("RCPT TO:"),
	[]byte("DATA"), []byte("BDAT"), []byte("RSET"), []byte("NOOP"), []byte("QUIT"), []byte("STARTTLS"), []byte("VRFY")}

// Write filters p; it always reports len(p) written.
func (r *redactor) Write(p []byte) (int, error) {
	var out bytes.Buffer
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if !bytes.HasSuffix(line, []byte("\n")) {
			continue // a partial line: it could be part of anything
		}
		t := bytes.TrimRight(line, "\r\n")
		switch {
		case isReply(t):
			if bytes.HasPrefix(t, []byte("334")) {
				out.WriteString("334 [challenge]\n")
				continue
			}
			out.Write(t)
			out.WriteByte('\n')
		case len(t) >= 5 && bytes.EqualFold(t[:5], []byte("AUTH ")):
			mech, _, _ := bytes.Cut(t[5:], []byte(" "))
			out.WriteString("AUTH " + string(bytes.ToUpper(mech)) + " [redacted]\n")
		case isCommand(t):
			out.Write(t)
			out.WriteByte('\n')
		default:
			// SASL responses, message content: not shown.
		}
	}
	if out.Len() > 0 {
		r.mu.Lock()
		defer r.mu.Unlock()
		_, _ = r.w.Write(out.Bytes()) // a failing trace must not fail SMTP
	}
	return len(p), nil
}

// isReply reports whether t is a server reply line: three digits, then
// space, dash or end.
func isReply(t []byte) bool {
	if len(t) < 3 || t[0] < '2' || t[0] > '5' || t[1] < '0' || t[1] > '9' || t[2] < '0' || t[2] > '9' {
		return false
	}
	return len(t) == 3 || t[3] == ' ' || t[3] == '-'
}

// isCommand reports whether t is one of the shown SMTP commands: a whole
// verb, then a space or the end of the line.
func isCommand(t []byte) bool {
	for _, c := range commands {
		if len(t) < len(c) || !bytes.EqualFold(t[:len(c)], c) {
			continue
		}
		if len(t) == len(c) || t[len(c)] == ' ' || c[len(c)-1] == ':' {
			return true
		}
	}
	return false
}
