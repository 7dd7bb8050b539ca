package fakeentra

import (
	"slices"
	"strings"
)

// TokenClaims are what a resource server (a fake Exchange Online, for
// instance) learns from an access token once its signature checks out:
// who it was issued to, for which resource, with which roles.
type TokenClaims struct {
	// AppID is the client the token was issued to (the appid claim).
	AppID string
	// Audience is the resource of the requested "/.default" scope, such as
	// https://outlook.office365.com (the aud claim).
	Audience string
	// TenantID and Issuer are the tid and iss claims.
	TenantID, Issuer string
	// Roles are the application permissions granted in Entra (roles).
	Roles []string
	// Expired is true once [Server.ExpireTokens] has run.
	Expired bool
	// Revoked is true once [Server.RevokeTokens] has run for the token's
	// resource: the resource must refuse it.
	Revoked bool
}

// Introspect checks token as a resource server checks Entra's signature:
// it returns the token's claims and true when this fake issued it, and
// false for anything else (a token of another issuer, a forged or
// truncated one). Fakes of other Microsoft services use it to accept the
// tokens apppass gets from this fake.
func (s *Server) Introspect(token string) (TokenClaims, bool) {
	token = strings.TrimSpace(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	info, ok := s.tokens[token]
	if !ok {
		return TokenClaims{}, false
	}
	return TokenClaims{
		AppID: info.clientID, Audience: info.resource, TenantID: TenantID,
		Issuer: "https://sts.windows.net/" + TenantID + "/", Roles: slices.Clone(info.roles), Expired: info.expired, Revoked: info.revoked,
	}, true
}
