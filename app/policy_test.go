package app_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/fakeentra"
)

const days180 = 180 * 24 * time.Hour

// Under a tenant policy capping password lifetimes at 180 days, a create
// without APPPASS_PASSWORD_LIFETIME is refused by Entra: the person reads
// that the policy refused the lifetime, and the helpdesk hears once, with
// the setting to change, however many people try.
func TestLifetimePolicyRefusalIsExplained(t *testing.T) {
	h := newHarness(t)
	h.Entra.SetPasswordLifetimePolicy(days180)
	h.start()

	got := h.Ask(alice, "create Phone")
	for _, want := range []string{"policy", "lifetime", "none was created"} {
		if !strings.Contains(got, want) {
			t.Errorf("reply to a refused create lacks %q:\n%s", want, got)
		}
	}
	if n := h.CountOf(alice); n != 0 {
		t.Errorf("alice holds %d passwords after a refusal", n)
	}
	h.WaitFor("the helpdesk alert", func() bool { return len(policyAlerts(h)) == 1 })
	alert := policyAlerts(h)[0]
	for _, want := range []string{"APPPASS_PASSWORD_LIFETIME", "4320h", "180 days"} {
		if !strings.Contains(alert, want) {
			t.Errorf("helpdesk alert lacks %q:\n%s", want, alert)
		}
	}
	// The alert goes out before the reply, so once bob has his answer a
	// second alert would already be there.
	if got := h.Ask(bob, "create Laptop"); !strings.Contains(got, "policy") {
		t.Errorf("bob's refused create: %s", got)
	}
	if n := len(policyAlerts(h)); n != 1 {
		t.Errorf("helpdesk alerted %d times in a day, want once", n)
	}
}

func policyAlerts(h *harness) []string {
	var out []string
	for _, m := range h.HelpdeskTexts() {
		if strings.Contains(m, "app management policy") {
			out = append(out, m)
		}
	}
	return out
}

// APPPASS_PASSWORD_LIFETIME is sent as the new password's endDateTime, so
// a tenant capping lifetimes accepts it.
func TestPasswordLifetimeIsSentAsEndDate(t *testing.T) {
	h := newHarness(t)
	h.Entra.SetPasswordLifetimePolicy(days180)
	h.Env["APPPASS_PASSWORD_LIFETIME"] = "2160h"
	h.start()

	if h.SecretIn(h.Ask(alice, "create Phone")) == "" {
		t.Fatal("create under a 180-day policy with a 90-day lifetime failed")
	}
	creds := h.Entra.CredentialsOf(entraID(alice))
	if len(creds) != 1 {
		t.Fatalf("credentials = %+v", creds)
	}
	if life := creds[0].End.Sub(creds[0].Start); life < 90*24*time.Hour-time.Minute || life > 90*24*time.Hour+time.Minute {
		t.Errorf("lifetime = %v, want 90 days", life)
	}
}

// `apppass check` compares APPPASS_PASSWORD_LIFETIME with the tenant's
// default app management policy.
func TestCheckComparesLifetimeWithPolicy(t *testing.T) {
	for _, tt := range []struct {
		name     string
		policy   time.Duration
		lifetime string
		revoke   bool
		wantErr  bool
		want     string
	}{
		{"no policy, unset", 0, "", false, false, "✓ password lifetime"},
		{"policy, unset", days180, "", false, true, "set APPPASS_PASSWORD_LIFETIME to 4320h or less"},
		{"policy, longer", days180, "8760h", false, true, "allows at most 180 days"},
		{"policy, within", days180, "2160h", false, false, "within the tenant's maximum of 180 days"},
		{"policy unreadable", days180, "", true, false, "– password lifetime"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.Entra.SetPasswordLifetimePolicy(tt.policy)
			if tt.lifetime != "" {
				h.Env["APPPASS_PASSWORD_LIFETIME"] = tt.lifetime
			}
			if tt.revoke {
				h.Entra.RevokePermission(fakeentra.PermPolicyReadAll)
			}
			var out bytes.Buffer
			err := h.NewMain().Check(context.Background(), &out)
			if (err != nil) != tt.wantErr {
				t.Errorf("check error = %v, want error %v\n%s", err, tt.wantErr, out.String())
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("check output lacks %q:\n%s", tt.want, out.String())
			}
		})
	}
}
