package fakeentra

import (
	"net/http"
	"net/url"
	"strings"
)

// Op names recorded in [Call.Op] and accepted by [Server.Inject],
// [Server.SetLatency] and [Server.Count].
const (
	OpDiscovery              = "discovery"              // GET /{tenant}/v2.0/.well-known/openid-configuration
	OpToken                  = "token"                  // POST /{tenant}/oauth2/v2.0/token
	OpGetUser                = "getUser"                // GET /v1.0/users/{id-or-upn}
	OpFilterUsers            = "filterUsers"            // GET /v1.0/users?$filter=…
	OpCheckMemberGroups      = "checkMemberGroups"      // POST /v1.0/users/{id}/checkMemberGroups
	OpListApplications       = "listApplications"       // GET /v1.0/applications
	OpCreateApplication      = "createApplication"      // POST /v1.0/applications
	OpCreateServicePrincipal = "createServicePrincipal" // POST /v1.0/servicePrincipals
	OpAddPassword            = "addPassword"            // POST /v1.0/applications/{id}/addPassword
	OpRemovePassword         = "removePassword"         // POST /v1.0/applications/{id}/removePassword
	OpSignInActivities       = "signInActivities"       // GET /beta/reports/appCredentialSignInActivities
	OpSendMail               = "sendMail"               // POST /v1.0/users/{id}/sendMail (MIME)
	OpCreateDraft            = "createDraft"            // POST /v1.0/users/{id}/messages (MIME)
	OpCreateUploadSession    = "createUploadSession"    // POST /v1.0/users/{id}/messages/{mid}/attachments/createUploadSession
	OpUploadChunk            = "uploadChunk"            // PUT /upload/{session}?authtoken=… (the uploadUrl; no bearer token)
	OpSendDraft              = "sendDraft"              // POST /v1.0/users/{id}/messages/{mid}/send
	OpAddAttachment          = "addAttachment"          // POST /v1.0/users/{id}/messages/{mid}/attachments (a fileAttachment)
	OpDeleteMessage          = "deleteMessage"          // DELETE /v1.0/users/{id}/messages/{mid}
	OpUnknown                = "unknown"                // any route the fake does not serve
	// OpUsersDelta (GET /v1.0/users/delta) is in delta.go, OpListOwners
	// (GET /v1.0/applications/{id}/owners) in owners.go and
	// OpGetServicePrincipal (GET /v1.0/servicePrincipals(appId='…')) in
	// selfsp.go.
)

// handler serves one routed operation.
type handler func(s *Server, x *exchange)

// routeInfo is the outcome of routing a request.
type routeInfo struct {
	op     string
	graph  bool     // a Graph call: needs a bearer token, gets Graph headers
	args   []string // path parameters, unescaped
	handle handler
}

// route maps a request to its operation. Path segments are matched
// case-insensitively, as Graph does, and unescaped one by one so that a
// percent-encoded UPN or alternate key survives.
func route(r *http.Request) routeInfo {
	segs := splitPath(r.URL.EscapedPath())
	get, post := r.Method == http.MethodGet, r.Method == http.MethodPost
	n := len(segs)
	switch {
	case n == 5 && r.Method == http.MethodDelete && eq(segs[0], "v1.0") && eq(segs[1], "users") && eq(segs[3], "messages"):
		return routeInfo{op: OpDeleteMessage, graph: true, args: []string{segs[2], segs[4]}, handle: (*Server).deleteMessage}
	case n == 4 && get && eq(segs[1], "v2.0") && eq(segs[2], ".well-known") && eq(segs[3], "openid-configuration"):
		return routeInfo{op: OpDiscovery, args: segs[:1], handle: (*Server).discovery}
	case n == 4 && post && eq(segs[1], "oauth2") && eq(segs[2], "v2.0") && eq(segs[3], "token"):
		return routeInfo{op: OpToken, args: segs[:1], handle: (*Server).token}
	case n == 3 && get && eq(segs[0], "beta") && eq(segs[1], "reports") && eq(segs[2], "appCredentialSignInActivities"):
		return routeInfo{op: OpSignInActivities, graph: true, handle: (*Server).signInActivities}
	case n == 2 && r.Method == http.MethodPut && eq(segs[0], "upload"):
		return routeInfo{op: OpUploadChunk, args: segs[1:], handle: (*Server).uploadChunk}
	case n >= 2 && eq(segs[0], "v1.0"):
		return routeV1(segs[1:], get, post)
	}
	return routeInfo{op: OpUnknown, graph: n > 0 && (eq(segs[0], "v1.0") || eq(segs[0], "beta"))}
}

