package check_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/bot"
	"github.com/apppass/apppass/check"
	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeslack"
	"github.com/apppass/apppass/graphclient"
	"github.com/apppass/apppass/internal/testkit"
)

const (
	adminGroup    = "11111111-0000-0000-0000-000000000001"
	helpdeskGroup = "11111111-0000-0000-0000-000000000002"
)

// env is a tenant and a workspace where every check passes, until a test
// breaks one thing.
type env struct {
	slack    *fakeslack.Server
	entra    *fakeentra.Server
	settings check.Settings
	botToken domain.Secret
	appToken domain.Secret
	secret   domain.Secret
}

func newEnv(t *testing.T) *env {
	e := &env{slack: fakeslack.New(t), entra: fakeentra.New(t),
		botToken: domain.NewSecret(fakeslack.BotToken), appToken: domain.NewSecret(fakeslack.AppToken), secret: domain.NewSecret(fakeentra.ClientSecret)}
	e.slack.AddChannel("CHELP")
	e.slack.AddChannel("CREPORT")
	e.entra.AddGroup(adminGroup)
	e.entra.AddGroup(helpdeskGroup)
	e.entra.EnableSignInActivity(true)
	now := time.Now()
	dir := t.TempDir()
	e.settings = check.Settings{
		SlackTeam: fakeslack.TeamID, HelpdeskChannel: "CHELP", ReportChannel: "CREPORT",
		AdminGroup: adminGroup, HelpdeskGroup: helpdeskGroup,
		Gateway: true, SMTPHostname: "smtp.contoso.test", Now: func() time.Time { return now },
		MailUpstream: "smtp", ExchangeResource: "https://outlook.office365.com",
	}
	e.settings.TLSCertFile, e.settings.TLSKeyFile, _ = testkit.WriteCert(t, dir, testkit.Cert{Host: "smtp.contoso.test", NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * 24 * time.Hour)})
	return e
}

