package fakeentra

import (
	"net/http"
	"slices"
	"strings"
)

// OpGetGroup reads one group: GET /v1.0/groups/{id}.
const OpGetGroup = "getGroup"

// The application permissions (app roles) apppass's identity can hold.
// Every one but Mail.Send is granted unless a test revokes it: Mail.Send
// is meant to come from Exchange Online's RBAC for Applications, which
// puts nothing in the token, so a test grants it tenant-wide (the
// misconfiguration) with GrantPermission.
const (
	PermApplicationOwnedBy = "Application.ReadWrite.OwnedBy"
	PermUserReadAll        = "User.Read.All"
	PermGroupMemberReadAll = "GroupMember.Read.All"
	PermAuditLogReadAll    = "AuditLog.Read.All"
	PermMailSend           = "Mail.Send"
	// Office 365 Exchange Online's permissions for reading mailboxes
	// (SPEC §15), in tokens for Exchange only; granted unless revoked.
	PermIMAPAccessAsApp = "IMAP.AccessAsApp"
	PermPOPAccessAsApp  = "POP.AccessAsApp"
)

// isExchangeResource reports whether a token is asked for Exchange Online
// (APPPASS_EXCHANGE_RESOURCE) rather than Graph: Entra puts each
// resource's own app roles in its tokens.
func isExchangeResource(resource string) bool {
	r := strings.ToLower(resource)
	return strings.Contains(r, "outlook.office") || r == "00000002-0000-0ff1-ce00-000000000000"
}

// exchangeRolesLocked lists apppass's Exchange Online app roles, for the
// roles claim of its Exchange tokens.
func (s *Server) exchangeRolesLocked() []string {
	var roles []string
	for _, p := range []string{PermIMAPAccessAsApp, PermPOPAccessAsApp} {
		if !s.revoked[strings.ToLower(p)] {
			roles = append(roles, p)
		}
	}
	return roles
}

// opPermission is the permission each Graph operation needs when apppass's
// identity calls it, as Graph's permission reference lists it.
var opPermission = map[string]string{
	OpGetUser:                PermUserReadAll,
	OpFilterUsers:            PermUserReadAll,
	OpCheckMemberGroups:      PermGroupMemberReadAll,
	OpGetGroup:               PermGroupMemberReadAll,
	OpListApplications:       PermApplicationOwnedBy,
	OpCreateApplication:      PermApplicationOwnedBy,
	OpCreateServicePrincipal: PermApplicationOwnedBy,
	OpAddPassword:            PermApplicationOwnedBy,
	OpRemovePassword:         PermApplicationOwnedBy,
	OpSignInActivities:       PermAuditLogReadAll,
	OpGetAppManagementPolicy: PermPolicyReadAll,
}

// RevokePermission takes an application permission away from apppass's
// identity: tokens minted from now on lack it in their roles claim, and
// every operation that needs it answers 403 Authorization_RequestDenied,
// as Graph does once admin consent is withdrawn.
func (s *Server) RevokePermission(perm string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revoked == nil {
		s.revoked = map[string]bool{}
	}
	s.revoked[strings.ToLower(perm)] = true
}

// GrantPermission gives apppass's identity an application permission
// through Entra admin consent, so that it appears in the roles claim of
// tokens minted from now on.
func (s *Server) GrantPermission(perm string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revoked == nil {
		s.revoked = map[string]bool{}
	}
	s.revoked[strings.ToLower(perm)] = false
}

// grantedRolesLocked lists the app roles of apppass's identity, for the
// token's roles claim.
func (s *Server) grantedRolesLocked() []string {
	var roles []string
	for _, p := range []string{PermApplicationOwnedBy, PermUserReadAll, PermGroupMemberReadAll, PermAuditLogReadAll, PermPolicyReadAll} {
		if !s.revoked[strings.ToLower(p)] {
			roles = append(roles, p)
		}
	}
	if revoked, set := s.revoked[strings.ToLower(PermMailSend)]; set && !revoked {
		roles = append(roles, PermMailSend)
	}
	return roles
}

// permitted answers 403 and returns false when the caller is apppass's
// identity and lacks the permission op needs.
func (s *Server) permitted(x *exchange, op string) bool {
	perm, ok := opPermission[op]
	if !ok {
		return true
	}
	tok := strings.TrimSpace(strings.TrimPrefix(x.r.Header.Get("Authorization"), "Bearer "))
	s.mu.Lock()
	info := s.tokens[tok]
	denied := eq(info.clientID, ClientID) && !slices.Contains(s.grantedRolesLocked(), perm)
	s.mu.Unlock()
	if denied {
		x.graphError(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return false
	}
	return true
}

// getGroup serves GET /v1.0/groups/{id}: the group's id and a display
// name, or 404 Request_ResourceNotFound for a group that has no members
// registered with AddGroupMember or AddGroup.
func (s *Server) getGroup(x *exchange) {
	id := strings.ToLower(x.args[0])
	s.mu.Lock()
	_, ok := s.groups[id]
	s.mu.Unlock()
	if !ok {
		x.graphError(http.StatusNotFound, "Request_ResourceNotFound",
			"Resource '"+x.args[0]+"' does not exist or one of its queried reference-property objects are not present.")
		return
	}
	x.writeJSONValue(http.StatusOK, "application/json;odata.metadata=minimal", map[string]any{
		"@odata.context": s.URL() + "/v1.0/$metadata#groups/$entity",
		"id":             x.args[0],
		"displayName":    "Group " + x.args[0],
	})
}

// AddGroup registers an empty group, so that it exists for GET /groups/{id}.
func (s *Server) AddGroup(groupID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := strings.ToLower(groupID)
	if s.groups[g] == nil {
		s.groups[g] = map[string]struct{}{}
	}
}
