package fakeexchange

import "testing"

// Start builds a fake tenant whose tokens issuer vouches for and starts
// its SMTP listener; the caller must Close it.
func Start(issuer Issuer) (*Server, error) {
	s, err := New(issuer)
	if err != nil {
		return nil, err
	}
	if err := s.StartSMTP(); err != nil {
		return nil, err
	}
	return s, nil
}

// NewTest is Start for tests: it fails tb on error and closes the fake at
// cleanup.
func NewTest(tb testing.TB, issuer Issuer) *Server {
	tb.Helper()
	s, err := Start(issuer)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Close stops every listener of the fake and closes their connections.
func (s *Server) Close() {
	s.closeSMTP()
}
