package fakeentra

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

const (
	// maxAttachment is the largest attachment an upload session takes.
	maxAttachment = 150 << 20
	// minUploadSession is the smallest: 3 MB. Graph refuses smaller ones
	// (they go as a plain fileAttachment).
	minUploadSession = 3_000_000
	// maxChunk is the largest byte range one PUT to an upload URL may carry.
	maxChunk = 4 << 20
)

// uploadSession is an attachment being uploaded to a draft in chunks.
type uploadSession struct {
	id, token       string
	name, mediaType string
	contentID       string
	inline          bool
	size, received  int64
	data            []byte
	expires         time.Time
}

// attachment returns the finished upload as a SentAttachment.
func (us *uploadSession) attachment() SentAttachment {
	return SentAttachment{Name: us.name, ContentType: us.mediaType, ContentID: us.contentID, IsInline: us.inline, Data: us.data}
}

// createUploadSession serves
// POST /v1.0/users/{id}/messages/{mid}/attachments/createUploadSession: it
// answers 201 with an uploadUrl on the fake (pre-authenticated by a token
// in its query, as Outlook's are) for a file attachment of 3 MB to 150 MB.
func (s *Server) createUploadSession(x *exchange) {
	userID := s.mailWriter(x)
	if userID == "" {
		return
	}
	var body struct {
		Item *struct {
			AttachmentType string `json:"attachmentType"`
			Name           string `json:"name"`
			Size           int64  `json:"size"`
			ContentType    string `json:"contentType"`
			ContentID      string `json:"contentId"`
			IsInline       bool   `json:"isInline"`
		} `json:"AttachmentItem"`
	}
	if !x.decodeJSON(&body) {
		return
	}
	it := body.Item
	switch {
	case it == nil || !eq(it.AttachmentType, "file") || it.Name == "":
		x.graphError(http.StatusBadRequest, "ErrorInvalidRequest", "AttachmentItem with attachmentType 'file' and a name is required.")
		return
	case it.Size > 0 && it.Size < minUploadSession:
		x.graphError(http.StatusBadRequest, "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize",
			fmt.Sprintf("Attachment size must be greater than the minimum size (%d bytes) for an upload session.", minUploadSession))
		return
	case it.Size <= 0 || it.Size > maxAttachment:
		x.graphError(http.StatusBadRequest, "ErrorAttachmentSizeLimitExceeded",
			fmt.Sprintf("The attachment size %d is not between 1 byte and 150 MB.", it.Size))
		return
	}
	s.mu.Lock()
	d := s.mail.drafts[x.args[1]]
	if d == nil || !eq(d.userID, userID) {
		s.mu.Unlock()
		x.graphError(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
		return
	}
	us := &uploadSession{
		id: uuid.NewString(), token: rand.Text(), name: it.Name, mediaType: it.ContentType,
		contentID: it.ContentID, inline: it.IsInline, size: it.Size, data: make([]byte, 0, it.Size),
		expires: s.now().Add(sessionLifetime).UTC(),
	}
	if us.mediaType == "" {
		us.mediaType = "application/octet-stream"
	}
	if s.mail.sessions == nil {
		s.mail.sessions = map[string]*uploadSession{}
	}
	s.mail.sessions[us.id] = us
	d.sessions = append(d.sessions, us)
	s.mu.Unlock()
	x.object(http.StatusCreated, func(o *objWriter) {
		o.str("@odata.context", s.URL()+"/v1.0/$metadata#microsoft.graph.uploadSession")
		o.str("uploadUrl", s.URL()+"/upload/"+us.id+"?authtoken="+us.token)
		o.time("expirationDateTime", us.expires)
		o.strs("nextExpectedRanges", []string{"0-"})
	})
}

// uploadChunk serves PUT /upload/{session}?authtoken=…: one byte range of
// the attachment, given by Content-Range "bytes a-b/total", at most 4 MB,
// in order. It answers 200 with nextExpectedRanges until the last byte,
// then 201. As on Outlook, the URL carries its own authorization: a request
// with an Authorization header is refused with 401.
func (s *Server) uploadChunk(x *exchange) {
	if x.r.Header.Get("Authorization") != "" {
		x.graphError(http.StatusUnauthorized, "InvalidAuthenticationToken",
			"The upload URL is pre-authenticated; do not send an Authorization header.")
		return
	}
	first, last, total, ok := parseContentRange(x.r.Header.Get("Content-Range"))
	if !ok || last-first+1 > maxChunk {
		x.graphError(http.StatusBadRequest, "ErrorInvalidRequest",
			"Content-Range must be 'bytes first-last/total' with at most 4 MB per request, not '"+x.r.Header.Get("Content-Range")+"'.")
		return
	}
	chunk, err := io.ReadAll(io.LimitReader(x.r.Body, maxChunk+1))
	if err != nil || int64(len(chunk)) != last-first+1 {
		x.graphError(http.StatusBadRequest, "ErrorInvalidRequest", "The body length does not match Content-Range.")
		return
	}
	s.mu.Lock()
	us := s.mail.sessions[x.args[0]]
	switch {
	case us == nil || subtle.ConstantTimeCompare([]byte(x.r.URL.Query().Get("authtoken")), []byte(us.token)) != 1:
		s.mu.Unlock()
		x.graphError(http.StatusNotFound, "ErrorItemNotFound", "The upload session was not found or has expired.")
		return
	case total != us.size || first != us.received:
		want := us.received
		s.mu.Unlock()
		x.graphError(http.StatusRequestedRangeNotSatisfiable, "ErrorInvalidRange",
			fmt.Sprintf("The range %d-%d/%d is not the next expected range %d-.", first, last, total, want))
		return
	}
	us.data = append(us.data, chunk...)
	us.received += int64(len(chunk))
	done, next, expires := us.received == us.size, us.received, us.expires
	s.mu.Unlock()
	if done {
		x.w.Header().Set("Location", s.URL()+"/v1.0/attachments/"+us.id)
		x.status = http.StatusCreated
		x.w.WriteHeader(http.StatusCreated)
		return
	}
	x.object(http.StatusOK, func(o *objWriter) {
		o.time("expirationDateTime", expires)
		o.strs("nextExpectedRanges", []string{strconv.FormatInt(next, 10) + "-"})
	})
}

// parseContentRange parses "bytes first-last/total".
func parseContentRange(v string) (first, last, total int64, ok bool) {
	r, found := strings.CutPrefix(strings.TrimSpace(v), "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	span, tot, found := strings.Cut(r, "/")
	a, b, found2 := strings.Cut(span, "-")
	if !found || !found2 {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	first, err1 = strconv.ParseInt(a, 10, 64)
	last, err2 = strconv.ParseInt(b, 10, 64)
	total, err3 = strconv.ParseInt(tot, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || first < 0 || last < first || last >= total {
		return 0, 0, 0, false
	}
	return first, last, total, true
}
