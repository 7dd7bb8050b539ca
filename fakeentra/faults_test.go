package fakeentra_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/fakeentra"
)

func TestInjectedFaults(t *testing.T) {
	e := newEnv(t)
	a := e.createApp("app", "apppass")
	e.s.Inject(fakeentra.OpListApplications, fakeentra.Fault{Status: 429, RetryAfter: 3, Times: 2})
	e.s.Inject(fakeentra.OpListApplications, fakeentra.Fault{Status: 500, Code: "weird", Message: "boom"})
	for i, want := range []int{429, 429, 500, 200} {
		st, h, b := e.call("GET", "/v1.0/applications", nil)
		e.want(st, want, b)
		if want == 429 && (h.Get("Retry-After") != "3" || errCode(t, b) != "TooManyRequests") {
			t.Errorf("call %d: %v %s", i, h, b)
		}
		if want == 500 && (errCode(t, b) != "weird" || !strings.Contains(string(b), "boom")) {
			t.Errorf("call %d: %s", i, b)
		}
	}
	var statuses []int
	for _, c := range e.s.CallsOf(fakeentra.OpListApplications) {
		statuses = append(statuses, c.Status)
	}
	if len(statuses) != 4 || statuses[0] != 429 || statuses[3] != 200 {
		t.Errorf("recorded statuses %v", statuses)
	}

	// An after-effect fault performs the operation, then fails.
	e.s.Inject(fakeentra.OpAddPassword, fakeentra.Fault{Status: 504, AfterEffect: true})
	st, _, b := e.call("POST", "/v1.0/applications/"+a.ID+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "x"}})
	e.want(st, 504, b)
	if app, _ := e.s.Application(a.ID); len(app.Passwords) != 1 || len(e.s.IssuedSecrets()) != 1 {
		t.Errorf("after-effect did not happen: %+v", app)
	}

	// Op "" hits the next Graph call whatever it is.
	e.s.Inject("", fakeentra.Fault{})
	st, _, b = e.call("GET", "/v1.0/applications", nil)
	e.want(st, 503, b)

	// A disconnect drops the connection; with AfterEffect the change stays.
	e.s.Inject(fakeentra.OpCreateApplication, fakeentra.Fault{Disconnect: true, AfterEffect: true})
	req, _ := http.NewRequest("POST", e.s.GraphBaseURL()+"/applications", strings.NewReader(`{"displayName":"lost"}`))
	req.Header.Set("Authorization", "Bearer "+e.token)
	if resp, err := e.s.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("disconnect answered %s", resp.Status)
	}
	if apps := e.s.Applications(); len(apps) != 2 || apps[1].DisplayName != "lost" {
		t.Errorf("apps after lost reply: %+v", apps)
	}
	if c := e.s.CallsOf(fakeentra.OpCreateApplication); c[len(c)-1].Status != 0 {
		t.Errorf("disconnect recorded as %d", c[len(c)-1].Status)
	}

	// Faults on the token endpoint answer in Entra's shape.
	e.s.Inject(fakeentra.OpToken, fakeentra.Fault{Status: 400, Code: "invalid_request", Times: 1})
	_, err := getToken(credential(t, e.s, fakeentra.ClientID, fakeentra.ClientSecret), "https://graph.microsoft.com/.default")
	if err == nil || !strings.Contains(err.Error(), "invalid_request") {
		t.Errorf("token fault: %v", err)
	}
	e.s.Inject(fakeentra.OpGetUser, fakeentra.Fault{})
	e.s.ClearFaults()
	st, _, b = e.call("GET", "/v1.0/users/x", nil)
	e.want(st, 404, b)
}

func TestLatency(t *testing.T) {
	e := newEnv(t)
	e.s.SetLatency(fakeentra.OpListApplications, 150*time.Millisecond)
	start := time.Now()
	e.call("GET", "/v1.0/applications", nil)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("listApplications took %v", d)
	}
	start = time.Now()
	e.call("GET", "/v1.0/users/x", nil)
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("getUser delayed: %v", d)
	}
	e.s.SetLatency("", 120*time.Millisecond)
	e.s.SetLatency(fakeentra.OpListApplications, 0)
	start = time.Now()
	e.call("GET", "/v1.0/users/x", nil)
	if d := time.Since(start); d < 120*time.Millisecond {
		t.Errorf("global latency not applied: %v", d)
	}
	if c := e.s.CallsOf(fakeentra.OpGetUser); c[len(c)-1].Duration < 120*time.Millisecond {
		t.Errorf("Duration %v", c[len(c)-1].Duration)
	}
}

// clock is a settable fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time         { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration)    { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock(t time.Time) *clock       { return &clock{t: t} }
func (e *env) useClock(c *clock) *clock { e.s.SetNow(c.now); return c }

func TestReplicationAndNewAppLag(t *testing.T) {
	e := newEnv(t)
	clk := e.useClock(newClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)))
	e.s.SetNewAppLag(10 * time.Second)
	e.s.SetReplicationLag(30 * time.Second)
	a := e.createApp("app", "apppass")
	st, _, b := e.call("POST", "/v1.0/applications/"+a.ID+"/addPassword", map[string]any{})
	e.want(st, 404, b)
	clk.add(11 * time.Second)
	c := e.addPassword(a.ID, "x")
	if !c.StartDateTime.Equal(clk.now()) {
		t.Errorf("start %v, clock %v", c.StartDateTime, clk.now())
	}
	if l := e.listByTag("apppass", ""); len(l.Value[0].PasswordCredentials) != 0 {
		t.Errorf("lagging credential listed: %+v", l.Value[0])
	}
	if len(e.s.Applications()[0].Passwords) != 1 {
		t.Error("Applications hides lagging credential")
	}
	clk.add(31 * time.Second)
	if l := e.listByTag("apppass", ""); len(l.Value[0].PasswordCredentials) != 1 {
		t.Errorf("credential still hidden: %+v", l.Value[0])
	}
	c2 := e.addPassword(a.ID, "y")
	st, _, b = e.call("POST", "/v1.0/applications/"+a.ID+"/removePassword", map[string]string{"keyId": c2.KeyID})
	e.want(st, 204, b)
}

func TestObjectQuota(t *testing.T) {
	e := newEnv(t)
	e.s.SetObjectQuota(3)
	a := e.createApp("one")
	st, _, b := e.call("POST", "/v1.0/servicePrincipals", map[string]any{"appId": a.AppID})
	e.want(st, 201, b)
	two := e.createApp("two")
	for _, p := range []string{"/v1.0/applications", "/v1.0/servicePrincipals"} {
		st, _, b = e.call("POST", p, map[string]any{"displayName": "x", "appId": two.AppID})
		e.want(st, 400, b)
		if ge := decode[graphError](t, b); ge.Error.Code != "Directory_QuotaExceeded" ||
			!strings.HasPrefix(ge.Error.Message, "The directory object quota limit for the Principal has been exceeded.") {
			t.Errorf("%s: %s", p, b)
		}
	}
	e.s.SetObjectQuota(-1)
	e.createApp("three")
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv(t)
	e.s.Seed(50, 2, nil)
	a := e.createApp("shared", "apppass")
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for range 10 {
				if w%2 == 0 {
					e.addPassword(a.ID, "c")
				} else {
					e.listByTag("apppass", "&$top=7")
				}
				e.s.Calls()
				e.s.Applications()
			}
		})
	}
	wg.Wait()
	if app, _ := e.s.Application(a.AppID); len(app.Passwords) != 40 {
		t.Errorf("%d passwords", len(app.Passwords))
	}
}
