package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apppass/apppass/metrics"
)

func TestGraphOperation(t *testing.T) {
	tests := []struct {
		name, method, url, want string
	}{
		{"find user by upn", "GET", "https://graph.example/v1.0/users/alice@contoso.com?$select=id", "GET /v1.0/users/{id}"},
		{"add password", "POST", "https://graph.example/v1.0/applications/0f1e-22/addPassword", "POST /v1.0/applications/{id}/addPassword"},
		{"upload session", "POST", "https://graph.example/v1.0/users/u1/messages/AAMk==/attachments/createUploadSession", "POST /v1.0/users/{id}/messages/{id}/attachments/createUploadSession"},
		{"token", "POST", "https://login.example/tenant-1/oauth2/v2.0/token", "POST /{id}/oauth2/v2.0/token"},
		{"sign-ins", "GET", "https://graph.example/beta/reports/appCredentialSignInActivities", "GET /beta/reports/appCredentialSignInActivities"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.url, nil)
			if got := metrics.GraphOperation(r); got != tt.want {
				t.Errorf("GraphOperation(%s %s) = %q, want %q", tt.method, tt.url, got, tt.want)
			}
		})
	}
}

func TestSlackOperation(t *testing.T) {
	tests := []struct {
		name, method, url, want string
	}{
		{"web api", "POST", "https://slack.example/api/chat.postMessage", "chat.postMessage"},
		{"response url", "POST", "https://hooks.slack.example/actions/T1/123/SECRETTOKEN", "response_url"},
		{"odd method", "POST", "https://slack.example/api/../../etc", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.url, nil)
			if got := metrics.SlackOperation(r); got != tt.want {
				t.Errorf("SlackOperation(%s) = %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}

// TestMetricsCarryNoAddressesOrURLs drives real requests through the
// instrumented transport and checks the scrape: the operations are there,
// the email address and the response URL's token are not.
func TestMetricsCarryNoAddressesOrURLs(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "throttle") {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, "{}")
	}))
	defer upstream.Close()

	m := metrics.New()
	graph := &http.Client{Transport: m.Transport(nil, "graph", metrics.GraphOperation)}
	slack := &http.Client{Transport: m.Transport(nil, "slack", metrics.SlackOperation)}
	for _, c := range []struct {
		client *http.Client
		url    string
	}{
		{graph, upstream.URL + "/v1.0/users/alice@contoso.com"},
		{graph, upstream.URL + "/v1.0/users/throttle/sendMail"},
		{slack, upstream.URL + "/actions/T1/99/SECRETTOKEN"},
	} {
		resp, err := c.client.Post(c.url, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	m.CommandDone("create", "ok")
	m.Gateway(func() metrics.GatewayCounts { return metrics.GatewayCounts{Bytes: 1234} })

	srv := httptest.NewServer(metrics.NewServer(m, nil).Handler())
	defer srv.Close()
	body := get(t, srv.URL+"/metrics", http.StatusOK)
	for _, want := range []string{
		`apppass_upstream_requests_total{operation="POST /v1.0/users/{id}",status="200",system="graph"} 1`,
		`apppass_upstream_requests_total{operation="POST /v1.0/users/{id}/sendMail",status="429",system="graph"} 1`,
		`apppass_upstream_requests_total{operation="response_url",status="200",system="slack"} 1`,
		`apppass_commands_total{outcome="ok",verb="create"} 1`,
		`apppass_gateway_sent_bytes_total 1234`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, leak := range []string{"alice@contoso.com", "SECRETTOKEN", "throttle"} {
		if strings.Contains(body, leak) {
			t.Errorf("/metrics contains %q", leak)
		}
	}
}

func TestReadyz(t *testing.T) {
	s := metrics.NewServer(metrics.New(), nil)
	s.AddCheck("database", func(context.Context) error { return nil })
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	get(t, srv.URL+"/healthz", http.StatusOK)
	if got := get(t, srv.URL+"/readyz", http.StatusOK); !strings.Contains(got, `"database":"ok"`) {
		t.Errorf("/readyz = %s, want database ok", got)
	}
	s.AddCheck("graph", func(context.Context) error { return errors.New("token: AADSTS7000215 secret-ish detail") })
	got := get(t, srv.URL+"/readyz", http.StatusServiceUnavailable)
	if !strings.Contains(got, `"graph":"failing"`) || strings.Contains(got, "AADSTS") {
		t.Errorf("/readyz = %s, want graph failing without its error text", got)
	}
}

func get(t *testing.T, url string, wantStatus int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("GET %s = %d, want %d: %s", url, resp.StatusCode, wantStatus, b)
	}
	return string(b)
}
