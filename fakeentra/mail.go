package fakeentra

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
)

// maxMailRequest is Graph's request size limit for sendMail and for a draft
// created from MIME: the base64 text may be at most 4 MB.
const maxMailRequest = 4 << 20

// mailState is the fake's mail side: what was sent, drafts being built and
// their upload sessions. Maps are created on first use; s.mu guards it.
type mailState struct {
	sent     []SentMessage
	drafts   map[string]*draft
	sessions map[string]*uploadSession
	// senders, when non-nil, are the user IDs (lower case) apppass's
	// identity may send as: Exchange Online RBAC for Applications'
	// management scope. nil: every mailbox (a tenant-wide grant).
	senders map[string]bool
	// readWriters, likewise, are the mailboxes whose messages apppass's
	// identity may create and delete (Mail.ReadWrite): drafts and their
	// attachments. nil: every mailbox.
	readWriters map[string]bool
	// discard drops the content of sent messages (DiscardMailContent).
	discard bool
}

// keep is m as the fake records it: without its content when discarding.
func (ms *mailState) keep(m SentMessage) SentMessage {
	if ms.discard {
		m.MIME, m.Attachments = nil, nil
	}
	return m
}

// DiscardMailContent records messages sent from now on without their MIME
// and attachments, so that benchmarks measure apppass's memory rather
// than the fake's.
func (s *Server) DiscardMailContent(discard bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mail.discard = discard
}

// draft is a message created from MIME, waiting for attachments and send.
type draft struct {
	id, userID string
	mime       []byte
	sessions   []*uploadSession
	posted     []SentAttachment // added with POST …/attachments
}

// mailCaller checks that the call may use mail: the token must be apppass's
// own (only it holds Mail.Send), and the mailbox must exist and be inside
// the RBAC scope of Mail.Send (sendMail, send) or, for the calls that
// create or delete messages, of Mail.ReadWrite too. It answers Graph's
// error and returns "" otherwise; on success it returns the mailbox's
// user ID. s.mu must not be held.
func (s *Server) mailCaller(x *exchange) string {
	return s.mailCallerFor(x, false)
}

// mailWriter is mailCaller for the calls that need Mail.ReadWrite.
func (s *Server) mailWriter(x *exchange) string {
	return s.mailCallerFor(x, true)
}

