package graphclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/apppass/apppass/domain"
)

// graphError is what Graph said about a failed call, for logs and for
// deciding what to tell the person. Status 0 means no answer at all.
type graphError struct {
	Op         string
	Status     int
	Code       string
	Message    string
	RequestID  string
	RetryAfter string // the Retry-After header as Graph sent it, if any
	Err        error
}

func (e *graphError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("graph %s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("graph %s: %d %s: %s (request-id %s)", e.Op, e.Status, e.Code, e.Message, e.RequestID)
}

func (e *graphError) Unwrap() error { return e.Err }

// inspect extracts status, code, request id and Retry-After from a failed
// call: an SDK error, or a *graphError a raw call (putChunk) made itself.
func inspect(op string, err error) *graphError {
	var own *graphError
	if errors.As(err, &own) {
		return own
	}
	ge := &graphError{Op: op, Err: err}
	var headers *abs.ResponseHeaders
	var api abs.ApiErrorable
	if errors.As(err, &api) {
		ge.Status = api.GetStatusCode()
		headers = api.GetResponseHeaders()
	}
	var odata *odataerrors.ODataError
	if errors.As(err, &odata) {
		if main := odata.GetErrorEscaped(); main != nil {
			ge.Code = deref(main.GetCode())
			ge.Message = deref(main.GetMessage())
			if inner := main.GetInnerError(); inner != nil {
				ge.RequestID = deref(inner.GetRequestId())
			}
		}
	}
	if headers != nil {
		if v := headers.Get("request-id"); len(v) > 0 && ge.RequestID == "" {
			ge.RequestID = v[0]
		}
		if v := headers.Get("Retry-After"); len(v) > 0 {
			ge.RetryAfter = v[0]
		}
	}
	return ge
}

// transient reports whether the same call may well succeed later: Graph
// was throttling (429), overloaded or between its front door and a
// service (502, 503, 504), or never answered. A 500 is not: Graph answers
// it to some requests every time. Only idempotent calls may act on it
// (retry.go).
func (e *graphError) transient() bool {
	switch e.Status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case 0:
		return networkFailure(e.Err)
	}
	return false
}

// errNoAnswer marks a failure to reach Graph whose own error was dropped
// because it could hold a secret (an upload URL).
var errNoAnswer = errors.New("no answer from Microsoft Graph")

// networkFailure reports whether err is a failure to reach Graph or to
// read its answer, as opposed to the caller giving up (ctx) or apppass's
// own refusal (a domain error) or a token failure.
func networkFailure(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return false
	}
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errNoAnswer)
}

// mailOps are the calls of SendMail: their failures are about the message
// and the mailbox, and are told to a device, not to a person in Slack.
var mailOps = map[string]bool{"sendMail": true, "createDraft": true, "createUploadSession": true, "uploadChunk": true, "sendDraft": true, "addAttachment": true, "deleteDraft": true}

// classify is the one mapping from Graph's answer to the domain's error
// kinds, for every call, mail included. The message is safe to show (it
// names what apppass may not do, never Graph's text); Graph's request id
// becomes the correlation id. An error that already is a domain error is
// returned unchanged.
//
//   - Directory_QuotaExceeded: KindLimit.
//   - CredentialInvalidLifetimeAsPerAppPolicy (an app management policy
//     caps password lifetimes): KindForbidden, with domain.ErrLifetimePolicy
//     in the chain.
//   - 429, 5xx, no answer, timeout: KindUpstream (busy or broken; try
//     again later).
//   - 401: KindUpstream. Graph did not accept apppass's own token: not a
//     decision about this request, and the device or person should retry
//     once apppass's credential is fixed.
//   - 403: KindForbidden. apppass's identity lacks the Graph permission
//     (or, for mail, the Exchange scope) this needs; retrying cannot help.
//   - 404: KindNotFound.
//   - Other refusals: KindInvalid for mail (the message itself), else
//     KindUpstream (apppass's request, so logged as a failure).
func classify(op string, err error) error {
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	ge := inspect(op, err)
	mail := mailOps[ge.Op] || mailOps[op]
	e := &domain.Error{Kind: domain.KindUpstream, Ref: ge.RequestID, Err: ge}
	service := "Microsoft Entra"
	if mail {
		service = "Microsoft Graph"
	}
	switch {
	case ge.Status == 0 && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)):
		e.Message = service + " did not answer in time. Please try again later."
	case ge.Status == 0:
		e.Message = service + " could not be reached. Please try again later."
	case ge.Code == "Directory_QuotaExceeded":
		e.Kind = domain.KindLimit
		e.Message = "apppass has reached Entra's limit on the directory objects it may create, so it cannot set up app passwords for new people. The helpdesk has been told."
	case ge.Code == "CredentialInvalidLifetimeAsPerAppPolicy" || (ge.Status == http.StatusBadRequest && strings.Contains(ge.Code, "AsPerAppPolicy")):
		e.Kind = domain.KindForbidden
		e.Err = fmt.Errorf("%w: %w", domain.ErrLifetimePolicy, ge)
		e.Message = "Your organisation's Entra policy refused this app password's lifetime, so none was created. The helpdesk has been told what to change."
	case ge.transient() || ge.Status >= 500:
		e.Message = service + " is busy right now. Please try again in a minute."
	case ge.Status == http.StatusUnauthorized:
		e.Message = service + " did not accept apppass's sign-in. Please try again later, or tell the helpdesk."
	case ge.Status == http.StatusForbidden && mail:
		e.Kind = domain.KindForbidden
		e.Message = "apppass may not send as this mailbox (Mail.Send and its Exchange scope)."
	case ge.Status == http.StatusForbidden:
		e.Kind = domain.KindForbidden
		e.Message = "apppass may not do that in Microsoft Entra: its identity lacks a Microsoft Graph permission. Please tell the helpdesk."
	case ge.Status == http.StatusNotFound && mail:
		e.Kind = domain.KindNotFound
		e.Message = "Microsoft Graph does not know this mailbox."
	case ge.Status == http.StatusNotFound:
		e.Kind = domain.KindNotFound
		e.Message = "Microsoft Entra could not find that."
	case mail:
		e.Kind = domain.KindInvalid
		e.Message = "Microsoft Graph refused the message."
	default:
		e.Message = "Microsoft Entra did not accept the request. Please try again, or tell the helpdesk."
	}
	return e
}

// retryAfter parses a Retry-After value, delta seconds or an HTTP date
// (RFC 9110 §10.2.3), as a wait from now. ok is false when v is absent
// or unreadable; a date in the past is a wait of 0.
func retryAfter(v string, now time.Time) (wait time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func statusOf(err error) int {
	return inspect("", err).Status
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// odataCode reads the code and message of a Graph error body.
func odataCode(body []byte) (string, string) {
	var v struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &v) // a body that is not Graph's gives ""
	return v.Error.Code, v.Error.Message
}
