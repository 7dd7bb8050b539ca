package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/jobs"
)

func countContaining(texts []string, s string) int {
	n := 0
	for _, t := range texts {
		if strings.Contains(t, s) {
			n++
		}
	}
	return n
}

// An application someone else registered and tagged for alice is never
// listed, revoked on or given passwords; the helpdesk hears of it once
// and the hygiene report counts it.
func TestLookalikeApplicationIsNeverUsed(t *testing.T) {
	h := newHarness(t)
	h.Env["APPPASS_REPORT_CHANNEL"] = "CREPORT"
	h.Slack.AddChannel("CREPORT")
	fake := h.Entra.AddLookalikeApplication(entraID(alice), entraID(bob))
	planted := h.Entra.AddSecret(fake.ID, "Planted", time.Time{})
	h.Start()

	if out := h.Ask(alice, "list"); strings.Contains(out, "Planted") || !strings.Contains(out, "0 of 40") {
		t.Errorf("alice's list shows the look-alike's password:\n%s", out)
	}
	h.WaitFor("the helpdesk alert", func() bool { return countContaining(h.HelpdeskTexts(), fake.AppID) > 0 })
	if secret := h.SecretIn(h.Ask(alice, "create Phone")); secret == "" {
		t.Fatal("create failed")
	}
	got, _ := h.Entra.Application(fake.ID)
	if len(got.Passwords) != 1 || got.Passwords[0].KeyID != planted.KeyID {
		t.Errorf("the look-alike holds %+v; apppass must never add to it", got.Passwords)
	}
	var own []fakeentra.Application
	for _, a := range h.Entra.Applications() {
		if a.ID != fake.ID {
			own = append(own, a)
		}
	}
	if len(own) != 1 || len(own[0].Passwords) != 1 || own[0].Passwords[0].DisplayName != "Phone" {
		t.Fatalf("apppass's own applications = %+v, want one holding Phone", own)
	}
	if out := h.Ask(alice, "list"); strings.Contains(out, "Planted") || !strings.Contains(out, "1 of 40") {
		t.Errorf("list after create:\n%s", out)
	}

	// A revocation of everything covers apppass's password only.
	h.Ask(adam, "revoke <@UALICE|alice> --all left")
	req := h.HelpdeskRequest()
	h.Decide(hana, "revoke_approve", req)
	h.WaitFor("the revocation", func() bool {
		a, _ := h.Entra.Application(own[0].ID)
		return len(a.Passwords) == 0
	})
	if got, _ := h.Entra.Application(fake.ID); len(got.Passwords) != 1 {
		t.Errorf("the revocation touched the look-alike: %+v", got.Passwords)
	}

	h.WaitJobRuns(jobs.ApplicationAlerts, 3) // it looked again, and again said nothing
	if n := countContaining(h.HelpdeskTexts(), fake.AppID); n != 1 {
		t.Errorf("the helpdesk was told of the look-alike %d times, want once", n)
	}

	if _, err := h.App.Jobs.RunOnce(h.Ctx(), "hygiene-report"); err != nil {
		t.Fatal(err)
	}
	reports := h.Slack.MessagesIn("CREPORT")
	if len(reports) != 1 || !strings.Contains(strings.ToLower(messageText(reports[0])), "look-alike") {
		t.Fatalf("the report does not count the look-alike: %v", reports)
	}
}

// A new application's service principal is created through Entra's
// replication errors, and an application found without one gets it before
// any password is issued on it.
func TestServicePrincipalIsCreatedBeforeAnyPassword(t *testing.T) {
	h := newHarness(t)
	h.Entra.SetServicePrincipalLag(1500*time.Millisecond, true)
	bare := h.Entra.AddEmployeeApp(entraID(bob), false)
	h.Start()

	if secret := h.SecretIn(h.Ask(alice, "create Phone")); secret == "" {
		t.Fatal("create failed while the service principal replicated")
	}
	for _, a := range h.Entra.Applications() {
		if a.ID != bare.ID && !a.HasServicePrincipal {
			t.Errorf("application %s (%s) has no service principal", a.ID, a.DisplayName)
		}
	}

	if secret := h.SecretIn(h.Ask(bob, "create Laptop")); secret == "" {
		t.Fatal("bob's create failed")
	}
	got, _ := h.Entra.Application(bare.ID)
	if !got.HasServicePrincipal || len(got.Passwords) != 1 {
		t.Errorf("bob's application = %+v; want its service principal created and the password on it", got)
	}
	if n := len(h.Entra.Applications()); n != 2 {
		t.Errorf("%d applications, want 2 (bob's reused)", n)
	}
}

// POST /applications that failed after Entra made the application is not
// retried blindly; the next create finds and uses what it made. A second
// application of apppass's for one person is reported, never used.
func TestOneApplicationPerPersonAndDuplicatesReported(t *testing.T) {
	h := newHarness(t).start()
	h.Entra.Inject(fakeentra.OpCreateApplication, fakeentra.Fault{Status: 503, AfterEffect: true})
	if out := h.Ask(alice, "create Phone"); h.SecretIn(out) != "" {
		t.Fatalf("create succeeded through a 503: %s", out)
	}
	if secret := h.SecretIn(h.Ask(alice, "create Phone")); secret == "" {
		t.Fatal("the second create failed")
	}
	apps := h.Entra.Applications()
	if len(apps) != 1 || len(apps[0].Passwords) != 1 {
		t.Fatalf("applications = %+v; want one, holding Phone", apps)
	}

	dup := h.Entra.AddEmployeeApp(entraID(alice), true)
	h.Entra.AddSecret(dup.ID, "Stray", time.Time{})
	h.RunJob(jobs.StaleWarning) // a scan finds it
	if out := h.Ask(alice, "list"); strings.Contains(out, "Stray") || !strings.Contains(out, "Phone") {
		t.Errorf("list with a duplicate:\n%s", out)
	}
	h.Ask(alice, "create Laptop")
	if got, _ := h.Entra.Application(apps[0].ID); len(got.Passwords) != 2 {
		t.Errorf("the first application holds %d passwords, want 2", len(got.Passwords))
	}
	if got, _ := h.Entra.Application(dup.ID); len(got.Passwords) != 1 {
		t.Errorf("apppass added to the duplicate: %+v", got.Passwords)
	}
	h.WaitFor("the duplicate alert", func() bool { return countContaining(h.HelpdeskTexts(), dup.AppID) > 0 })
	h.WaitJobRuns(jobs.ApplicationAlerts, 3) // it looked again, and again said nothing
	if texts := h.HelpdeskTexts(); countContaining(texts, dup.AppID) != 1 || countContaining(texts, "second apppass application") != 1 {
		t.Errorf("helpdesk messages:\n%s", strings.Join(texts, "\n"))
	}
}
