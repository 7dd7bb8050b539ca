package graphclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/mimesplit"
)

const (
	// maxMIMERequest is the most base64 text one sendMail or draft request
	// carries: Graph's 4 MB request limit, less room for the request line
	// and headers.
	maxMIMERequest = 4<<20 - 64<<10
	// uploadChunk is the byte range of one PUT to an upload URL: a multiple
	// of 320 KiB under Graph's 4 MB per request.
	uploadChunk = 10 * 320 << 10
	// minUploadSession is the smallest attachment Graph takes through an
	// upload session (3 MB); smaller ones are refused there with
	// ErrorAttachmentSizeShouldNotBeLessThanMinimumSize and go as a plain
	// fileAttachment, whose base64 JSON then stays under 4 MB.
	minUploadSession = 3_000_000
)

// SendMail sends msg, a complete MIME message, as the mailbox userID with
// apppass's own identity. A message whose base64 fits Graph's 4 MB request
// limit goes in one POST /users/{id}/sendMail, unchanged (Mail.Send).
// A larger one goes as a draft of the message without its largest
// attachments (every other byte unchanged), each of those attachments
// added to the draft (through an upload session from 3 MB, as a plain
// fileAttachment below), then send; creating the draft and attachments
// needs Mail.ReadWrite. The attachments' bytes arrive unchanged, their
// MIME framing is Exchange's (see mimesplit). A draft that cannot be sent
// is deleted.
//
// Success is exactly 202: a sendMail answered 200 was dropped by Graph
// (microsoft-graph-docs #13979), so the message then goes as a draft.
// Graph's 429 and 503 are retried after Retry-After while ctx's deadline
// allows; a send whose answer is lost (no answer, a timeout, 500, 502,
// 504) is never repeated: for a draft, one still there was not sent (it is
// deleted and the error is KindUpstream), one gone was; a lost sendMail
// may have gone. Both of those are Sent.Unconfirmed.
//
// Errors: KindUpstream when Graph stayed busy or unreachable (the device
// should retry); another kind for a refusal that will not change on retry
// (KindForbidden: not allowed to send as this mailbox; KindInvalid: the
// message; KindNotFound: no such mailbox). They carry Graph's request id
// as Ref.
func (c *Client) SendMail(ctx context.Context, userID string, msg []byte) (domain.Sent, error) {
	if base64.StdEncoding.EncodedLen(len(msg)) <= maxMIMERequest {
		var ref string
		err := c.wait.retry(ctx, graphRetry, "sendMail", once(func() error {
			var err error
			ref, err = c.postMIME(ctx, userID, "sendMail", msg, nil)
			return err
		}))
		var amb *ambiguous
		var na *notAccepted
		switch {
		case err == nil:
			return domain.Sent{Ref: ref}, nil
		case errors.As(err, &amb):
			c.log.WarnContext(ctx, "graph: sendMail answer lost; the message may have been sent", "user", userID, "err", amb.err)
			return domain.Sent{Unconfirmed: true, Ref: amb.ge.RequestID}, nil
		case errors.As(err, &na):
			// Graph's field-reported drop of large MIME bodies: the draft
			// path does not have it.
			c.log.WarnContext(ctx, "graph: sendMail answered without 202; sending it as a draft", "user", userID, "status", na.status, "request_id", na.requestID)
		default:
			return domain.Sent{}, classify("sendMail", err)
		}
	}
	return c.sendAsDraft(ctx, userID, msg)
}

// sendAsDraft sends msg as a draft, its large attachments added apart.
func (c *Client) sendAsDraft(ctx context.Context, userID string, msg []byte) (domain.Sent, error) {
	rest, atts, err := mimesplit.Split(msg, func(n int) bool { return base64.StdEncoding.EncodedLen(n) <= maxMIMERequest })
	if err != nil {
		return domain.Sent{}, &domain.Error{Kind: domain.KindInvalid, Message: "The message is too large for Microsoft Graph without its attachments, or its MIME is malformed.",
			Err: fmt.Errorf("send mail: split: %w", err)}
	}
	var draft models.Messageable
	err = c.wait.retry(ctx, graphRetry, "createDraft", once(func() error {
		_, err := c.postMIME(ctx, userID, "createDraft", rest, &draft)
		return err
	}))
	if err != nil {
		return domain.Sent{}, classify("createDraft", unwrapAmbiguous(err))
	}
	mid := deref(draft.GetId())
	msgItem := c.graph.Users().ByUserId(userID).Messages().ByMessageId(mid)
	for _, a := range atts {
		var err error
		if len(a.Data) >= minUploadSession {
			err = c.uploadAttachment(ctx, msgItem, a)
		} else {
			err = c.wait.retry(ctx, graphRetry, "addAttachment", once(func() error { return c.postAttachment(ctx, userID, mid, a) }))
		}
		if err != nil {
			c.dropDraft(ctx, userID, mid)
			return domain.Sent{}, classify("addAttachment", unwrapAmbiguous(err))
		}
	}
	var ref string
	err = c.wait.retry(ctx, graphRetry, "sendDraft", once(func() error {
		var err error
		ref, err = c.postSend(ctx, userID, mid)
		return err
	}))
	var amb *ambiguous
	var na *notAccepted
	switch {
	case err == nil:
		return domain.Sent{Ref: ref}, nil
	case errors.As(err, &amb), errors.As(err, &na):
		return c.settleSend(ctx, userID, mid, err)
	default:
		c.dropDraft(ctx, userID, mid)
		return domain.Sent{}, classify("sendDraft", err)
	}
}

