package fakeentra

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault is an injected failure, answered instead of (or, with AfterEffect,
// after performing) the operation.
type Fault struct {
	// Status is the HTTP status; 0 means 503. A 2xx answers that status
	// with no body, without performing the operation (unless AfterEffect):
	// Graph's field-reported sendMail answered 200 and dropped
	// (microsoft-graph-docs #13979).
	Status int
	// Code is the Graph error code (or the OAuth "error" for op "token");
	// empty picks Graph's usual code for Status, e.g. TooManyRequests for 429.
	Code string
	// Message is the error message; empty gives a generic one.
	Message string
	// RetryAfter, when > 0, is sent as the Retry-After header, in seconds.
	RetryAfter int
	// AfterEffect performs the operation, then answers the fault: an
	// ambiguous failure where the change happened but the client saw an error.
	AfterEffect bool
	// Disconnect drops the connection without any response instead of
	// answering Status (combine with AfterEffect for a lost reply).
	Disconnect bool
	// Times is how many calls the fault applies to; 0 means 1.
	Times int
}

// Inject queues f for the next calls of op (an Op… constant). Faults queued
// for one op apply in order. Op "" targets the next Graph calls of any op;
// a call first consumes its own op's queue, then the "" queue. Faults apply
// after authentication and latency; discovery cannot fail.
func (s *Server) Inject(op string, f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], f)
}

// ClearFaults drops every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

// nextFault pops the fault for a call of op, if any.
func (s *Server) nextFault(op string, graph bool) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := []string{op}
	if graph {
		keys = append(keys, "")
	}
	for _, k := range keys {
		q := s.faults[k]
		if len(q) == 0 {
			continue
		}
		f := q[0]
		if q[0].Times--; q[0].Times == 0 {
			s.faults[k] = q[1:]
		}
		return f, true
	}
	return Fault{}, false
}

// writeFault answers f.
func (s *Server) writeFault(x *exchange, f Fault) {
	if f.Disconnect {
		x.status = 0
		panic(http.ErrAbortHandler) // x.record runs in serve's defer
	}
	status := f.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	if status/100 == 2 {
		x.status = status
		x.w.WriteHeader(status)
		return
	}
	if f.RetryAfter > 0 {
		x.w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	code, msg := f.Code, f.Message
	if msg == "" {
		msg = "fakeentra: injected fault for " + x.op + "."
	}
	if x.op == OpToken {
		if code == "" {
			code = "temporarily_unavailable"
		}
		s.aadError(x, status, code, 50196, msg)
		return
	}
	if code == "" {
		code = defaultCode(status)
	}
	x.graphError(status, code, msg)
}

// defaultCode returns Graph's usual error code for status.
func defaultCode(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	case http.StatusServiceUnavailable:
		return "ServiceNotAvailable"
	case http.StatusInternalServerError:
		return "InternalServerError"
	case http.StatusGatewayTimeout:
		return "GatewayTimeout"
	case http.StatusBadGateway:
		return "BadGateway"
	}
	return strings.ReplaceAll(http.StatusText(status), " ", "")
}

// SetLatency delays every call of op by d before it is served (and before
// its fault, if any); d <= 0 removes the delay. Op "" sets the delay of all
// Graph ops that have none of their own; op "token" delays the token endpoint.
func (s *Server) SetLatency(op string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		delete(s.latency, op)
		return
	}
	s.latency[op] = d
}

// latencyFor returns the delay of a call of op.
func (s *Server) latencyFor(op string, graph bool) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.latency[op]; ok || !graph {
		return d
	}
	return s.latency[""]
}

// SetReplicationLag hides from listApplications every credential added by
// addPassword less than d ago (by the fake's clock). removePassword still
// finds it, and [Server.Applications] and [Server.CredentialsOf] still show it.
func (s *Server) SetReplicationLag(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replLag = d
}

// SetNewAppLag makes addPassword answer 404 Request_ResourceNotFound for an
// application created over HTTP less than d ago (seeded ones are exempt).
func (s *Server) SetNewAppLag(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.newAppLag = d
}

// SetObjectQuota limits the directory to n applications plus service
// principals, seeded ones included: creating one more answers 400
// Directory_QuotaExceeded. n < 0 removes the limit (the default).
func (s *Server) SetObjectQuota(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objectQuota = n
}
