package fakeslack

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
)

// Start starts a fake Slack on a plain-HTTP listener on 127.0.0.1 (a free
// port), for use outside tests, such as `apppass demo`. The caller must call
// [Server.Close]. It returns an error when it cannot listen.
func Start() (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fakeslack: listen: %w", err)
	}
	s, h := newServer()
	s.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
	s.srv.Start()
	return s, nil
}
