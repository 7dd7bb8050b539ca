package fakeentra

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/textproto"
	"strings"
	"time"
)

// How a message reached the fake: [SentMessage.Via].
const (
	ViaSendMail = "sendMail" // one POST /users/{id}/sendMail with the MIME
	ViaDraft    = "draft"    // draft from MIME, upload sessions, send
)

// SentMessage is a message Graph accepted for delivery.
type SentMessage struct {
	// UserID is the object ID of the mailbox it was sent from.
	UserID string
	// Via is [ViaSendMail] or [ViaDraft].
	Via string
	// MIME is the message as delivered. For sendMail it is the posted MIME,
	// byte for byte. For a draft it is the draft's MIME with each uploaded
	// attachment added as a base64 part at the end of its top-level
	// multipart/mixed (or of a multipart/mixed wrapped around a single-part
	// draft), much as Exchange renders attachments added to a draft.
	MIME []byte
	// Recipients are the To, Cc and Bcc addresses of the MIME headers.
	Recipients []string
	// Attachments are those added to the draft, with POST …/attachments
	// or through upload sessions (drafts only).
	Attachments []SentAttachment
	// At is when the message was accepted, by the fake's clock.
	At time.Time
}

// SentAttachment is an attachment added to a draft.
type SentAttachment struct {
	Name, ContentType, ContentID string
	IsInline                     bool
	Data                         []byte // the uploaded bytes
}

// SentMessages returns the messages accepted so far, in order. The byte
// slices are shared: callers must not modify them.
func (s *Server) SentMessages() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentMessage(nil), s.mail.sent...)
}

// Mailbox returns the messages accepted from the mailbox of user userID
// (object ID), in order.
func (s *Server) Mailbox(userID string) []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SentMessage
	for _, m := range s.mail.sent {
		if eq(m.UserID, userID) {
			out = append(out, m)
		}
	}
	return out
}

// withAttachments renders draft MIME with atts added as parts.
func withAttachments(draft []byte, atts []SentAttachment) ([]byte, error) {
	if len(atts) == 0 {
		return draft, nil
	}
	head, body, nl, ok := splitHeader(draft)
	if !ok {
		return nil, errors.New("the draft's MIME has no header/body separator")
	}
	hdr, err := textproto.NewReader(bufio.NewReader(io.MultiReader(bytes.NewReader(head), strings.NewReader(nl)))).ReadMIMEHeader()
	if err != nil && len(hdr) == 0 {
		return nil, errors.New("the draft's MIME header is invalid")
	}
	mt, params, _ := mime.ParseMediaType(hdr.Get("Content-Type"))
	if mt == "multipart/mixed" && params["boundary"] != "" {
		end := []byte(nl + "--" + params["boundary"] + "--")
		i := bytes.LastIndex(body, end)
		if i < 0 {
			return nil, errors.New("the draft's multipart body has no closing delimiter")
		}
		var out bytes.Buffer
		out.Write(head)
		out.WriteString(nl)
		out.Write(body[:i])
		for _, a := range atts {
			writePart(&out, params["boundary"], a, nl)
		}
		out.Write(body[i:])
		return out.Bytes(), nil
	}
	// A single-part draft: wrap it, as Exchange would.
	boundary := "_fakeentra_" + rand.Text()
	var out bytes.Buffer
	inner := ""
	for _, line := range headerFields(head) {
		name, _, _ := strings.Cut(line, ":")
		switch textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)) {
		case "Content-Type", "Content-Transfer-Encoding":
			inner += line
		default:
			out.WriteString(line)
		}
	}
	out.WriteString(`Content-Type: multipart/mixed; boundary="` + boundary + `"` + nl + nl)
	out.WriteString("--" + boundary + nl + inner + nl)
	out.Write(body)
	for _, a := range atts {
		writePart(&out, boundary, a, nl)
	}
	out.WriteString(nl + "--" + boundary + "--" + nl)
	return out.Bytes(), nil
}

// writePart writes one attachment part, preceded by its delimiter line.
func writePart(out *bytes.Buffer, boundary string, a SentAttachment, nl string) {
	disp := "attachment"
	if a.IsInline {
		disp = "inline"
	}
	out.WriteString(nl + "--" + boundary + nl)
	out.WriteString("Content-Type: " + mime.FormatMediaType(a.ContentType, map[string]string{"name": a.Name}) + nl)
	out.WriteString("Content-Disposition: " + mime.FormatMediaType(disp, map[string]string{"filename": a.Name}) + nl)
	if a.ContentID != "" {
		out.WriteString("Content-ID: <" + strings.Trim(a.ContentID, "<>") + ">" + nl)
	}
	out.WriteString("Content-Transfer-Encoding: base64" + nl + nl)
	enc := base64.StdEncoding.EncodeToString(a.Data)
	for i := 0; i < len(enc); i += 76 {
		if i > 0 {
			out.WriteString(nl)
		}
		out.WriteString(enc[i:min(i+76, len(enc))])
	}
}

// splitHeader splits a message at its first empty line; head keeps its
// final line break, body starts after the empty line.
func splitHeader(msg []byte) (head, body []byte, nl string, ok bool) {
	if i := bytes.Index(msg, []byte("\r\n\r\n")); i >= 0 {
		return msg[:i+2], msg[i+4:], "\r\n", true
	}
	if i := bytes.Index(msg, []byte("\n\n")); i >= 0 {
		return msg[:i+1], msg[i+2:], "\n", true
	}
	return nil, nil, "", false
}

// headerFields splits a header block into fields, each with its folded
// continuation lines and line breaks.
func headerFields(head []byte) []string {
	var out []string
	for _, line := range strings.SplitAfter(string(head), "\n") {
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 {
			out[len(out)-1] += line
			continue
		}
		out = append(out, line)
	}
	return out
}
