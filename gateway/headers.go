package gateway

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/mail"
	"net/textproto"
	"strings"

	"github.com/emersion/go-smtp"
)

// Who may send as whom is decided on the message's header block alone,
// read (bounded) before the body: the body then goes on as it came, as a
// stream, to whichever upstream delivers it.

// maxHeaderBytes bounds the header block: 2,000 folded recipients fit
// in well under this, and it is all a session holds before deciding.
const maxHeaderBytes = 512 << 10

var (
	errHeaderTooBig   = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message header too big"}
	errBadHeader      = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message header is not valid"}
	errOneFrom        = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "A message has exactly one From header and at most one Sender header"}
	errHeaderRcpts    = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "The message's To, Cc or Bcc names a recipient not given in RCPT TO"}
	errTooManyHdrRcpt = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 5, 3}, Message: "Too many recipients in the message header"}
	errBadAddress     = &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 1, 3}, Message: "Address contains control characters"}
)

// readHeader reads the header block (through the empty line, or all of
// a message that has no body) from br, at most maxHeaderBytes.
func readHeader(br *bufio.Reader) ([]byte, error) {
	var hdr bytes.Buffer
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			err = nil // a long line: keep reading it
		}
		if hdr.Len()+len(line) > maxHeaderBytes {
			return nil, errHeaderTooBig
		}
		hdr.Write(line)
		if err == io.EOF {
			return hdr.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
		if t := bytes.TrimRight(line, "\r\n"); len(t) == 0 && line[len(line)-1] == '\n' {
			return hdr.Bytes(), nil
		}
	}
}

// headerRule is a refusal with what the audit trail says.
type headerRule struct {
	err     *smtp.SMTPError
	outcome string
}

// checkHeader applies SPEC §10's rules to the header block: exactly one
// From and at most one Sender, and those, Resent-From and Resent-Sender
// all the owner's; header recipients within maxRcpts; and, when
// envelopeOnly (the Graph upstream, which delivers to the header's
// recipients), every To, Cc and Bcc recipient one of the envelope's.
func checkHeader(raw []byte, owns func(string) bool, rcpts []string, maxRcpts int, envelopeOnly bool) *headerRule {
	if !bytes.HasSuffix(raw, []byte("\n\n")) && !bytes.HasSuffix(raw, []byte("\r\n\r\n")) {
		raw = append(append([]byte(nil), raw...), "\r\n\r\n"...)
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return &headerRule{errBadHeader, "refused: unreadable header"}
	}
	h := m.Header
	if len(h[textproto.CanonicalMIMEHeaderKey("From")]) != 1 || len(h[textproto.CanonicalMIMEHeaderKey("Sender")]) > 1 {
		return &headerRule{errOneFrom, "refused: not exactly one From or more than one Sender"}
	}
	for _, k := range []string{"From", "Sender", "Resent-From", "Resent-Sender"} {
		vals := h[textproto.CanonicalMIMEHeaderKey(k)]
		for _, v := range vals {
			list, err := mail.ParseAddressList(v)
			if err != nil || len(list) == 0 {
				return &headerRule{errNotYourAddr, "refused: unreadable " + k}
			}
			for _, a := range list {
				if !owns(a.Address) {
					return &headerRule{errNotYourAddr, "refused: " + k + " is not the owner's"}
				}
			}
		}
	}
	envelope := map[string]bool{}
	for _, r := range rcpts {
		envelope[strings.ToLower(r)] = true
	}
	var named []string
	for _, k := range []string{"To", "Cc", "Bcc"} {
		for _, v := range h[textproto.CanonicalMIMEHeaderKey(k)] {
			list, err := mail.ParseAddressList(v)
			if err != nil {
				if envelopeOnly {
					// Graph reads what it can of it: refuse what cannot
					// be checked.
					return &headerRule{errBadHeader, "refused: unreadable " + k}
				}
				continue
			}
			for _, a := range list {
				named = append(named, a.Address)
			}
		}
	}
	if len(named) > maxRcpts {
		return &headerRule{errTooManyHdrRcpt, "refused: too many header recipients"}
	}
	for _, a := range named {
		if envelopeOnly && !envelope[strings.ToLower(a)] {
			return &headerRule{errHeaderRcpts, "refused: header recipient not in the envelope"}
		}
	}
	return nil
}

// hasControl reports whether an envelope address has a control
// character (CR, LF, NUL …): one would end up in the Bcc header apppass
// adds, or in the upstream's command line.
func hasControl(addr string) bool {
	for i := 0; i < len(addr); i++ {
		if c := addr[i]; c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}