// routeV1 routes the segments after /v1.0.
func routeV1(segs []string, get, post bool) routeInfo {
	g := func(op string, h handler, args ...string) routeInfo {
		return routeInfo{op: op, graph: true, args: args, handle: h}
	}
	n := len(segs)
	action := ""
	if n > 1 {
		action = strings.TrimPrefix(strings.ToLower(segs[n-1]), "microsoft.graph.")
	}
	switch {
	case n == 1 && get && eq(segs[0], "users"):
		return g(OpFilterUsers, (*Server).filterUsers)
	case n == 2 && get && eq(segs[0], "users") && isDelta(segs[1]):
		return g(OpUsersDelta, (*Server).usersDelta)
	case n == 2 && get && eq(segs[0], "users"):
		return g(OpGetUser, (*Server).getUser, segs[1])
	case n == 3 && post && eq(segs[0], "users") && action == "checkmembergroups":
		return g(OpCheckMemberGroups, (*Server).checkMemberGroups, segs[1])
	case n == 2 && get && eq(segs[0], "groups"):
		return g(OpGetGroup, (*Server).getGroup, segs[1])
	case n == 3 && post && eq(segs[0], "users") && action == "sendmail":
		return g(OpSendMail, (*Server).sendMail, segs[1])
	case n == 3 && post && eq(segs[0], "users") && eq(segs[2], "messages"):
		return g(OpCreateDraft, (*Server).createDraft, segs[1])
	case n == 6 && post && eq(segs[0], "users") && eq(segs[2], "messages") && eq(segs[4], "attachments") && action == "createuploadsession":
		return g(OpCreateUploadSession, (*Server).createUploadSession, segs[1], segs[3])
	case n == 5 && post && eq(segs[0], "users") && eq(segs[2], "messages") && eq(segs[4], "attachments"):
		return g(OpAddAttachment, (*Server).addAttachment, segs[1], segs[3])
	case n == 5 && post && eq(segs[0], "users") && eq(segs[2], "messages") && action == "send":
		return g(OpSendDraft, (*Server).sendDraft, segs[1], segs[3])
	case n == 1 && get && eq(segs[0], "applications"):
		return g(OpListApplications, (*Server).listApplications)
	case n == 1 && post && eq(segs[0], "applications"):
		return g(OpCreateApplication, (*Server).createApplication)
	case n == 2 && get && eq(segs[0], "policies") && eq(segs[1], "defaultAppManagementPolicy"):
		return g(OpGetAppManagementPolicy, (*Server).getAppManagementPolicy)
	case n == 1 && post && eq(segs[0], "servicePrincipals"):
		return g(OpCreateServicePrincipal, (*Server).createServicePrincipal)
	}
	if v, ok := altKey(segs[0], "servicePrincipals", "appId"); ok && n == 1 && get {
		return g(OpGetServicePrincipal, (*Server).getServicePrincipal, v)
	}
	// /applications/{id}/action or /applications(appId='…')/action
	var key []string
	switch {
	case n == 3 && eq(segs[0], "applications"):
		key = []string{"id", segs[1]}
	case n == 2:
		if v, ok := altKey(segs[0], "applications", "appId"); ok {
			key = []string{"appId", v}
		}
	}
	if key != nil && get && action == "owners" {
		return g(OpListOwners, (*Server).listOwners, key...)
	}
	if key != nil && post {
		switch action {
		case "addpassword":
			return g(OpAddPassword, (*Server).addPassword, key...)
		case "removepassword":
			return g(OpRemovePassword, (*Server).removePassword, key...)
		}
	}
	return routeInfo{op: OpUnknown, graph: true}
}

// isDelta reports whether a segment is the delta function: "delta",
// "delta()" or "microsoft.graph.delta()" (what the SDKs send).
func isDelta(seg string) bool {
	seg = strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(seg), "microsoft.graph."), "()")
	return seg == "delta"
}

// altKey parses an OData alternate-key segment such as applications(appId='x').
func altKey(seg, set, prop string) (string, bool) {
	p := set + "(" + prop + "="
	if len(seg) < len(p)+3 || !eq(seg[:len(p)], p) || !strings.HasSuffix(seg, ")") {
		return "", false
	}
	v := seg[len(p) : len(seg)-1]
	if len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
		return "", false
	}
	return strings.ReplaceAll(v[1:len(v)-1], "''", "'"), true
}

// splitPath splits an escaped path into unescaped, non-empty segments.
func splitPath(p string) []string {
	parts := strings.Split(p, "/")
	out := parts[:0]
	for _, part := range parts {
		if part == "" {
			continue
		}
		if u, err := url.PathUnescape(part); err == nil {
			part = u
		}
		out = append(out, part)
	}
	return out
}

// eq compares ASCII path segments and names case-insensitively.
func eq(a, b string) bool { return strings.EqualFold(a, b) }

// serve is the http.Handler of the fake: it routes, records, authenticates
// Graph calls, applies latency and faults, then runs the operation.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rt := route(r)
	x := s.newExchange(w, r, rt)
	defer x.record()
	if rt.handle == nil {
		x.graphError(http.StatusBadRequest, "BadRequest", "fakeentra does not implement "+
			r.Method+" "+r.URL.Path+"; it serves only the Entra/Graph calls apppass makes.")
		return
	}
	if rt.graph && (!s.authorized(x) || !s.permitted(x, rt.op)) {
		return
	}
	if rt.op == OpDiscovery {
		rt.handle(s, x)
		return
	}
	s.arrived(rt.op, 1)
	defer s.arrived(rt.op, -1)
	s.sleep(r, s.latencyFor(rt.op, rt.graph))
	f, ok := s.nextFault(rt.op, rt.graph)
	if !ok {
		rt.handle(s, x)
		return
	}
	if f.AfterEffect {
		real := x.w
		x.w = &discardWriter{h: http.Header{}}
		rt.handle(s, x)
		x.w = real
	}
	s.writeFault(x, f)
}
