package fakeentra_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/fakeentra"
)

const graphScope = "https://graph.microsoft.com/.default"

// raw sends body as-is with the given token ("" for none).
func (e *env) raw(method, url, token, contentType string, body []byte, opts ...opt) (int, http.Header, []byte) {
	e.t.Helper()
	if !strings.HasPrefix(url, "https://") {
		url = e.s.URL() + url
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", contentType)
	for _, o := range opts {
		o(req)
	}
	resp, err := e.s.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}

func TestEmployeeTokens(t *testing.T) {
	e := newEnv(t)
	c := e.useClock(newClock(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)))
	owner := "0d5f0a8e-1111-4d3c-9a7b-5e2f1c3b4a59"
	app := e.s.AddEmployeeApp(owner, true)
	noSP := e.s.AddEmployeeApp(owner+"x", false)
	e.s.SetSecretLag(2 * time.Minute)
	sec := e.s.AddSecret(app.ID, "printer", time.Time{})
	noSPSec := e.s.AddSecret(noSP.ID, "p", time.Time{})
	short := e.s.AddSecret(app.AppID, "short", c.now().Add(10*time.Minute))
	other := e.createApp("not an employee's", "apppass")
	st, _, b := e.call("POST", "/v1.0/servicePrincipals", map[string]any{"appId": other.AppID})
	e.want(st, 201, b)
	otherSec := e.addPassword(other.ID, "x")

	try := func(appID, secret string) string {
		t.Helper()
		_, err := getToken(credential(t, e.s, appID, secret), graphScope)
		if err == nil {
			return "ok"
		}
		for _, code := range []string{"7000215", "7000222", "7000229", "700016"} {
			if strings.Contains(err.Error(), "AADSTS"+code+":") {
				return code
			}
		}
		return err.Error()
	}
	if got := try(app.AppID, sec.SecretText); got != "7000215" {
		t.Errorf("secret within the replication lag: %s, want AADSTS7000215", got)
	}
	c.add(3 * time.Minute)
	tests := []struct {
		name, appID, secret, want string
	}{
		{"current secret", app.AppID, sec.SecretText, "ok"},
		{"wrong secret", app.AppID, sec.SecretText + "x", "7000215"},
		{"another app's secret", app.AppID, noSPSec.SecretText, "7000215"},
		{"no service principal", noSP.AppID, noSPSec.SecretText, "7000229"},
		{"not an employee application", other.AppID, *otherSec.SecretText, "700016"},
		{"unknown application", "7b1e0c55-2222-4f00-8000-000000000000", "x", "700016"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := try(tt.appID, tt.secret); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	c.add(10 * time.Minute)
	if got := try(app.AppID, short.SecretText); got != "7000222" {
		t.Errorf("expired secret: %s, want AADSTS7000222", got)
	}
	st, _, b = e.call("POST", "/v1.0/applications/"+app.ID+"/removePassword", map[string]string{"keyId": sec.KeyID})
	e.want(st, 204, b)
	if got := try(app.AppID, sec.SecretText); got != "7000215" {
		t.Errorf("removed secret: %s, want AADSTS7000215", got)
	}
}

// mimeMessage builds a small multipart message with an attachment of n bytes.
func mimeMessage(t *testing.T, to string, n int) ([]byte, []byte) {
	t.Helper()
	att := make([]byte, n)
	rand.Read(att)
	enc := base64.StdEncoding.EncodeToString(att)
	var b strings.Builder
	fmt.Fprintf(&b, "From: alice@contoso.test\r\nTo: %s\r\nSubject: scan\r\nMessage-ID: <1@scanner>\r\nMIME-Version: 1.0\r\n", to)
	b.WriteString("Content-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n--BB\r\nContent-Type: text/plain\r\n\r\nHello\r\n--BB\r\n")
	b.WriteString("Content-Type: application/pdf; name=\"scan.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	for i := 0; i < len(enc); i += 76 {
		b.WriteString(enc[i:min(i+76, len(enc))] + "\r\n")
	}
	b.WriteString("--BB--\r\n")
	return []byte(b.String()), att
}

func b64(b []byte) []byte { return []byte(base64.StdEncoding.EncodeToString(b)) }

func TestSendMailMIME(t *testing.T) {
	e := newEnv(t)
	alice := fakeentra.User{ID: "a11ce000-0000-4000-8000-000000000001", UserPrincipalName: "alice@contoso.test", Mail: "alice@contoso.test", AccountEnabled: true}
	e.s.AddUser(alice)
	msg, _ := mimeMessage(t, "bob@example.test", 1000)
	path := "/v1.0/users/" + alice.ID + "/sendMail"

	st, _, b := e.raw("POST", path, e.token, "text/plain", b64(msg))
	e.want(st, 202, b)
	got := e.s.Mailbox(alice.ID)
	if len(got) != 1 || !bytes.Equal(got[0].MIME, msg) || got[0].Via != fakeentra.ViaSendMail {
		t.Fatalf("Mailbox = %+v, want the MIME byte for byte", got)
	}
	if r := got[0].Recipients; len(r) != 1 || r[0] != "bob@example.test" {
		t.Errorf("Recipients = %v", r)
	}

	app := e.s.AddEmployeeApp(alice.ID, true)
	sec := e.s.AddSecret(app.ID, "x", time.Time{})
	employeeToken, err := getToken(credential(t, e.s, app.AppID, sec.SecretText), graphScope)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("A"), 4<<20+4)
	tests := []struct {
		name        string
		token, ct   string
		body        []byte
		status      int
		code        string
		restrict    []string
		user        string
		fault       *fakeentra.Fault
		retryAfter  string
		wantDeliver bool
	}{
		{name: "employee token has no Mail.Send", token: employeeToken, ct: "text/plain", body: b64(msg), status: 403, code: "ErrorAccessDenied"},
		{name: "outside the RBAC scope", ct: "text/plain", body: b64(msg), status: 403, code: "ErrorAccessDenied", restrict: []string{"someone-else"}},
		{name: "inside the RBAC scope", ct: "text/plain", body: b64(msg), status: 202, restrict: []string{alice.ID}, wantDeliver: true},
		{name: "by UPN", ct: "text/plain", body: b64(msg), status: 202, user: "alice@contoso.test", wantDeliver: true},
		{name: "unknown user", ct: "text/plain", body: b64(msg), status: 404, code: "ErrorInvalidUser", user: "nobody@contoso.test"},
		{name: "over 4 MB", ct: "text/plain", body: big, status: 413, code: "ErrorRequestEntityTooLarge"},
		{name: "not base64", ct: "text/plain", body: []byte("%%%"), status: 400, code: "ErrorMimeContentInvalidBase64String"},
		{name: "JSON form not served", ct: "application/json", body: []byte(`{}`), status: 400, code: "ErrorInvalidRequest"},
		{name: "no recipients", ct: "text/plain", body: b64([]byte("From: a@b\r\nSubject: x\r\n\r\nhi\r\n")), status: 400, code: "ErrorInvalidRecipients"},
		{name: "throttled", ct: "text/plain", body: b64(msg), status: 429, code: "TooManyRequests", fault: &fakeentra.Fault{Status: 429, RetryAfter: 7}, retryAfter: "7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.s.RestrictMailSend(tt.restrict)
			defer e.s.RestrictMailSend(nil)
			if tt.fault != nil {
				e.s.Inject(fakeentra.OpSendMail, *tt.fault)
			}
			tok, user := tt.token, tt.user
			if tok == "" {
				tok = e.token
			}
			if user == "" {
				user = alice.ID
			}
			before := len(e.s.SentMessages())
			st, h, b := e.raw("POST", "/v1.0/users/"+user+"/sendMail", tok, tt.ct, tt.body)
			if st != tt.status {
				t.Fatalf("status %d, want %d: %s", st, tt.status, b)
			}
			if tt.code != "" && errCode(t, b) != tt.code {
				t.Errorf("code %s, want %s", errCode(t, b), tt.code)
			}
			if got := h.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
			}
			if delivered := len(e.s.SentMessages()) > before; delivered != tt.wantDeliver {
				t.Errorf("delivered = %v, want %v", delivered, tt.wantDeliver)
			}
		})
	}
}

