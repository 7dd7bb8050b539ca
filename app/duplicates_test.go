package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/jobs"
)

// withDuplicate gives alice, in a started harness, a password on her
// application, one on a duplicate application of apppass's and one on a
// look-alike, and returns the three applications.
func (h *harness) withDuplicate() (own, dup, fake fakeentra.Application) {
	h.T.Helper()
	if h.SecretIn(h.Ask(alice, "create Phone")) == "" {
		h.T.Fatal("create failed")
	}
	apps := h.Entra.Applications()
	if len(apps) != 1 {
		h.T.Fatalf("applications = %+v; want alice's one", apps)
	}
	own = apps[0]
	dup = h.Entra.AddEmployeeApp(entraID(alice), true)
	h.Entra.AddSecret(dup.ID, "Stray", time.Time{})
	fake = h.Entra.AddLookalikeApplication(entraID(alice), entraID(bob))
	h.Entra.AddSecret(fake.ID, "Planted", time.Time{})
	return own, dup, fake
}

// passwordsOn returns how many passwords application id holds.
func (h *harness) passwordsOn(id string) int {
	a, _ := h.Entra.Application(id)
	return len(a.Passwords)
}

// An approved --all revocation removes the passwords on a duplicate
// application of apppass's too, never those on a look-alike.
func TestRevokeAllClearsDuplicateApplications(t *testing.T) {
	h := newHarness(t).start()
	own, dup, fake := h.withDuplicate()

	h.Ask(adam, "revoke <@UALICE|alice> --all left the company")
	req := h.HelpdeskRequest()
	h.Decide(hana, "revoke_approve", req)
	h.WaitFor("the revocation", func() bool { return strings.Contains(messageText(h.CurrentRequest(req.TS)), "Approved by") })

	for _, tt := range []struct {
		name string
		id   string
		want int
	}{
		{"alice's application", own.ID, 0},
		{"the duplicate", dup.ID, 0},
		{"the look-alike", fake.ID, 1},
	} {
		if got := h.passwordsOn(tt.id); got != tt.want {
			t.Errorf("%s holds %d passwords, want %d", tt.name, got, tt.want)
		}
	}
	text := messageText(h.CurrentRequest(req.TS))
	if !strings.Contains(text, "Stray") || strings.Contains(text, "Planted") {
		t.Errorf("request message should list the duplicate's password and not the look-alike's:\n%s", text)
	}
	events, err := h.App.DB.AuditFor(h.Ctx(), entraID(alice), 50)
	if err != nil {
		t.Fatal(err)
	}
	removed := map[string]bool{}
	for _, e := range events {
		if e.Action == "revoke" && e.Outcome == "removed" {
			removed[e.Name] = true
		}
	}
	if !removed["Phone"] || !removed["Stray"] || removed["Planted"] {
		t.Errorf("audited removals = %v; want Phone and Stray", removed)
	}
}

// Offboarding removes the passwords on a duplicate application of
// apppass's too, never those on a look-alike; asked to file a request
// instead, the request covers them.
func TestOffboardingClearsDuplicateApplications(t *testing.T) {
	for _, action := range []string{"remove", "request"} {
		t.Run(action, func(t *testing.T) {
			h := newHarness(t)
			h.Env["APPPASS_OFFBOARDING_ACTION"] = action
			h.Start()
			own, dup, fake := h.withDuplicate()
			h.RunJob(jobs.Offboarding)
			h.Entra.DisableUser(entraID(alice))
			res := h.RunJob(jobs.Offboarding)
			if action == "request" {
				req := h.HelpdeskRequest()
				if text := messageText(req); !strings.Contains(text, "Stray") || !strings.Contains(text, "Phone") || strings.Contains(text, "Planted") {
					t.Errorf("request message should list Phone and Stray, not Planted:\n%s", text)
				}
				h.Decide(hana, "revoke_approve", req)
				h.WaitFor("the approval", func() bool { return strings.Contains(messageText(h.CurrentRequest(req.TS)), "Approved by") })
			} else if res.Counts["removed"] != 2 {
				t.Errorf("counts = %v; want 2 removed", res.Counts)
			}
			if n := h.passwordsOn(own.ID); n != 0 {
				t.Errorf("alice's application holds %d passwords", n)
			}
			if n := h.passwordsOn(dup.ID); n != 0 {
				t.Errorf("the duplicate holds %d passwords", n)
			}
			if n := h.passwordsOn(fake.ID); n != 1 {
				t.Errorf("the look-alike holds %d passwords, want its 1", n)
			}
		})
	}
}
