package fakeentra

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Start starts a fake on a TLS listener on 127.0.0.1 (a free port), with
// httptest's self-signed certificate, for use outside tests such as
// `apppass demo`. Clients trust it through [Server.Client] or
// [Server.CertPool]. The caller must call [Server.Close]. It returns an
// error when it cannot listen.
func Start() (*Server, error) { return start(nil) }

// start starts a fake whose test failures, if any, go to tb (nil: none).
func start(tb testing.TB) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fakeentra: listen: %w", err)
	}
	s := newServer(tb)
	s.ts = &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(s.serve)}}
	s.ts.StartTLS()
	return s, nil
}
