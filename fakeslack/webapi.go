package fakeslack

import (
	"encoding/json"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// apiRequest is one parsed Web API call.
type apiRequest struct {
	method string
	params map[string]string          // form/query fields, or stringified JSON fields
	fields map[string]json.RawMessage // top-level JSON fields (JSON bodies only)
	body   []byte
	token  string
}

// apiFunc implements a Web API method. It runs with Server.mu held and
// returns the response fields (without "ok") or a Slack error code; on error
// the fields, if any, are merged into the error response.
type apiFunc func(s *Server, r *apiRequest) (resp map[string]any, slackErr string)

// apiMethods is the table of supported Web API methods.
var apiMethods = map[string]apiFunc{
	"apps.connections.open": (*Server).apiConnectionsOpen,
	"auth.test":             (*Server).apiAuthTest,
	"users.info":            (*Server).apiUsersInfo,
	"users.list":            (*Server).apiUsersList,
	"users.lookupByEmail":   (*Server).apiUsersLookupByEmail,
	"conversations.open":    (*Server).apiConversationsOpen,
	"conversations.info":    (*Server).apiConversationsInfo,
	"chat.postMessage":      (*Server).apiChatPostMessage,
	"chat.postEphemeral":    (*Server).apiChatPostEphemeral,
	"chat.update":           (*Server).apiChatUpdate,
	"chat.delete":           (*Server).apiChatDelete,
	"views.open":            (*Server).apiViewsOpen,
	"views.push":            (*Server).apiViewsPush,
	"views.update":          (*Server).apiViewsUpdate,
	"views.publish":         (*Server).apiViewsPublish,
}

// handleAPI serves /api/{method}.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := parseAPIRequest(r, body)

	s.mu.Lock()
	s.recordLocked(KindAPI, req.method, maps.Clone(req.params), body)
	latency := s.st.apiLatency
	s.mu.Unlock()

	s.sleep(latency, r.Context().Done())

	s.mu.Lock()
	status, retryAfter, resp := s.serveAPILocked(req)
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

// serveAPILocked applies faults, authentication and the method itself.
func (s *Server) serveAPILocked(req *apiRequest) (status, retryAfter int, resp map[string]any) {
	if f := takeFault(s.st.rateLimits, req.method); f != nil {
		return http.StatusTooManyRequests, f.retryAfter, errorResp(nil, "ratelimited")
	}
	fn, ok := apiMethods[req.method]
	if !ok {
		resp := errorResp(nil, "unknown_method")
		resp["req_method"] = req.method
		return http.StatusOK, 0, resp
	}
	if e := tokenError(req.method, req.token); e != "" {
		return http.StatusOK, 0, errorResp(nil, e)
	}
	if f := takeFault(s.st.failures, req.method); f != nil {
		return http.StatusOK, 0, errorResp(nil, f.slackErr)
	}
	fields, slackErr := fn(s, req)
	if slackErr != "" {
		return http.StatusOK, 0, errorResp(fields, slackErr)
	}
	if fields == nil {
		fields = map[string]any{}
	}
	fields["ok"] = true
	return http.StatusOK, 0, fields
}

func errorResp(fields map[string]any, slackErr string) map[string]any {
	if fields == nil {
		fields = map[string]any{}
	}
	fields["ok"] = false
	fields["error"] = slackErr
	return fields
}

// tokenError checks the token like Slack does: app-level tokens only for
// apps.connections.open, the bot token for everything else.
func tokenError(method, token string) string {
	want := BotToken
	if method == "apps.connections.open" {
		want = AppToken
	}
	switch token {
	case want:
		return ""
	case "":
		return "not_authed"
	case AppToken, BotToken:
		return "not_allowed_token_type"
	default:
		return "invalid_auth"
	}
}

// parseAPIRequest extracts method, parameters and token from a request with
// a form-encoded, JSON or empty body (query parameters are merged in).
func parseAPIRequest(r *http.Request, body []byte) *apiRequest {
	req := &apiRequest{method: r.PathValue("method"), body: body, params: map[string]string{}}
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ctype == "application/json" {
		req.params, req.fields = jsonParams(body)
	} else if form, err := url.ParseQuery(string(body)); err == nil {
		for k, v := range form {
			req.params[k] = v[0]
		}
	}
	for k, v := range r.URL.Query() {
		if _, ok := req.params[k]; !ok {
			req.params[k] = v[0]
		}
	}
	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		req.token = auth
	} else {
		req.token = req.params["token"]
	}
	return req
}

// raw returns the JSON field name of a JSON body, or the form field parsed
// as JSON (Slack accepts JSON-encoded form fields such as blocks), or nil.
func (r *apiRequest) raw(name string) json.RawMessage {
	if v, ok := r.fields[name]; ok {
		return v
	}
	if v, ok := r.params[name]; ok && json.Valid([]byte(v)) {
		return json.RawMessage(v)
	}
	return nil
}

// has reports whether the request carries the named parameter.
func (r *apiRequest) has(name string) bool {
	_, ok := r.params[name]
	return ok
}
