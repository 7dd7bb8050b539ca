package app

import (
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/jobs"
)

// helpdeskTexts returns the text of every message in the helpdesk channel.
func (h *harness) helpdeskTexts() []string {
	var out []string
	for _, m := range h.slack.MessagesIn(helpdesk) {
		out = append(out, messageText(m))
	}
	return out
}

func countContaining(texts []string, s string) int {
	n := 0
	for _, t := range texts {
		if strings.Contains(t, s) {
			n++
		}
	}
	return n
}

// An application someone else registered and tagged for Alice is never
// listed, revoked on or given passwords; the helpdesk hears of it once
// and the hygiene report counts it.
func TestLookalikeApplicationIsNeverUsed(t *testing.T) {
	h := newHarness(t)
	h.env["APPPASS_REPORT_CHANNEL"] = "CREPORT"
	h.slack.AddChannel("CREPORT")
	fake := h.entra.AddLookalikeApplication(entraID(alice), entraID(bob))
	planted := h.entra.AddSecret(fake.ID, "Planted", time.Time{})
	h.start()

	if out := h.ask(alice, "list"); strings.Contains(out, "Planted") || !strings.Contains(out, "0 of 40") {
		t.Errorf("alice's list shows the look-alike's password:\n%s", out)
	}
	h.waitFor("the helpdesk alert", func() bool { return countContaining(h.helpdeskTexts(), fake.AppID) > 0 })
	if secret := h.secretIn(h.ask(alice, "create Phone")); secret == "" {
		t.Fatal("create failed")
	}
	got, _ := h.entra.Application(fake.ID)
	if len(got.Passwords) != 1 || got.Passwords[0].KeyID != planted.KeyID {
		t.Errorf("the look-alike holds %+v; apppass must never add to it", got.Passwords)
	}
	var own []fakeentra.Application
	for _, a := range h.entra.Applications() {
		if a.ID != fake.ID {
			own = append(own, a)
		}
	}
	if len(own) != 1 || len(own[0].Passwords) != 1 || own[0].Passwords[0].DisplayName != "Phone" {
		t.Fatalf("apppass's own applications = %+v, want one holding Phone", own)
	}
	if out := h.ask(alice, "list"); strings.Contains(out, "Planted") || !strings.Contains(out, "1 of 40") {
		t.Errorf("list after create:\n%s", out)
	}

	// A revocation of everything covers apppass's password only.
	h.ask(adam, "revoke <@UALICE|alice> --all left")
	req := h.helpdeskRequest()
	h.decide(hana, "revoke_approve", req)
	h.waitFor("the revocation", func() bool {
		a, _ := h.entra.Application(own[0].ID)
		return len(a.Passwords) == 0
	})
	if got, _ := h.entra.Application(fake.ID); len(got.Passwords) != 1 {
		t.Errorf("the revocation touched the look-alike: %+v", got.Passwords)
	}

	time.Sleep(600 * time.Millisecond) // a few more background rounds
	if n := countContaining(h.helpdeskTexts(), fake.AppID); n != 1 {
		t.Errorf("the helpdesk was told of the look-alike %d times, want once", n)
	}

	if _, err := h.app.Jobs.RunOnce(h.ctx(), "hygiene-report"); err != nil {
		t.Fatal(err)
	}
	reports := h.slack.MessagesIn("CREPORT")
	if len(reports) != 1 || !strings.Contains(strings.ToLower(messageText(reports[0])), "look-alike") {
		t.Fatalf("the report does not count the look-alike: %v", reports)
	}
}

// A new application's service principal is created through Entra's
// replication errors, and an application found without one gets it before
// any password is issued on it.
func TestServicePrincipalIsCreatedBeforeAnyPassword(t *testing.T) {
	h := newHarness(t)
	h.entra.SetServicePrincipalLag(1500*time.Millisecond, true)
	bare := h.entra.AddEmployeeApp(entraID(bob), false)
	h.start()

	if secret := h.secretIn(h.ask(alice, "create Phone")); secret == "" {
		t.Fatal("create failed while the service principal replicated")
	}
	for _, a := range h.entra.Applications() {
		if a.ID != bare.ID && !a.HasServicePrincipal {
			t.Errorf("application %s (%s) has no service principal", a.ID, a.DisplayName)
		}
	}

	if secret := h.secretIn(h.ask(bob, "create Laptop")); secret == "" {
		t.Fatal("bob's create failed")
	}
	got, _ := h.entra.Application(bare.ID)
	if !got.HasServicePrincipal || len(got.Passwords) != 1 {
		t.Errorf("bob's application = %+v; want its service principal created and the password on it", got)
	}
	if n := len(h.entra.Applications()); n != 2 {
		t.Errorf("%d applications, want 2 (bob's reused)", n)
	}
}

// POST /applications that failed after Entra made the application is not
// retried blindly; the next create finds and uses what it made. A second
// application of apppass's for one person is reported, never used.
func TestOneApplicationPerPersonAndDuplicatesReported(t *testing.T) {
	h := newHarness(t).start()
	h.entra.Inject(fakeentra.OpCreateApplication, fakeentra.Fault{Status: 503, AfterEffect: true})
	if out := h.ask(alice, "create Phone"); h.secretIn(out) != "" {
		t.Fatalf("create succeeded through a 503: %s", out)
	}
	if secret := h.secretIn(h.ask(alice, "create Phone")); secret == "" {
		t.Fatal("the second create failed")
	}
	apps := h.entra.Applications()
	if len(apps) != 1 || len(apps[0].Passwords) != 1 {
		t.Fatalf("applications = %+v; want one, holding Phone", apps)
	}

	dup := h.entra.AddEmployeeApp(entraID(alice), true)
	h.entra.AddSecret(dup.ID, "Stray", time.Time{})
	h.runJob(jobs.StaleWarning) // a scan finds it
	if out := h.ask(alice, "list"); strings.Contains(out, "Stray") || !strings.Contains(out, "Phone") {
		t.Errorf("list with a duplicate:\n%s", out)
	}
	h.ask(alice, "create Laptop")
	if got, _ := h.entra.Application(apps[0].ID); len(got.Passwords) != 2 {
		t.Errorf("the first application holds %d passwords, want 2", len(got.Passwords))
	}
	if got, _ := h.entra.Application(dup.ID); len(got.Passwords) != 1 {
		t.Errorf("apppass added to the duplicate: %+v", got.Passwords)
	}
	h.waitFor("the duplicate alert", func() bool { return countContaining(h.helpdeskTexts(), dup.AppID) > 0 })
	time.Sleep(500 * time.Millisecond)
	if texts := h.helpdeskTexts(); countContaining(texts, dup.AppID) != 1 || countContaining(texts, "second apppass application") != 1 {
		t.Errorf("helpdesk messages:\n%s", strings.Join(texts, "\n"))
	}
}
