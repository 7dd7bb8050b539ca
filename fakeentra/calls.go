package fakeentra

import "time"

// Call records one request the fake served.
type Call struct {
	// Op is the operation (an Op… constant), "unknown" for unserved routes.
	Op       string
	Method   string // HTTP method
	Path     string // unescaped path
	RawQuery string // query string as sent
	// At is when the call finished, by the fake's clock ([Server.SetNow]).
	At time.Time
	// Status is the HTTP status answered; 0 when the connection was dropped
	// by a Disconnect fault.
	Status int
	// Duration is the real time spent serving, injected latency included.
	Duration        time.Duration
	RequestID       string // request-id (x-ms-request-id on Entra routes)
	ClientRequestID string // client-request-id, echoed or generated
}

// Calls returns a copy of the call log, in completion order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsOf returns the logged calls of op, in completion order.
func (s *Server) CallsOf(op string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// Count returns how many calls of op were served since the last
// [Server.ResetCalls], whatever their outcome (failures included).
func (s *Server) Count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[op]
}

// ResetCalls empties the call log and the counters.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
	clear(s.counts)
}

// arrived counts a call of op that the fake is serving (n = 1) or has
// answered (n = -1).
func (s *Server) arrived(op string, n int) {
	s.mu.Lock()
	s.inFlight[op] += n
	s.mu.Unlock()
}

// InFlight returns how many calls of op the fake has received and not yet
// answered (they wait out their latency), so a test can act while one is
// under way instead of guessing with a pause. Op "" counts every call.
func (s *Server) InFlight(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op != "" {
		return s.inFlight[op]
	}
	n := 0
	for _, c := range s.inFlight {
		n += c
	}
	return n
}
