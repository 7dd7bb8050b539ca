package graphclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/apppass/apppass/domain"
)

// odataErr is the error msgraph-sdk-go returns for a Graph answer.
func odataErr(status int, code, retryAfter string) error {
	e := odataerrors.NewODataError()
	e.ResponseStatusCode = status
	main := odataerrors.NewMainError()
	main.SetCode(&code)
	msg := "graph says " + code
	main.SetMessage(&msg)
	e.SetErrorEscaped(main)
	h := abs.NewResponseHeaders()
	h.Add("request-id", "req-1")
	if retryAfter != "" {
		h.Add("Retry-After", retryAfter)
	}
	e.ResponseHeaders = h
	return e
}

func TestClassify(t *testing.T) {
	netErr := &url.Error{Op: "Post", URL: "https://graph.test/v1.0/users", Err: io.ErrUnexpectedEOF}
	tests := []struct {
		name, op string
		err      error
		want     domain.Kind
		message  string // a part of the message, "" not checked
	}{
		{"quota", "createApplication", odataErr(400, "Directory_QuotaExceeded", ""), domain.KindLimit, "limit"},
		{"throttled", "listApplications", odataErr(429, "TooManyRequests", "3"), domain.KindUpstream, "busy"},
		{"unavailable", "getUser", odataErr(503, "ServiceUnavailable", ""), domain.KindUpstream, "busy"},
		{"internal error", "getUser", odataErr(500, "generalException", ""), domain.KindUpstream, "busy"},
		{"internal error on mail", "sendMail", odataErr(500, "generalException", ""), domain.KindUpstream, "busy"},
		{"no answer", "getUser", netErr, domain.KindUpstream, "could not be reached"},
		{"deadline", "getUser", fmt.Errorf("send: %w", context.DeadlineExceeded), domain.KindUpstream, "in time"},
		{"token refused", "getUser", odataErr(401, "InvalidAuthenticationToken", ""), domain.KindUpstream, "sign-in"},
		{"403 on Entra", "addPassword", odataErr(403, "Authorization_RequestDenied", ""), domain.KindForbidden, "apppass may not"},
		{"403 on mail", "sendMail", odataErr(403, "ErrorAccessDenied", ""), domain.KindForbidden, "apppass may not send"},
		{"403 on a chunk", "uploadChunk", &graphError{Op: "uploadChunk", Status: 403}, domain.KindForbidden, "apppass may not send"},
		{"404 on Entra", "listOwners", odataErr(404, "Request_ResourceNotFound", ""), domain.KindNotFound, ""},
		{"404 on mail", "sendMail", odataErr(404, "ErrorInvalidUser", ""), domain.KindNotFound, "mailbox"},
		{"400 on mail is the message", "sendMail", odataErr(400, "ErrorInvalidRecipients", ""), domain.KindInvalid, "refused the message"},
		{"400 on Entra is apppass's request", "filterUsers", odataErr(400, "Request_BadRequest", ""), domain.KindUpstream, ""},
		{"a domain error passes through", "createDraft", domain.Errorf(domain.KindConflict, "x"), domain.KindConflict, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classify(tt.op, tt.err)
			if got := domain.KindOf(err); got != tt.want {
				t.Fatalf("kind = %v, want %v (%v)", got, tt.want, err)
			}
			if msg := domain.MessageOf(err); tt.message != "" && !strings.Contains(msg, tt.message) {
				t.Errorf("message %q lacks %q", msg, tt.message)
			}
			var ge *graphError
			if _, ok := tt.err.(*odataerrors.ODataError); ok && (!errors.As(err, &ge) || domain.RefOf(err) != "req-1") {
				t.Errorf("lost Graph's answer or request id: %v (ref %q)", err, domain.RefOf(err))
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7", 7 * time.Second, true},
		{" 0 ", 0, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"Thu, 03 Dec 2026 08:00:30 GMT", 30 * time.Second, true},
		{"Thursday, 03-Dec-26 08:00:30 GMT", 30 * time.Second, true}, // RFC 850, which RFC 9110 still accepts
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// fakeTime is a clock that sleeping moves, and a record of the sleeps.
type fakeTime struct {
	t      time.Time
	slept  []time.Duration
	jitter float64
}

func (f *fakeTime) waiter() waiter {
	return waiter{
		now: func() time.Time { return f.t },
		sleep: func(ctx context.Context, d time.Duration) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			f.slept = append(f.slept, d)
			f.t = f.t.Add(d)
			return nil
		},
		jitter: func() float64 { return f.jitter },
		log:    slog.New(slog.DiscardHandler),
	}
}

func TestRetry(t *testing.T) {
	start := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	busy := odataErr(503, "ServiceUnavailable", "")
	tests := []struct {
		name     string
		policy   retryPolicy
		answers  []error // one per call; after the last, success
		deadline time.Duration
		jitter   float64
		calls    int
		slept    []time.Duration
		ok       bool
	}{
		{name: "success at once", policy: graphRetry, calls: 1, ok: true},
		{name: "Retry-After in seconds", policy: graphRetry, answers: []error{odataErr(429, "TooManyRequests", "7")},
			calls: 2, slept: []time.Duration{7 * time.Second}, ok: true},
		{name: "Retry-After as an HTTP date", policy: graphRetry,
			answers: []error{odataErr(503, "ServiceUnavailable", start.Add(20*time.Second).Format(http.TimeFormat))},
			calls:   2, slept: []time.Duration{20 * time.Second}, ok: true},
		{name: "Retry-After plus up to a tenth", policy: graphRetry, jitter: 0.5, answers: []error{odataErr(429, "TooManyRequests", "10")},
			calls: 2, slept: []time.Duration{10*time.Second + 500*time.Millisecond}, ok: true},
		{name: "backoff doubles to its cap, less up to half", policy: graphRetry, jitter: 0.5,
			answers: []error{busy, busy, busy, busy, busy}, calls: 6, ok: true,
			slept: []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 6 * time.Second, 6 * time.Second}},
		{name: "backoff with no jitter is the full backoff", policy: graphRetry, answers: []error{busy, busy}, calls: 3, ok: true,
			slept: []time.Duration{time.Second, 2 * time.Second}},
		{name: "attempts are capped", policy: graphRetry, answers: []error{busy, busy, busy, busy, busy, busy, busy}, calls: 6,
			slept: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}},
		{name: "a Retry-After beyond the cap on one wait ends it", policy: graphRetry,
			answers: []error{odataErr(429, "TooManyRequests", "3600")}, calls: 1},
		{name: "a wait past the deadline is not begun", policy: graphRetry, deadline: 5 * time.Second,
			answers: []error{odataErr(429, "TooManyRequests", "6")}, calls: 1},
		{name: "waits within the deadline are", policy: graphRetry, deadline: 5 * time.Second,
			answers: []error{busy, busy, busy}, calls: 3, slept: []time.Duration{time.Second, 2 * time.Second}},
		{name: "a refusal is not retried", policy: graphRetry, answers: []error{odataErr(403, "Authorization_RequestDenied", "")}, calls: 1},
		{name: "a 400 is not retried", policy: graphRetry, answers: []error{odataErr(400, "Request_BadRequest", "")}, calls: 1},
		{name: "a 500 is not retried", policy: graphRetry, answers: []error{odataErr(500, "generalException", "")}, calls: 1},
		{name: "a lost answer is retried", policy: graphRetry, answers: []error{&url.Error{Op: "Get", URL: "u", Err: io.ErrUnexpectedEOF}},
			calls: 2, slept: []time.Duration{time.Second}, ok: true},
		{name: "the caller giving up is not retried", policy: graphRetry, answers: []error{&url.Error{Op: "Get", URL: "u", Err: context.Canceled}}, calls: 1},
		{name: "an unrelated 400 on a service principal is not retried", policy: spRetry,
			answers: []error{odataErr(400, "Request_BadRequest", "")}, calls: 1},
		{name: "replication is retried where the policy says", policy: spRetry,
			answers: []error{&graphError{Status: 403, Message: "The backing application of the service principal being created must in the local tenant"}},
			calls:   2, slept: []time.Duration{500 * time.Millisecond}, ok: true},
		{name: "but not elsewhere", policy: graphRetry,
			answers: []error{&graphError{Status: 403, Message: "The backing application of the service principal being created must in the local tenant"}},
			calls:   1},
		{name: "the total budget is capped", policy: retryPolicy{attempts: 100, first: time.Second, maxBackoff: time.Second, maxWait: time.Minute, budget: 3 * time.Second},
			answers: []error{busy, busy, busy, busy, busy}, calls: 4, slept: []time.Duration{time.Second, time.Second, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeTime{t: start, jitter: tt.jitter}
			ctx := context.Background()
			if tt.deadline > 0 {
				// The waiter's clock and the deadline are both the fake's.
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Hour))
				defer cancel()
				clock.t = time.Now().Add(time.Hour - tt.deadline)
			}
			calls := 0
			err := clock.waiter().retry(ctx, tt.policy, "op", func() error {
				calls++
				if calls <= len(tt.answers) {
					return tt.answers[calls-1]
				}
				return nil
			})
			if (err == nil) != tt.ok {
				t.Errorf("err = %v, want ok %v", err, tt.ok)
			}
			if !tt.ok && len(tt.answers) > 0 && err != tt.answers[calls-1] {
				t.Errorf("err = %v, want the last answer unchanged", err)
			}
			if calls != tt.calls {
				t.Errorf("calls = %d, want %d", calls, tt.calls)
			}
			if fmt.Sprint(clock.slept) != fmt.Sprint(tt.slept) {
				t.Errorf("slept %v, want %v", clock.slept, tt.slept)
			}
		})
	}
}

