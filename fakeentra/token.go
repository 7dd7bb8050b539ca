package fakeentra

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
)

// tokenLifetime is the expires_in Entra answers for app tokens.
const tokenLifetime = 3599

// tokenInfo is what the fake remembers about an access token it issued.
type tokenInfo struct {
	clientID string
	resource string   // the audience: the scope's resource
	roles    []string // the roles claim
	expired  bool
	revoked  bool // by RevokeTokens: its resource refuses it
}

// secretRef locates the credential that a secret issued by addPassword
// belongs to, so that the secret can be used at the token endpoint.
type secretRef struct {
	app   *app
	keyID string
}

// discovery answers MSAL's OIDC discovery request,
// GET /{tenant}/v2.0/.well-known/openid-configuration.
func (s *Server) discovery(x *exchange) {
	tenant := x.args[0]
	if !eq(tenant, TenantID) {
		s.aadError(x, http.StatusBadRequest, "invalid_tenant", 90002,
			fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
		return
	}
	base := s.URL() + "/" + TenantID
	x.writeJSONValue(http.StatusOK, "application/json; charset=utf-8", map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                base + "/v2.0",
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     s.URL() + "/oidc/userinfo",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "nbf", "tid"},
		"kerberos_endpoint":                     base + "/kerberos",
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "fakeentra.test",
		"cloud_graph_host_name":                 "graph.fakeentra.test",
		"msgraph_host":                          strings.TrimPrefix(s.URL(), "https://"),
		"rbac_url":                              s.URL(),
	})
}