// settleSend finds out what became of a draft whose /send answer was lost
// or not 202, by deleting it: deleted means it was still a draft, not
// sent (KindUpstream: the device sends it again); gone means it was sent.
// When even that cannot be told, the send is Unconfirmed: sending it
// again could send it twice.
func (c *Client) settleSend(ctx context.Context, userID, mid string, sendErr error) (domain.Sent, error) {
	switch deleted, err := c.deleteDraft(ctx, userID, mid); {
	case err == nil && deleted:
		return domain.Sent{}, &domain.Error{Kind: domain.KindUpstream, Message: "Microsoft Graph did not send the message; try again later.",
			Err: fmt.Errorf("send draft: %w; the draft was still there and is deleted", sendErr)}
	case err == nil:
		c.log.WarnContext(ctx, "graph: send answer lost, and the draft is gone: sent", "user", userID, "err", sendErr)
		return domain.Sent{Unconfirmed: true}, nil
	default:
		c.log.WarnContext(ctx, "graph: send answer lost, and the draft cannot be looked at: the message may have been sent", "user", userID, "err", sendErr, "delete_err", err)
		return domain.Sent{Unconfirmed: true}, nil
	}
}

// dropDraft deletes a draft that will not be sent, so that no copy of a
// failed message stays in the owner's Drafts; a failure is only logged.
func (c *Client) dropDraft(ctx context.Context, userID, mid string) {
	if _, err := c.deleteDraft(ctx, userID, mid); err != nil {
		c.log.WarnContext(ctx, "graph: could not delete the draft of a message that failed", "user", userID, "err", err)
	}
}

// deleteDraft deletes /users/{id}/messages/{mid}. It reports whether the
// message was there (204) or not (404), with its own time: the SMTP
// transaction's may be spent.
func (c *Client) deleteDraft(ctx context.Context, userID, mid string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	b := c.graph.Users().ByUserId(userID).Messages().ByMessageId(mid)
	info := abs.NewRequestInformationWithMethodAndUrlTemplateAndPathParameters(abs.DELETE, b.UrlTemplate, b.PathParameters)
	status := 0
	err := c.wait.retry(ctx, graphRetry, "deleteDraft", func() error {
		var err error
		status, _, err = c.sendExpecting(ctx, "deleteDraft", info, http.StatusNoContent, http.StatusNotFound)
		return err
	})
	if err != nil {
		return false, classify("deleteDraft", err)
	}
	return status == http.StatusNoContent, nil
}

// once marks the failures of a call that must not be repeated blindly
// (it is not idempotent, or repeating it sends mail twice): only 429 and
// 503, which Graph answers before doing anything, stay retryable; no
// answer, a timeout, 500, 502 and 504 become *ambiguous, which the retry
// policy does not retry.
func once(fn func() error) func() error {
	return func() error {
		err := fn()
		if err == nil {
			return nil
		}
		var na *notAccepted
		if errors.As(err, &na) {
			return err
		}
		ge := inspect("", err)
		switch {
		case ge.Status == http.StatusTooManyRequests || ge.Status == http.StatusServiceUnavailable:
			return err
		case ge.Status == 0 && !errors.Is(err, errRefusedToSend), ge.Status == http.StatusInternalServerError,
			ge.Status == http.StatusBadGateway, ge.Status == http.StatusGatewayTimeout:
			return &ambiguous{err: err, ge: ge}
		}
		return err
	}
}

// ambiguous is a failure after which the call may or may not have taken
// effect. It deliberately does not unwrap, so that the retry policy sees
// no network failure in it.
type ambiguous struct {
	err error
	ge  *graphError
}

func (a *ambiguous) Error() string { return "answer lost: " + a.err.Error() }

// unwrapAmbiguous returns the failure inside an *ambiguous, for classify.
func unwrapAmbiguous(err error) error {
	var a *ambiguous
	if errors.As(err, &a) {
		return a.err
	}
	return err
}