func TestJitterBounds(t *testing.T) {
	for _, j := range []float64{0, 0.25, 0.5, 0.999999} {
		w := (&fakeTime{jitter: j}).waiter()
		for _, backoff := range []time.Duration{500 * time.Millisecond, time.Second, 8 * time.Second} {
			d, ok := w.delay(graphRetry, "", backoff)
			if !ok || d < backoff/2 || d > backoff {
				t.Errorf("jitter %v: backoff %v waits %v, want within [%v, %v]", j, backoff, d, backoff/2, backoff)
			}
		}
		for _, ra := range []int{1, 30, 60} {
			asked := time.Duration(ra) * time.Second
			d, ok := w.delay(graphRetry, fmt.Sprint(ra), time.Second)
			if !ok || d < asked || d > min(asked+asked/10, graphRetry.maxWait) {
				t.Errorf("jitter %v: Retry-After %d waits %v, want within [%v, %v]", j, ra, d, asked, min(asked+asked/10, graphRetry.maxWait))
			}
		}
	}
}

func TestSDKRetryIsOff(t *testing.T) {
	c, err := New(Options{TenantID: "t", ClientID: "c", ClientSecret: domain.NewSecret("s"),
		AuthorityHost: "https://login.test/", GraphBaseURL: "https://graph.test/v1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if c.wait.sleep == nil || c.wait.now == nil || c.wait.jitter == nil {
		t.Fatal("New left the waiter without a clock, a sleep or jitter")
	}
	req, _ := http.NewRequest(http.MethodGet, "https://graph.test/v1.0/users", nil)
	if noRetry.ShouldRetry(0, 0, req, &http.Response{StatusCode: 503}) {
		t.Error("the SDK's retry handler would retry a 503")
	}
}