func (e *env) run(t *testing.T) []check.Result {
	t.Helper()
	g, err := graphclient.New(graphclient.Options{
		TenantID: fakeentra.TenantID, ClientID: fakeentra.ClientID, ClientSecret: e.secret,
		AuthorityHost: e.entra.AuthorityHost(), GraphBaseURL: e.entra.GraphBaseURL(), Transport: e.entra.Client().Transport,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := bot.NewSlackProbe(e.slack.APIURL(), e.botToken, e.appToken, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return check.Run(ctx, e.settings, s, g)
}

func TestAllPass(t *testing.T) {
	e := newEnv(t)
	res := e.run(t)
	var out bytes.Buffer
	if !check.Print(&out, res) {
		t.Fatalf("Print reported a failure:\n%s", out.String())
	}
	for _, want := range []string{"✓ Slack bot token", "✓ Slack app token", "✓ bot in APPPASS_HELPDESK_CHANNEL CHELP", "✓ bot in APPPASS_REPORT_CHANNEL CREPORT",
		"✓ Entra token", "✓ permission Application.ReadWrite.OwnedBy", "✓ permission User.Read.All", "✓ permission GroupMember.Read.All",
		"✓ permission AuditLog.Read.All", "✓ permission Mail.Send", "✓ APPPASS_ADMIN_GROUP", "✓ APPPASS_HELPDESK_GROUP", "✓ mail gateway certificate: valid for smtp.contoso.test, 89 days left",
		"✓ Exchange Online token for the smtp mail upstream: obtained for https://outlook.office365.com"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestEachFailure breaks one thing at a time and checks that exactly that
// check fails (or, for optional ones, is flagged without failing the run),
// with a fix, and that no secret is printed.
func TestEachFailure(t *testing.T) {
	tests := []struct {
		name     string
		breakIt  func(t *testing.T, e *env)
		wantLine string
		wantFail bool
	}{
		{"bad bot token", func(t *testing.T, e *env) { e.botToken = domain.NewSecret("xoxb-wrong") }, "✗ Slack bot token", true},
		{"wrong workspace", func(t *testing.T, e *env) { e.settings.SlackTeam = "T999" }, "✗ Slack workspace", true},
		{"bad app token", func(t *testing.T, e *env) { e.appToken = domain.NewSecret("xapp-wrong") }, "✗ Slack app token", true},
		{"bot not in helpdesk channel", func(t *testing.T, e *env) {
			e.slack.AddChannelWithoutBot("CHELP2")
			e.settings.HelpdeskChannel = "CHELP2"
		}, "✗ bot in APPPASS_HELPDESK_CHANNEL CHELP2: the bot is not a member → type /invite @apppass", true},
		{"unknown report channel", func(t *testing.T, e *env) { e.settings.ReportChannel = "CNOPE" }, "✗ bot in APPPASS_REPORT_CHANNEL CNOPE", true},
		{"bad Entra secret", func(t *testing.T, e *env) { e.secret = domain.NewSecret("wrong-secret") }, "✗ Entra token for apppass", true},
		{"no User.Read.All", func(t *testing.T, e *env) { e.entra.RevokePermission(fakeentra.PermUserReadAll) }, "✗ permission User.Read.All", true},
		{"no Application.ReadWrite.OwnedBy", func(t *testing.T, e *env) { e.entra.RevokePermission(fakeentra.PermApplicationOwnedBy) }, "✗ permission Application.ReadWrite.OwnedBy", true},
		{"no GroupMember.Read.All", func(t *testing.T, e *env) { e.entra.RevokePermission(fakeentra.PermGroupMemberReadAll) }, "✗ permission GroupMember.Read.All", true},
		{"Mail.Send granted tenant-wide", func(t *testing.T, e *env) { e.entra.GrantPermission(fakeentra.PermMailSend) }, "✗ permission Mail.Send: Mail.Send granted tenant-wide in Entra", true},
		{"no AuditLog.Read.All is optional", func(t *testing.T, e *env) { e.entra.RevokePermission(fakeentra.PermAuditLogReadAll) }, "– permission AuditLog.Read.All", false},
		{"missing admin group", func(t *testing.T, e *env) { e.settings.AdminGroup = "22222222-0000-0000-0000-000000000009" }, "✗ APPPASS_ADMIN_GROUP", true},
		{"certificate for another host", func(t *testing.T, e *env) { e.settings.SMTPHostname = "mail.other.test" }, "✗ mail gateway certificate: does not name mail.other.test", true},
		{"expired certificate", func(t *testing.T, e *env) {
			now := e.settings.Now()
			e.settings.TLSCertFile, e.settings.TLSKeyFile, _ = testkit.WriteCert(t, t.TempDir(), testkit.Cert{Host: "smtp.contoso.test", NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)})
		}, "✗ mail gateway certificate: expired", true},
		{"unreadable key", func(t *testing.T, e *env) { e.settings.TLSKeyFile = filepath.Join(t.TempDir(), "missing.pem") }, "✗ mail gateway certificate", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			tt.breakIt(t, e)
			var out bytes.Buffer
			allOK := check.Print(&out, e.run(t))
			if allOK == tt.wantFail {
				t.Errorf("Print = %v, want %v:\n%s", allOK, !tt.wantFail, out.String())
			}
			if !strings.Contains(out.String(), tt.wantLine) {
				t.Errorf("output lacks %q:\n%s", tt.wantLine, out.String())
			}
			if n := strings.Count(out.String(), "✗"); tt.wantFail && n != 1 {
				t.Errorf("%d checks failed, want exactly 1:\n%s", n, out.String())
			}
			for _, secret := range []string{fakeslack.BotToken, fakeslack.AppToken, fakeentra.ClientSecret, "xoxb-wrong", "wrong-secret"} {
				if strings.Contains(out.String(), secret) {
					t.Errorf("output contains the secret %q", secret)
				}
			}
		})
	}
}
