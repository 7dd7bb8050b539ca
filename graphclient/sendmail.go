package graphclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
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
)

// SendMail sends msg, a complete MIME message, as the mailbox userID with
// apppass's own identity (Mail.Send). A message whose base64 fits Graph's
// 4 MB request limit goes in one POST /users/{id}/sendMail, unchanged.
// A larger one goes as a draft of the message without its largest
// attachments (every other byte unchanged), each of those attachments
// through an upload session in chunks, then send: the attachments' bytes
// arrive unchanged, but their MIME framing is Exchange's (see mimesplit).
//
// Graph's 429, 503 and 504 are retried after Retry-After while ctx's
// deadline allows. It returns nil once Graph accepted the message; a
// KindUpstream error when Graph stayed busy or unreachable (the device
// should retry); any other kind for a refusal that will not change on
// retry (KindForbidden: not allowed to send as this mailbox; KindInvalid:
// the message; KindNotFound: no such mailbox). Errors carry Graph's
// request id as Ref.
func (c *Client) SendMail(ctx context.Context, userID string, msg []byte) error {
	if base64.StdEncoding.EncodedLen(len(msg)) <= maxMIMERequest {
		return c.mailStep(ctx, "sendMail", func() error { return c.postMIME(ctx, userID, "sendMail", msg, nil) })
	}
	rest, atts, err := mimesplit.Split(msg, func(n int) bool { return base64.StdEncoding.EncodedLen(n) <= maxMIMERequest })
	if err != nil {
		return &domain.Error{Kind: domain.KindInvalid, Message: "The message is too large for Microsoft Graph without its attachments, or its MIME is malformed.",
			Err: fmt.Errorf("send mail: split: %w", err)}
	}
	var draft models.Messageable
	err = c.mailStep(ctx, "createDraft", func() error {
		var m models.Messageable
		err := c.postMIME(ctx, userID, "createDraft", rest, &m)
		draft = m
		return err
	})
	if err != nil {
		return err
	}
	mid := deref(draft.GetId())
	msgItem := c.graph.Users().ByUserId(userID).Messages().ByMessageId(mid)
	for _, a := range atts {
		if err := c.uploadAttachment(ctx, msgItem, a); err != nil {
			return err
		}
	}
	return c.mailStep(ctx, "sendDraft", func() error {
		return msgItem.Send().Post(ctx, &users.ItemMessagesItemSendRequestBuilderPostRequestConfiguration{Options: noSDKRetry()})
	})
}

// mailStep runs one step of SendMail under the one retry policy, within
// ctx's deadline (the SMTP transaction's), and classifies its failure.
func (c *Client) mailStep(ctx context.Context, op string, fn func() error) error {
	if err := c.wait.retry(ctx, graphRetry, op, fn); err != nil {
		return classify(op, err)
	}
	return nil
}

// postMIME posts base64 MIME as text/plain to /users/{id}/sendMail (op
// "sendMail") or /users/{id}/messages (op "createDraft", result in *out):
// the msgraph-sdk-go builders only send JSON, so the request is built on
// their URL templates and sent through the same authenticated adapter.
func (c *Client) postMIME(ctx context.Context, userID, op string, msg []byte, out *models.Messageable) error {
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
	info.AddRequestOptions(noSDKRetry())
	errs := abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}
	adapter := c.graph.GetAdapter()
	if out == nil {
		return adapter.SendNoContent(ctx, info, errs)
	}
	res, err := adapter.Send(ctx, info, models.CreateMessageFromDiscriminatorValue, errs)
	if err != nil {
		return err
	}
	m, ok := res.(models.Messageable)
	if !ok || deref(m.GetId()) == "" {
		return &domain.Error{Kind: domain.KindUpstream, Message: "Microsoft Graph did not return the draft.", Err: errors.New("create draft: no message id")}
	}
	*out = m
	return nil
}

// uploadAttachment adds a to the draft through an upload session.
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
	err := c.mailStep(ctx, "createUploadSession", func() error {
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
		if err := c.mailStep(ctx, "uploadChunk", func() error { return c.putChunk(ctx, uploadURL, a.Data, from, to) }); err != nil {
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
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated {
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
