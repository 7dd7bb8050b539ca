package fakeentra

import (
	"net/http"
	"strings"
)

// RejectUserPath makes GET /users/{key} answer 400 BadRequest for key (a
// UPN or ID, case-insensitive), as Graph does for a UPN it cannot take in
// a URL path, so that a client falls back to
// GET /users?$filter=mail eq '…'. Graph always does so for a UPN that
// starts with '$' (its documentation asks for /users('$…') instead); this
// reproduces it for any other key, e.g. one with '#' or '%'.
func (s *Server) RejectUserPath(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rejectedPaths == nil {
		s.rejectedPaths = map[string]bool{}
	}
	s.rejectedPaths[strings.ToLower(key)] = true
}

// userPathError answers 400 for a user key Graph cannot take in a path and
// reports whether it did.
func (s *Server) userPathError(x *exchange, key string) bool {
	s.mu.Lock()
	rejected := s.rejectedPaths[strings.ToLower(key)]
	s.mu.Unlock()
	if !rejected && !strings.HasPrefix(key, "$") {
		return false
	}
	x.graphError(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+key+"'.")
	return true
}