// notAccepted is a 2xx that is not the success Graph documents for the
// call (202 for sendMail and send): the field-reported silent drop.
type notAccepted struct {
	op        string
	status    int
	requestID string
}

func (n *notAccepted) Error() string {
	return fmt.Sprintf("graph %s: answered %d instead of 202 (request-id %s)", n.op, n.status, n.requestID)
}

// errRefusedToSend marks apppass's own refusal to send a request.
var errRefusedToSend = errors.New("request not sent")

// postMIME posts base64 MIME as text/plain to /users/{id}/sendMail (op
// "sendMail", success exactly 202) or /users/{id}/messages (op
// "createDraft", 201, result in *out): the msgraph-sdk-go builders only
// send JSON, so the request is built on their URL templates and sent
// through the same authenticated adapter. It returns Graph's request id.
func (c *Client) postMIME(ctx context.Context, userID, op string, msg []byte, out *models.Messageable) (string, error) {
	user := c.graph.Users().ByUserId(userID)
	var info *abs.RequestInformation
	if op == "sendMail" {
		b := user.SendMail()
		info = abs.NewRequestInformationWithMethodAndUrlTemplateAndPathParameters(abs.POST, b.UrlTemplate, b.PathParameters)
	} else {
		b := user.Messages()
		info = abs.NewRequestInformationWithMethodAndUrlTemplateAndPathParameters(abs.POST, b.UrlTemplate, b.PathParameters)
	}
	body := make([]byte, base64.StdEncoding.EncodedLen(len(msg)))
	base64.StdEncoding.Encode(body, msg)
	info.SetStreamContentAndContentType(body, "text/plain")
	info.Headers.TryAdd("Accept", "application/json")
	if out == nil {
		_, ref, err := c.sendExpecting(ctx, op, info, http.StatusAccepted)
		return ref, err
	}
	info.AddRequestOptions(noSDKRetry())
	errs := abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}
	res, err := c.graph.GetAdapter().Send(ctx, info, models.CreateMessageFromDiscriminatorValue, errs)
	if err != nil {
		return "", err
	}
	m, ok := res.(models.Messageable)
	if !ok || deref(m.GetId()) == "" {
		return "", &domain.Error{Kind: domain.KindUpstream, Message: "Microsoft Graph did not return the draft.", Err: errors.New("create draft: no message id")}
	}
	*out = m
	return "", nil
}

// postSend posts /users/{id}/messages/{mid}/send; success is exactly 202.
func (c *Client) postSend(ctx context.Context, userID, mid string) (string, error) {
	b := c.graph.Users().ByUserId(userID).Messages().ByMessageId(mid).Send()
	info := abs.NewRequestInformationWithMethodAndUrlTemplateAndPathParameters(abs.POST, b.UrlTemplate, b.PathParameters)
	_, ref, err := c.sendExpecting(ctx, "sendDraft", info, http.StatusAccepted)
	return ref, err
}

// postAttachment adds a, under 3 MB, to the draft as a fileAttachment:
// POST /users/{id}/messages/{mid}/attachments, success 201.
func (c *Client) postAttachment(ctx context.Context, userID, mid string, a mimesplit.Attachment) error {
	b := c.graph.Users().ByUserId(userID).Messages().ByMessageId(mid).Attachments()
	info := abs.NewRequestInformationWithMethodAndUrlTemplateAndPathParameters(abs.POST, b.UrlTemplate, b.PathParameters)
	var body bytes.Buffer
	body.WriteString(`{"@odata.type":"#microsoft.graph.fileAttachment","name":`)
	body.Write(jsonString(a.Name))
	body.WriteString(`,"contentType":`)
	body.Write(jsonString(a.ContentType))
	if a.ContentID != "" {
		body.WriteString(`,"contentId":`)
		body.Write(jsonString(a.ContentID))
	}
	fmt.Fprintf(&body, `,"isInline":%t,"contentBytes":"`, a.Inline)
	enc := base64.NewEncoder(base64.StdEncoding, &body)
	_, _ = enc.Write(a.Data) // a bytes.Buffer does not fail
	_ = enc.Close()
	body.WriteString(`"}`)
	info.SetStreamContentAndContentType(body.Bytes(), "application/json")
	_, _, err := c.sendExpecting(ctx, "addAttachment", info, http.StatusCreated)
	return err
}

