package metrics

import (
	"net/http"
	"strings"
	"time"
)

// Transport wraps base (nil: http.DefaultTransport) so that every request
// is recorded under system ("graph" or "slack") with an operation name
// that op derives from the request. Use GraphOperation or SlackOperation.
func (m *Metrics) Transport(base http.RoundTripper, system string, op func(*http.Request) string) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if m == nil {
		return base
	}
	return roundTripper{base: base, m: m, system: system, op: op}
}

type roundTripper struct {
	base   http.RoundTripper
	m      *Metrics
	system string
	op     func(*http.Request) string
}

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := rt.base.RoundTrip(r)
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	rt.m.UpstreamCall(rt.system, rt.op(r), status, time.Since(start))
	return resp, err
}

// graphWords are the path segments kept as they are in Graph and Entra
// operation names; every other segment (object ids, addresses, tenant
// ids, message ids) becomes {id}, so the label set stays small and holds
// nobody's name or address.
var graphWords = map[string]bool{
	"v1.0": true, "beta": true, "users": true, "applications": true, "servicePrincipals": true,
	"addPassword": true, "removePassword": true, "checkMemberGroups": true, "owners": true, "delta": true,
	"sendMail": true, "messages": true, "attachments": true, "createUploadSession": true, "send": true,
	"reports": true, "appCredentialSignInActivities": true, "oauth2": true, "v2.0": true, "token": true,
	".well-known": true, "openid-configuration": true, "discovery": true, "instance": true, "common": true,
	"organizations": true, "groups": true, "me": true, "upload": true,
}

// GraphOperation names a Graph or Entra request by method and path
// template, e.g. "POST /v1.0/applications/{id}/addPassword".
func GraphOperation(r *http.Request) string {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	for i, s := range segs {
		if !graphWords[s] {
			segs[i] = "{id}"
		}
	}
	return r.Method + " /" + strings.Join(segs, "/")
}

// SlackOperation names a Slack request by its Web API method
// ("chat.postMessage"); a post to a response URL is "response_url", and
// anything else "other". The URL itself never becomes a label: response
// URLs are bearer links.
func SlackOperation(r *http.Request) string {
	path := r.URL.Path
	if i := strings.LastIndex(path, "/api/"); i >= 0 {
		method := path[i+len("/api/"):]
		if isSlackMethod(method) {
			return method
		}
		return "other"
	}
	if r.Method == http.MethodPost {
		return "response_url"
	}
	return "other"
}

func isSlackMethod(s string) bool {
	if s == "" || len(s) > 64 || !strings.Contains(s, ".") {
		return false
	}
	for _, c := range s {
		if !(c == '.' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