func TestDraftUploadAndSend(t *testing.T) {
	e := newEnv(t)
	alice := fakeentra.User{ID: "a11ce000-0000-4000-8000-000000000001", UserPrincipalName: "alice@contoso.test", Mail: "alice@contoso.test", AccountEnabled: true}
	e.s.AddUser(alice)
	full, pdf := mimeMessage(t, "bob@example.test", 5<<20)
	// The draft: the message without its attachment part.
	i := bytes.Index(full, []byte("\r\n--BB\r\nContent-Type: application/pdf"))
	draftMIME := append(append([]byte{}, full[:i]...), []byte("\r\n--BB--\r\n")...)
	u := "/v1.0/users/" + alice.ID + "/messages"
	st, _, b := e.raw("POST", u, e.token, "text/plain", b64(draftMIME))
	e.want(st, 201, b)
	id := decode[struct{ ID string }](t, b).ID
	st, _, b = e.call("POST", u+"/"+id+"/attachments/createUploadSession", map[string]any{
		"AttachmentItem": map[string]any{"attachmentType": "file", "name": "scan.pdf", "size": len(pdf), "contentType": "application/pdf"},
	})
	e.want(st, 201, b)
	sess := decode[struct {
		UploadURL          string   `json:"uploadUrl"`
		NextExpectedRanges []string `json:"nextExpectedRanges"`
	}](t, b)
	if !strings.HasPrefix(sess.UploadURL, e.s.URL()+"/upload/") || len(sess.NextExpectedRanges) != 1 {
		t.Fatalf("upload session %s", b)
	}
	rng := func(a, z int) opt { return header("Content-Range", fmt.Sprintf("bytes %d-%d/%d", a, z-1, len(pdf))) }
	st, _, b = e.raw("PUT", sess.UploadURL, e.token, "application/octet-stream", pdf[:1000], rng(0, 1000))
	if st != 401 {
		t.Errorf("PUT with Authorization: %d %s, want 401", st, b)
	}
	st, _, b = e.raw("PUT", sess.UploadURL, "", "application/octet-stream", pdf[1000:2000], rng(1000, 2000))
	if st != 416 {
		t.Errorf("PUT out of order: %d %s, want 416", st, b)
	}
	st, _, b = e.raw("PUT", sess.UploadURL, "", "application/octet-stream", pdf[:5<<20], rng(0, 5<<20))
	if st != 400 {
		t.Errorf("PUT over 4 MB: %d %s, want 400", st, b)
	}
	e.s.Inject(fakeentra.OpUploadChunk, fakeentra.Fault{Status: 503, RetryAfter: 1})
	st, _, _ = e.raw("PUT", sess.UploadURL, "", "application/octet-stream", pdf[:10], rng(0, 10))
	if st != 503 {
		t.Errorf("injected fault: %d, want 503", st)
	}
	const chunk = 320 << 10 * 10
	for a := 0; a < len(pdf); a += chunk {
		z := min(a+chunk, len(pdf))
		st, _, b = e.raw("PUT", sess.UploadURL, "", "application/octet-stream", pdf[a:z], rng(a, z))
		want := 200
		if z == len(pdf) {
			want = 201
		}
		if st != want {
			t.Fatalf("PUT %d-%d: %d %s, want %d", a, z, st, b, want)
		}
	}
	if n := len(e.s.SentMessages()); n != 0 {
		t.Fatalf("sent before send: %d", n)
	}
	st, _, b = e.call("POST", u+"/"+id+"/send", nil)
	e.want(st, 202, b)
	got := e.s.Mailbox(alice.ID)
	if len(got) != 1 || got[0].Via != fakeentra.ViaDraft || len(got[0].Attachments) != 1 {
		t.Fatalf("Mailbox = %d messages", len(got))
	}
	if a := got[0].Attachments[0]; !bytes.Equal(a.Data, pdf) || a.Name != "scan.pdf" || a.ContentType != "application/pdf" {
		t.Errorf("attachment %s %s: %d bytes, want the PDF's %d", a.Name, a.ContentType, len(a.Data), len(pdf))
	}
	if !bytes.HasPrefix(got[0].MIME, full[:i]) || !bytes.Contains(got[0].MIME, []byte(base64.StdEncoding.EncodeToString(pdf[:57]))) {
		t.Errorf("rendered MIME does not hold the draft and the attachment")
	}
	st, _, b = e.call("POST", u+"/"+id+"/send", nil)
	if st != 404 || errCode(t, b) != "ErrorItemNotFound" {
		t.Errorf("second send: %d %s", st, b)
	}
}