// token answers the client-credentials grant,
// POST /{tenant}/oauth2/v2.0/token. It accepts [ClientID] with
// [ClientSecret], and an employee application's appId with one of its
// current secrets (see employeeSignIn, whose use is then recorded as a
// sign-in).
func (s *Server) token(x *exchange) {
	if !eq(x.args[0], TenantID) {
		s.aadError(x, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found.", x.args[0]))
		return
	}
	body, err := x.readBody()
	form, err2 := url.ParseQuery(string(body))
	if err != nil || err2 != nil {
		s.aadError(x, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain a valid form-encoded payload.")
		return
	}
	clientID, secret := form.Get("client_id"), form.Get("client_secret")
	switch {
	case form.Get("grant_type") != "client_credentials":
		s.aadError(x, http.StatusBadRequest, "unsupported_grant_type", 70003,
			"The app requested an unsupported grant type '"+form.Get("grant_type")+"'. fakeentra supports only client_credentials.")
		return
	case secret == "":
		s.aadError(x, http.StatusUnauthorized, "invalid_client", 7000216,
			"'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type. (fakeentra supports only client secrets.)")
		return
	}
	if form.Get("claims") != "" && s.refusingClaims() {
		// A stand-in: which AADSTS code a tenant that refuses a claims
		// challenge on client credentials answers with is not known.
		s.aadError(x, http.StatusBadRequest, "invalid_request", 50000, "The claims parameter of this request is not accepted. (fakeentra: RefuseClaimsChallenges)")
		return
	}
	resource, ok := defaultScope(form.Get("scope"))
	if !ok {
		s.aadError(x, http.StatusBadRequest, "invalid_scope", 1002012,
			"The provided value for scope "+form.Get("scope")+" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if eq(clientID, ClientID) {
		if secret != ClientSecret {
			s.badSecret(x, clientID)
			return
		}
	} else if !s.employeeSignIn(x, clientID, secret, now) {
		return
	}
	tok, roles := s.mintToken(clientID, resource, now)
	s.tokens[tok] = tokenInfo{clientID: clientID, resource: resource, roles: roles}
	x.writeJSONValue(http.StatusOK, "application/json; charset=utf-8", map[string]any{
		"token_type": "Bearer", "expires_in": tokenLifetime, "ext_expires_in": tokenLifetime, "access_token": tok,
	})
}

// defaultScope finds the "<resource>/.default" scope among the requested
// ones (MSAL adds openid, profile and offline_access) and returns resource.
func defaultScope(scopes string) (string, bool) {
	for _, sc := range strings.Fields(scopes) {
		if r, ok := strings.CutSuffix(sc, "/.default"); ok && r != "" {
			return r, true
		}
	}
	return "", false
}

// badSecret answers Entra's wrong-secret error.
func (s *Server) badSecret(x *exchange, clientID string) {
	s.aadError(x, http.StatusUnauthorized, "invalid_client", 7000215,
		"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+clientID+"'.")
}

// mintToken returns a fresh JWT-shaped opaque access token. The signature is
// random: the fake only recognises tokens by their exact text.
func (s *Server) mintToken(clientID, resource string, now time.Time) (string, []string) {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": "fakeentra"})
	c := map[string]any{
		"aud": resource, "iss": "https://sts.windows.net/" + TenantID + "/", "tid": TenantID,
		"appid": clientID, "azp": clientID, "idtyp": "app", "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Unix() + tokenLifetime, "uti": uuid.NewString(),
	}
	// Entra puts the application permissions granted to the client in the
	// roles claim; employee applications hold none.
	var roles []string
	if eq(clientID, ClientID) {
		roles = s.grantedRolesLocked()
		if isExchangeResource(resource) {
			roles = s.exchangeRolesLocked()
		}
		c["roles"] = roles
	}
	claims, _ := json.Marshal(c)
	return enc.EncodeToString(header) + "." + enc.EncodeToString(claims) + "." + enc.EncodeToString([]byte(rand.Text()+rand.Text())), roles
}

// aadError answers with Entra's OAuth error shape.
func (s *Server) aadError(x *exchange, status int, code string, aadsts int, description string) {
	ts := time.Now().UTC().Format("2006-01-02 15:04:05Z")
	x.writeJSONValue(status, "application/json; charset=utf-8", map[string]any{
		"error": code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
			aadsts, description, x.requestID, x.clientRequestID, ts),
		"error_codes":    []int{aadsts},
		"timestamp":      ts,
		"trace_id":       x.requestID,
		"correlation_id": x.clientRequestID,
		"error_uri":      fmt.Sprintf("%s/error?code=%d", s.URL(), aadsts),
	})
}

// authorized checks the bearer token of a Graph call, answering 401
// InvalidAuthenticationToken when it is missing, unknown or expired.
func (s *Server) authorized(x *exchange) bool {
	h := x.r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	msg := ""
	if h == "" || tok == "" || !eq(scheme, "Bearer") {
		msg = "Access token is empty."
	} else {
		s.mu.Lock()
		info, ok := s.tokens[tok]
		s.mu.Unlock()
		switch {
		case !ok:
			msg = "Access token validation failure. Invalid audience or signature (token not issued by fakeentra)."
		case info.expired:
			msg = "Lifetime validation failed, the token is expired."
		case info.revoked:
			msg = "Access token validation failure. The token has been revoked."
		}
	}
	if msg != "" {
		x.graphError(http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
		return false
	}
	return true
}

// ExpireTokens makes every access token issued so far invalid, so that the
// next Graph call with one answers 401 InvalidAuthenticationToken ("Lifetime
// validation failed, the token is expired."). Tokens never expire otherwise:
// the fake's clock may be moved far ahead of the credential's token cache.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.tokens {
		v.expired = true
		s.tokens[k] = v
	}
}

// RevokeTokens makes every access token issued so far for resource (the
// audience, such as https://outlook.office365.com) invalid at that
// resource, as when Entra or the resource drops them early (the app's
// roles or an Exchange RBAC assignment changed, a revocation): fakes of
// the resource refuse them from then on (Introspect reports Revoked),
// while tokens issued afterwards work. It returns how many were revoked.
func (s *Server) RevokeTokens(resource string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, v := range s.tokens {
		if sameResource(v.resource, resource) && !v.revoked {
			v.revoked = true
			s.tokens[k] = v
			n++
		}
	}
	return n
}

// TokensIssued counts the access tokens issued so far to clientID for
// resource: what a test counts to see that a token cache was used.
func (s *Server) TokensIssued(clientID, resource string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.tokens {
		if eq(v.clientID, clientID) && sameResource(v.resource, resource) {
			n++
		}
	}
	return n
}

// sameResource compares two resources as audiences: without case or a
// trailing slash.
func sameResource(a, b string) bool {
	return strings.EqualFold(strings.TrimRight(a, "/"), strings.TrimRight(b, "/"))
}

// RefuseClaimsChallenges makes the token endpoint refuse any request
// carrying a claims parameter (a claims challenge), as a tenant might
// that does not take one for app-only tokens: so that a test can show
// apppass copes without it.
func (s *Server) RefuseClaimsChallenges(refuse bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noClaims = refuse
}

func (s *Server) refusingClaims() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.noClaims
}
