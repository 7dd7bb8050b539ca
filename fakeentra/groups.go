package fakeentra

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"
)

// maxCheckMemberGroups is Graph's limit on groupIds per checkMemberGroups.
const maxCheckMemberGroups = 20

// AddGroupMember makes userID a member of groupID for checkMemberGroups.
// Groups need no other setup.
func (s *Server) AddGroupMember(groupID, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := strings.ToLower(groupID)
	if s.groups[g] == nil {
		s.groups[g] = map[string]struct{}{}
	}
	s.groups[g][strings.ToLower(userID)] = struct{}{}
}

// RemoveGroupMember undoes AddGroupMember.
func (s *Server) RemoveGroupMember(groupID, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.groups[strings.ToLower(groupID)], strings.ToLower(userID))
}

// checkMemberGroups serves POST /v1.0/users/{id}/checkMemberGroups: it
// answers the requested group IDs the user is a member of (memberships come
// from [Server.AddGroupMember]), in request order.
func (s *Server) checkMemberGroups(x *exchange) {
	var body struct {
		GroupIDs *[]string `json:"groupIds"`
	}
	if !x.decodeJSON(&body) {
		return
	}
	if body.GroupIDs == nil {
		x.badRequest("Required parameter 'groupIds' is missing.")
		return
	}
	if n := len(*body.GroupIDs); n > maxCheckMemberGroups {
		x.badRequest(fmt.Sprintf("The number of groupIds (%d) exceeds the limit of %d for checkMemberGroups.", n, maxCheckMemberGroups))
		return
	}
	s.mu.Lock()
	u := s.findUser(x.args[0])
	var member []string
	if u != nil {
		uid := strings.ToLower(u.ID)
		for _, g := range *body.GroupIDs {
			if _, ok := s.groups[strings.ToLower(g)][uid]; ok {
				member = append(member, g)
			}
		}
	}
	s.mu.Unlock()
	if u == nil {
		x.notFound(x.args[0])
		return
	}
	x.stream(http.StatusOK, func(b *bufio.Writer) {
		o := beginObj(b)
		o.str("@odata.context", x.context("Collection(Edm.String)", nil, false))
		o.strs("value", member)
		o.end()
	})
}
