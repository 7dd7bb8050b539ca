package graphclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/apppass/apppass/domain"
)

// graphError is what Graph said about a failed call, for logs and for
// deciding what to tell the person.
type graphError struct {
	Op        string
	Status    int
	Code      string
	Message   string
	RequestID string
	Err       error
}

func (e *graphError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("graph %s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("graph %s: %d %s: %s (request-id %s)", e.Op, e.Status, e.Code, e.Message, e.RequestID)
}

func (e *graphError) Unwrap() error { return e.Err }

// inspect extracts status, code and request id from an SDK error.
func inspect(op string, err error) *graphError {
	ge := &graphError{Op: op, Err: err}
	var odata *odataerrors.ODataError
	if errors.As(err, &odata) {
		ge.Status = odata.ResponseStatusCode
		if main := odata.GetErrorEscaped(); main != nil {
			ge.Code = deref(main.GetCode())
			ge.Message = deref(main.GetMessage())
			if inner := main.GetInnerError(); inner != nil {
				ge.RequestID = deref(inner.GetRequestId())
			}
		}
		if ge.RequestID == "" && odata.ResponseHeaders != nil {
			if v := odata.ResponseHeaders.Get("request-id"); len(v) > 0 {
				ge.RequestID = v[0]
			}
		}
		return ge
	}
	type statusCoder interface{ GetStatusCode() int }
	var sc statusCoder
	if errors.As(err, &sc) {
		ge.Status = sc.GetStatusCode()
	}
	return ge
}

// classify turns a Graph failure into a domain error with a message the
// person can act on and Graph's request id as the correlation id.
func classify(op string, err error) error {
	ge := inspect(op, err)
	e := &domain.Error{Kind: domain.KindUpstream, Ref: ge.RequestID, Err: ge}
	switch {
	case ge.Code == "Directory_QuotaExceeded":
		e.Kind = domain.KindLimit
		e.Message = "apppass has reached Entra's limit on the directory objects it may create, so it cannot set up app passwords for new people. The helpdesk has been told."
	case ge.Status == http.StatusNotFound:
		e.Kind = domain.KindNotFound
		e.Message = "Microsoft Entra could not find that."
	case ge.Status == http.StatusTooManyRequests || ge.Status == http.StatusServiceUnavailable || ge.Status == http.StatusGatewayTimeout:
		e.Message = "Microsoft Entra is busy right now. Please try again in a minute."
	case ge.Status == http.StatusUnauthorized || ge.Status == http.StatusForbidden:
		e.Message = "apppass is not allowed to do that in Microsoft Entra. Please tell the helpdesk."
	default:
		e.Message = "Microsoft Entra did not accept the request. Please try again, or tell the helpdesk."
	}
	return e
}

func statusOf(err error) int {
	var ge *graphError
	if errors.As(err, &ge) {
		return ge.Status
	}
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
