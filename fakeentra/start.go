package fakeentra

import (
	"fmt"
	"net/http"

	"github.com/apppass/apppass/internal/localserver"
)

// Start starts a fake on a TLS listener on 127.0.0.1 (a free port), with
// a self-signed certificate, for use outside tests such as
// `apppass demo`. Clients trust it through [Server.Client] or
// [Server.CertPool]. The caller must call [Server.Close]. It returns an
// error when it cannot listen.
func Start() (*Server, error) { return start(nil) }

// start starts a fake whose test failures, if any, go to tb (nil: none).
func start(tb TB) (*Server, error) {
	s := newServer(tb)
	ts, err := localserver.StartTLS(http.HandlerFunc(s.serve))
	if err != nil {
		return nil, fmt.Errorf("fakeentra: %w", err)
	}
	s.ts = ts
	return s, nil
}
