package fakeentra_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/apppass/apppass/fakeentra"
)

// env is a fake plus a Graph token obtained through the real azidentity.
type env struct {
	t     *testing.T
	s     *fakeentra.Server
	token string
}

// credential builds a real ClientSecretCredential aimed at the fake.
func credential(t testing.TB, s *fakeentra.Server, clientID, secret string) *azidentity.ClientSecretCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(fakeentra.TenantID, clientID, secret,
		&azidentity.ClientSecretCredentialOptions{
			ClientOptions: azcore.ClientOptions{
				Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: s.AuthorityHost()},
				Transport: s.Client(),
			},
			DisableInstanceDiscovery: true,
		})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// getToken asks cred for a token for scope.
func getToken(cred *azidentity.ClientSecretCredential, scope string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	return tok.Token, err
}

// tokenFor gets a Graph token for apppass's own client through azidentity.
func tokenFor(t testing.TB, s *fakeentra.Server) string {
	t.Helper()
	tok, err := getToken(credential(t, s, fakeentra.ClientID, fakeentra.ClientSecret), "https://graph.microsoft.com/.default")
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	return tok
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := fakeentra.New(t)
	return &env{t: t, s: s, token: tokenFor(t, s)}
}

// opt adjusts a request.
type opt func(*http.Request)

// gzipped compresses the request body as kiota's CompressionHandler does.
func gzipped(r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(body)
	zw.Close()
	r.Body = io.NopCloser(&buf)
	r.ContentLength = int64(buf.Len())
	r.Header.Set("Content-Encoding", "gzip")
}

// header sets a request header.
func header(k, v string) opt { return func(r *http.Request) { r.Header.Set(k, v) } }

// call sends an authenticated request; path is relative to URL() unless absolute.
func (e *env) call(method, path string, body any, opts ...opt) (int, http.Header, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	if !strings.HasPrefix(path, "https://") {
		path = e.s.URL() + path
	}
	req, err := http.NewRequest(method, path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	for _, o := range opts {
		o(req)
	}
	resp, err := e.s.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}

// want fails unless status is code, showing the body.
func (e *env) want(status, code int, body []byte) {
	e.t.Helper()
	if status != code {
		e.t.Fatalf("status %d, want %d; body %s", status, code, body)
	}
}

// decode unmarshals b into a T.
func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

// graphError is Graph's error payload.
type graphError struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			Date            string `json:"date"`
			RequestID       string `json:"request-id"`
			ClientRequestID string `json:"client-request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// errCode returns the Graph error code of b.
func errCode(t *testing.T, b []byte) string { return decode[graphError](t, b).Error.Code }

// kiotaEscape percent-encodes everything but unreserved characters, as
// std-uritemplate does for kiota's query parameters.
func kiotaEscape(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			sb.WriteByte(c)
			continue
		}
		sb.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
	}
	return sb.String()
}

func TestAzidentityTokenFlow(t *testing.T) {
	e := newEnv(t)
	disc := e.s.CallsOf(fakeentra.OpDiscovery)
	toks := e.s.CallsOf(fakeentra.OpToken)
	if len(disc) != 1 || disc[0].Method != "GET" || disc[0].Path != "/"+fakeentra.TenantID+"/v2.0/.well-known/openid-configuration" {
		t.Errorf("discovery calls = %+v", disc)
	}
	if len(toks) != 1 || toks[0].Method != "POST" || toks[0].Path != "/"+fakeentra.TenantID+"/oauth2/v2.0/token" || toks[0].Status != 200 {
		t.Errorf("token calls = %+v", toks)
	}
	if n := e.s.Count(fakeentra.OpUnknown); n != 0 {
		t.Errorf("unknown calls: %+v", e.s.Calls())
	}
	for _, c := range e.s.Calls() {
		t.Logf("MSAL requested %s %s", c.Method, c.Path)
	}
	// kiota's default scope is the request host + /.default.
	if _, err := getToken(credential(t, e.s, fakeentra.ClientID, fakeentra.ClientSecret), e.s.URL()+"/.default"); err != nil {
		t.Errorf("token for the fake's own host scope: %v", err)
	}
	e.s.AddUser(fakeentra.User{ID: "u1", UserPrincipalName: "a@x.test"})
	st, _, b := e.call("GET", "/v1.0/users/u1", nil)
	e.want(st, 200, b)
}

func TestWrongSecret(t *testing.T) {
	s := fakeentra.New(t)
	_, err := getToken(credential(t, s, fakeentra.ClientID, "nope"), "https://graph.microsoft.com/.default")
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil || afe.RawResponse.StatusCode != 401 || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("err = %v", err)
	}
	if c := s.CallsOf(fakeentra.OpToken); len(c) == 0 || c[len(c)-1].Status != 401 {
		t.Errorf("token calls = %+v", c)
	}
	_, err = getToken(credential(t, s, "00000000-0000-0000-0000-000000000001", "x"), "https://graph.microsoft.com/.default")
	if err == nil || !strings.Contains(err.Error(), "AADSTS700016") {
		t.Errorf("unknown client: %v", err)
	}
}

func TestGraphAuthAndHeaders(t *testing.T) {
	e := newEnv(t)
	e.s.AddUser(fakeentra.User{ID: "u1", UserPrincipalName: "a@x.test"})
	st, h, b := e.call("GET", "/v1.0/users/u1", nil, header("Authorization", ""), header("client-request-id", "my-crid"))
	e.want(st, 401, b)
	ge := decode[graphError](t, b)
	if ge.Error.Code != "InvalidAuthenticationToken" || ge.Error.InnerError.ClientRequestID != "my-crid" ||
		ge.Error.InnerError.RequestID == "" || ge.Error.InnerError.Date == "" {
		t.Errorf("error = %+v", ge)
	}
	if h.Get("client-request-id") != "my-crid" || h.Get("request-id") != ge.Error.InnerError.RequestID {
		t.Errorf("headers = %v", h)
	}
	st, _, b = e.call("GET", "/v1.0/users/u1", nil, header("Authorization", "Bearer forged"))
	e.want(st, 401, b)
	st, h, b = e.call("GET", "/v1.0/users/u1", nil)
	e.want(st, 200, b)
	if h.Get("request-id") == "" || h.Get("client-request-id") != h.Get("request-id") {
		t.Errorf("headers without client id = %v", h)
	}
	e.s.ExpireTokens()
	st, _, b = e.call("GET", "/v1.0/users/u1", nil)
	e.want(st, 401, b)
	if !strings.Contains(string(b), "expired") {
		t.Errorf("expired body = %s", b)
	}
}

func TestUnknownRoute(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/v1.0/groups", "/v1.0/applications/abc", "/nothing"} {
		st, _, b := e.call("GET", p, nil)
		e.want(st, 400, b)
		if !strings.Contains(string(b), "fakeentra does not implement GET "+p) {
			t.Errorf("%s: %s", p, b)
		}
	}
	if n := e.s.Count(fakeentra.OpUnknown); n != 3 {
		t.Errorf("unknown count = %d", n)
	}
	e.s.ResetCalls()
	if len(e.s.Calls()) != 0 || e.s.Count(fakeentra.OpUnknown) != 0 {
		t.Error("ResetCalls kept calls")
	}
}
