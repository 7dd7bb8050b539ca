package fakeslack

import "time"

// fault is an armed failure for one Web API method.
type fault struct {
	slackErr   string // for FailMethod
	retryAfter int    // for RateLimit, seconds
	remaining  int    // <0: forever
}

// takeFault consumes one use of the fault armed for method, if any.
func takeFault(m map[string]*fault, method string) *fault {
	f, ok := m[method]
	if !ok {
		return nil
	}
	if f.remaining > 0 {
		f.remaining--
		if f.remaining == 0 {
			delete(m, method)
		}
	}
	return f
}

// FailMethod makes the next times calls to the Web API method answer
// {"ok":false,"error":slackError} (after authentication succeeded). times<0
// fails forever; times==0 or slackError=="" clears the fault. For example,
// FailMethod("apps.connections.open", "invalid_auth", 1) makes slack-go's
// socketmode client give up for good, while any other error makes it retry
// with backoff.
func (s *Server) FailMethod(method, slackError string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slackError == "" || times == 0 {
		delete(s.st.failures, method)
		return
	}
	s.st.failures[method] = &fault{slackErr: slackError, remaining: times}
}

// RateLimit makes the next times calls to the Web API method answer HTTP
// 429 with "Retry-After: retryAfterSeconds" and {"ok":false,"error":
// "ratelimited"}; slack-go surfaces that as *slack.RateLimitedError. times<0
// limits forever; times==0 clears. Rate limiting applies before
// authentication and before FailMethod faults.
func (s *Server) RateLimit(method string, times, retryAfterSeconds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if times == 0 {
		delete(s.st.rateLimits, method)
		return
	}
	s.st.rateLimits[method] = &fault{retryAfter: retryAfterSeconds, remaining: times}
}

// FailResponseURLs makes every response URL post answer HTTP status with
// the text body "expired_url" (real Slack answers 404 "expired_url" or
// "used_url"); slack-go surfaces that as slack.StatusCodeError. status 0
// restores normal behaviour.
func (s *Server) FailResponseURLs(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.responseFault = status
}

// SetAPILatency delays every Web API answer and response URL answer by d
// (after the call is recorded). 0 removes the delay.
func (s *Server) SetAPILatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.apiLatency = d
}
