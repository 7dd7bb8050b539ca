package fakeentra

import (
	"fmt"
	"net/http"
	"time"

	"github.com/microsoft/kiota-abstractions-go/serialization"
)

// OpGetAppManagementPolicy reads the tenant's default app management
// policy: GET /v1.0/policies/defaultAppManagementPolicy.
const OpGetAppManagementPolicy = "getDefaultAppManagementPolicy"

// PermPolicyReadAll is the permission GET /policies/defaultAppManagementPolicy
// needs. apppass holds it only optionally; the fake grants it unless a test
// revokes it.
const PermPolicyReadAll = "Policy.Read.All"

// policyID is the id Graph gives every tenant's default policy.
const policyID = "00000000-0000-0000-0000-000000000000"

// SetPasswordLifetimePolicy enables the tenant's default app management
// policy with a password lifetime restriction of max (zero disables the
// policy). From then on addPassword without an endDateTime (Entra's
// default is two years), or with one further than max from its start,
// answers 400 CredentialInvalidLifetimeAsPerAppPolicy, as Entra does under
// a security baseline such as ScubaGear's MS.AAD.5.
func (s *Server) SetPasswordLifetimePolicy(max time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxPasswordLifetime = max
}

// lifetimeRefused reports whether the policy refuses a password from start
// to end (zero: no endDateTime sent); s.mu must be held.
func (s *Server) lifetimeRefused(start, end time.Time, endGiven bool) bool {
	if s.maxPasswordLifetime <= 0 {
		return false
	}
	return !endGiven || end.Sub(start) > s.maxPasswordLifetime
}

// getAppManagementPolicy serves GET /v1.0/policies/defaultAppManagementPolicy
// in Graph's shape: isEnabled, and under applicationRestrictions a
// passwordLifetime restriction with its maxLifetime as an ISO 8601 duration.
func (s *Server) getAppManagementPolicy(x *exchange) {
	s.mu.Lock()
	max := s.maxPasswordLifetime
	s.mu.Unlock()
	restrictions := map[string]any{"passwordCredentials": []any{}, "keyCredentials": []any{}}
	if max > 0 {
		restrictions["passwordCredentials"] = []any{map[string]any{
			"restrictionType":                     "passwordLifetime",
			"state":                               "enabled",
			"maxLifetime":                         isoDuration(max),
			"restrictForAppsCreatedAfterDateTime": "2019-01-01T10:37:00Z",
		}}
	}
	x.writeJSONValue(http.StatusOK, "application/json;odata.metadata=minimal", map[string]any{
		"@odata.context":               s.URL() + "/v1.0/$metadata#policies/defaultAppManagementPolicy/$entity",
		"id":                           policyID,
		"displayName":                  "Default app management tenant policy",
		"description":                  "Default tenant policy that enforces app management restrictions on applications and service principals.",
		"isEnabled":                    max > 0,
		"applicationRestrictions":      restrictions,
		"servicePrincipalRestrictions": map[string]any{"passwordCredentials": []any{}, "keyCredentials": []any{}},
	})
}

// isoDuration writes d as Graph writes maxLifetime: whole days as "P180D".
func isoDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("P%dD", d/(24*time.Hour))
	}
	return serialization.FromDuration(d).String()
}