func (s *Server) mailCallerFor(x *exchange, readWrite bool) string {
	_, tok, _ := strings.Cut(x.r.Header.Get("Authorization"), " ")
	s.mu.Lock()
	defer s.mu.Unlock()
	if info := s.tokens[strings.TrimSpace(tok)]; !eq(info.clientID, ClientID) {
		x.graphError(http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
		return ""
	}
	u := s.findUser(x.args[0])
	if u == nil {
		x.graphError(http.StatusNotFound, "ErrorInvalidUser", "The requested user '"+x.args[0]+"' is invalid.")
		return ""
	}
	if s.mail.senders != nil && !s.mail.senders[strings.ToLower(u.ID)] && !readWrite {
		x.graphError(http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
		return ""
	}
	if readWrite && s.mail.readWriters != nil && !s.mail.readWriters[strings.ToLower(u.ID)] {
		x.graphError(http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
		return ""
	}
	return u.ID
}

// readMIME reads a text/plain body holding base64 MIME, as sendMail and
// draft creation take it, answering Graph's errors on failure.
func (x *exchange) readMIME() ([]byte, bool) {
	if ct := strings.ToLower(x.r.Header.Get("Content-Type")); !strings.HasPrefix(ct, "text/plain") {
		x.graphError(http.StatusBadRequest, "ErrorInvalidRequest",
			"fakeentra serves only the MIME form of this call: Content-Type text/plain with base64 MIME, not "+ct+".")
		return nil, false
	}
	b, err := x.readBody()
	switch {
	case err != nil && strings.Contains(err.Error(), "too large"):
		x.graphError(http.StatusRequestEntityTooLarge, "ErrorRequestEntityTooLarge",
			"The request exceeds the maximum request length supported (4 MB).")
		return nil, false
	case err != nil:
		x.graphError(http.StatusBadRequest, "BadRequest", "Unable to read the request body: "+err.Error())
		return nil, false
	case len(b) > maxMailRequest:
		x.graphError(http.StatusRequestEntityTooLarge, "ErrorRequestEntityTooLarge",
			"The request exceeds the maximum request length supported (4 MB).")
		return nil, false
	}
	raw, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields(b), nil)))
	if err != nil || len(raw) == 0 {
		x.graphError(http.StatusBadRequest, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.")
		return nil, false
	}
	if _, err := mail.ReadMessage(bytes.NewReader(raw)); err != nil {
		x.graphError(http.StatusBadRequest, "ErrorMimeContentInvalid", "The MIME content is invalid: "+err.Error())
		return nil, false
	}
	return raw, true
}

// sendMail serves POST /v1.0/users/{id}/sendMail in its MIME form: the
// message is recorded as sent, unchanged, and the answer is 202.
func (s *Server) sendMail(x *exchange) {
	userID := s.mailCaller(x)
	if userID == "" {
		return
	}
	raw, ok := x.readMIME()
	if !ok {
		return
	}
	rcpts, err := recipientsOf(raw)
	if err != nil {
		x.graphError(http.StatusBadRequest, "ErrorInvalidRecipients", "At least one recipient is not valid. "+err.Error())
		return
	}
	s.mu.Lock()
	s.mail.sent = append(s.mail.sent, s.mail.keep(SentMessage{UserID: userID, Via: ViaSendMail, MIME: raw, Recipients: rcpts, At: s.now()}))
	s.mu.Unlock()
	x.status = http.StatusAccepted
	x.w.WriteHeader(http.StatusAccepted)
}

// createDraft serves POST /v1.0/users/{id}/messages with base64 MIME: a
// draft in the mailbox, answered 201 with its id.
func (s *Server) createDraft(x *exchange) {
	userID := s.mailWriter(x)
	if userID == "" {
		return
	}
	raw, ok := x.readMIME()
	if !ok {
		return
	}
	msg, _ := mail.ReadMessage(bytes.NewReader(raw))
	d := &draft{id: "AAMkAD" + strings.ReplaceAll(uuid.NewString(), "-", ""), userID: userID, mime: raw}
	s.mu.Lock()
	if s.mail.drafts == nil {
		s.mail.drafts = map[string]*draft{}
	}
	s.mail.drafts[d.id] = d
	s.mu.Unlock()
	x.object(http.StatusCreated, func(o *objWriter) {
		o.str("@odata.context", s.URL()+"/v1.0/$metadata#users('"+userID+"')/messages/$entity")
		o.str("@odata.type", "#microsoft.graph.message")
		o.str("id", d.id)
		o.str("subject", msg.Header.Get("Subject"))
		o.str("internetMessageId", msg.Header.Get("Message-ID"))
		o.boolean("isDraft", true)
	})
}

// sendDraft serves POST /v1.0/users/{id}/messages/{mid}/send: the draft,
// with the attachments whose upload sessions completed, is recorded as
// sent and the answer is 202.
func (s *Server) sendDraft(x *exchange) {
	userID := s.mailCaller(x)
	if userID == "" {
		return
	}
	s.mu.Lock()
	d := s.mail.drafts[x.args[1]]
	if d == nil || !eq(d.userID, userID) {
		s.mu.Unlock()
		x.graphError(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
		return
	}
	atts := append([]SentAttachment(nil), d.posted...)
	for _, us := range d.sessions {
		if us.received == us.size {
			atts = append(atts, us.attachment())
		}
		delete(s.mail.sessions, us.id)
	}
	delete(s.mail.drafts, d.id)
	now := s.now()
	s.mu.Unlock()
	full, err := withAttachments(d.mime, atts)
	if err != nil {
		x.graphError(http.StatusBadRequest, "ErrorMimeContentInvalid", err.Error())
		return
	}
	rcpts, err := recipientsOf(full)
	if err != nil {
		x.graphError(http.StatusBadRequest, "ErrorInvalidRecipients", "At least one recipient is not valid. "+err.Error())
		return
	}
	s.mu.Lock()
	s.mail.sent = append(s.mail.sent, s.mail.keep(SentMessage{UserID: userID, Via: ViaDraft, MIME: full, Recipients: rcpts, Attachments: atts, At: now}))
	s.mu.Unlock()
	x.status = http.StatusAccepted
	x.w.WriteHeader(http.StatusAccepted)
}

// recipientsOf lists the To, Cc and Bcc addresses of a MIME message; it
// fails when there are none, as Graph does.
func recipientsOf(raw []byte) ([]string, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, h := range []string{"To", "Cc", "Bcc"} {
		if msg.Header.Get(h) == "" {
			continue
		}
		list, err := msg.Header.AddressList(h)
		if err != nil {
			return nil, err
		}
		for _, a := range list {
			out = append(out, a.Address)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("the message has no recipients")
	}
	return out, nil
}

// RestrictMailSend limits the mailboxes apppass's identity may send as to
// userIDs, as an Exchange Online RBAC for Applications management scope
// does; others answer 403 ErrorAccessDenied. nil lifts the limit.
func (s *Server) RestrictMailSend(userIDs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if userIDs == nil {
		s.mail.senders = nil
		return
	}
	s.mail.senders = map[string]bool{}
	for _, id := range userIDs {
		s.mail.senders[strings.ToLower(id)] = true
	}
}

// RestrictMailReadWrite limits the mailboxes whose messages apppass's
// identity may create and delete (Mail.ReadWrite: drafts, attachments,
// DELETE) to userIDs, as an Exchange Online RBAC for Applications
// management scope does; others answer 403 ErrorAccessDenied. An empty,
// non-nil list grants none (Mail.Send alone); nil lifts the limit.
func (s *Server) RestrictMailReadWrite(userIDs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if userIDs == nil {
		s.mail.readWriters = nil
		return
	}
	s.mail.readWriters = map[string]bool{}
	for _, id := range userIDs {
		s.mail.readWriters[strings.ToLower(id)] = true
	}
}

// Drafts returns the number of drafts in userID's Drafts folder: messages
// created and neither sent nor deleted.
func (s *Server) Drafts(userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, d := range s.mail.drafts {
		if eq(d.userID, userID) {
			n++
		}
	}
	return n
}

// deleteMessage serves DELETE /v1.0/users/{id}/messages/{mid}: the draft
// and its upload sessions are gone, 204; 404 ErrorItemNotFound for one
// that is not there (sent, or deleted before).
func (s *Server) deleteMessage(x *exchange) {
	userID := s.mailWriter(x)
	if userID == "" {
		return
	}
	s.mu.Lock()
	d := s.mail.drafts[x.args[1]]
	if d == nil || !eq(d.userID, userID) {
		s.mu.Unlock()
		x.graphError(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
		return
	}
	for _, us := range d.sessions {
		delete(s.mail.sessions, us.id)
	}
	delete(s.mail.drafts, d.id)
	s.mu.Unlock()
	x.noContent()
}

// addAttachment serves POST /v1.0/users/{id}/messages/{mid}/attachments
// with a fileAttachment (name, contentType, contentBytes, …) in JSON of
// at most 4 MB: the attachment is added to the draft, 201.
func (s *Server) addAttachment(x *exchange) {
	userID := s.mailWriter(x)
	if userID == "" {
		return
	}
	if x.r.ContentLength > maxMailRequest {
		x.graphError(http.StatusRequestEntityTooLarge, "ErrorRequestEntityTooLarge", "The request exceeds the maximum request length supported (4 MB).")
		return
	}
	var a struct {
		Type         string `json:"@odata.type"`
		Name         string `json:"name"`
		ContentType  string `json:"contentType"`
		ContentID    string `json:"contentId"`
		IsInline     bool   `json:"isInline"`
		ContentBytes []byte `json:"contentBytes"`
	}
	if !x.decodeJSON(&a) {
		return
	}
	if !eq(a.Type, "#microsoft.graph.fileAttachment") || a.Name == "" {
		x.graphError(http.StatusBadRequest, "ErrorInvalidRequest", "A fileAttachment with @odata.type #microsoft.graph.fileAttachment and a name is required.")
		return
	}
	if a.ContentType == "" {
		a.ContentType = "application/octet-stream"
	}
	s.mu.Lock()
	d := s.mail.drafts[x.args[1]]
	if d == nil || !eq(d.userID, userID) {
		s.mu.Unlock()
		x.graphError(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
		return
	}
	id := "AAMkAtt" + strings.ReplaceAll(uuid.NewString(), "-", "")
	d.posted = append(d.posted, SentAttachment{Name: a.Name, ContentType: a.ContentType, ContentID: a.ContentID, IsInline: a.IsInline, Data: a.ContentBytes})
	s.mu.Unlock()
	x.object(http.StatusCreated, func(o *objWriter) {
		o.str("@odata.type", "#microsoft.graph.fileAttachment")
		o.str("id", id)
		o.str("name", a.Name)
		o.str("contentType", a.ContentType)
	})
}

// sessionLifetime is how long an upload session's URL stays valid.
const sessionLifetime = 15 * time.Minute