// sendExpecting sends info through the Graph adapter and accepts only the
// statuses want (the first of which is the documented success): another
// 2xx is a *notAccepted, an error status a *graphError with Graph's code,
// request id and Retry-After. It returns the status and request id.
func (c *Client) sendExpecting(ctx context.Context, op string, info *abs.RequestInformation, want ...int) (int, string, error) {
	status, ref := 0, ""
	handler := abs.NewRequestHandlerOption()
	handler.SetResponseHandler(func(response any, _ abs.ErrorMappings) (any, error) {
		resp, ok := response.(*http.Response)
		if !ok || resp == nil {
			return nil, &graphError{Op: op, Err: fmt.Errorf("%s: no response: %w", op, errNoAnswer)}
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		status, ref = resp.StatusCode, resp.Header.Get("request-id")
		for _, w := range want {
			if status == w {
				return nil, nil
			}
		}
		if status/100 == 2 {
			return nil, &notAccepted{op: op, status: status, requestID: ref}
		}
		ge := &graphError{Op: op, Status: status, RequestID: ref, RetryAfter: resp.Header.Get("Retry-After")}
		ge.Code, ge.Message = odataCode(body)
		return nil, ge
	})
	info.AddRequestOptions(append(noSDKRetry(), handler))
	err := c.graph.GetAdapter().SendNoContent(ctx, info, abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue})
	return status, ref, err
}

// uploadAttachment adds a, of 3 MB or more, to the draft through an
// upload session.
func (c *Client) uploadAttachment(ctx context.Context, msgItem *users.ItemMessagesMessageItemRequestBuilder, a mimesplit.Attachment) error {
	item := models.NewAttachmentItem()
	kind := models.FILE_ATTACHMENTTYPE
	item.SetAttachmentType(&kind)
	item.SetName(ptr(a.Name))
	item.SetSize(ptr(int64(len(a.Data))))
	item.SetContentType(ptr(a.ContentType))
	item.SetIsInline(ptr(a.Inline))
	if a.ContentID != "" {
		item.SetContentId(ptr(a.ContentID))
	}
	body := users.NewItemMessagesItemAttachmentsCreateUploadSessionPostRequestBody()
	body.SetAttachmentItem(item)
	var uploadURL string
	err := c.wait.retry(ctx, graphRetry, "createUploadSession", func() error {
		s, err := msgItem.Attachments().CreateUploadSession().Post(ctx, body,
			&users.ItemMessagesItemAttachmentsCreateUploadSessionRequestBuilderPostRequestConfiguration{Options: noSDKRetry()})
		if err != nil {
			return err
		}
		uploadURL = deref(s.GetUploadUrl())
		return nil
	})
	if err != nil {
		return err
	}
	if uploadURL == "" {
		return &domain.Error{Kind: domain.KindUpstream, Message: "Microsoft Graph gave no upload URL.", Err: errors.New("create upload session: no uploadUrl")}
	}
	for from := 0; from < len(a.Data); from += uploadChunk {
		to := min(from+uploadChunk, len(a.Data))
		if err := c.wait.retry(ctx, graphRetry, "uploadChunk", func() error { return c.putChunk(ctx, uploadURL, a.Data, from, to) }); err != nil {
			return err
		}
	}
	return nil
}

// putChunk sends data[from:to] to the pre-authenticated upload URL, with
// no Authorization header (the URL carries its own token, so neither the
// Graph adapter nor its token is used).
func (c *Client) putChunk(ctx context.Context, uploadURL string, data []byte, from, to int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, uploadURL, bytes.NewReader(data[from:to]))
	if err != nil {
		return &domain.Error{Kind: domain.KindUpstream, Message: "Microsoft Graph gave a bad upload URL.", Err: errors.New("upload chunk: bad url")}
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, to-1, len(data)))
	resp, err := c.http.Do(req)
	if err != nil {
		// The URL holds a token: keep only the kind of failure.
		if ctx.Err() != nil {
			return &graphError{Op: "uploadChunk", Err: fmt.Errorf("upload chunk: %w", ctx.Err())}
		}
		return &graphError{Op: "uploadChunk", Err: fmt.Errorf("upload chunk: %s: %w", transportReason(err), errNoAnswer)}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	last := to == len(data)
	if (!last && resp.StatusCode == http.StatusOK) || (last && (resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK)) {
		return nil
	}
	ge := &graphError{Op: "uploadChunk", Status: resp.StatusCode, RequestID: resp.Header.Get("request-id"), RetryAfter: resp.Header.Get("Retry-After")}
	ge.Code, ge.Message = odataCode(b)
	return ge
}

// noSDKRetry turns the SDK's retry handler off for one request. The
// client's handler never retries (withoutSDKRetry); this keeps it so for
// the mail calls should that ever change: SendMail retries itself, within
// the SMTP transaction's deadline.
func noSDKRetry() []abs.RequestOption {
	return []abs.RequestOption{&khttp.RetryHandlerOptions{
		MaxRetries:  0,
		ShouldRetry: func(time.Duration, int, *http.Request, *http.Response) bool { return false },
	}}
}

// jsonString encodes s as a JSON string.
func jsonString(s string) []byte {
	b, _ := json.Marshal(s) // a string always encodes
	return b
}
