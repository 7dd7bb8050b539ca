package fakeslack

import (
	"fmt"

	"github.com/apppass/apppass/internal/localserver"
)

// Start starts a fake Slack on a plain-HTTP listener on 127.0.0.1 (a free
// port), for use outside tests, such as `apppass demo`. The caller must call
// [Server.Close]. It returns an error when it cannot listen.
func Start() (*Server, error) {
	s, h := newServer()
	srv, err := localserver.Start(h)
	if err != nil {
		return nil, fmt.Errorf("fakeslack: %w", err)
	}
	s.srv = srv
	return s, nil
}
