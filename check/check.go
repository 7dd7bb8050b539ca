// Package check is `apppass check`: it tries every setting against the
// real services and tells, one line per check, what works and what to do
// about what does not (SPEC §12). It declares the probes it needs; bot and
// graphclient provide them.
package check

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/apppass/apppass/domain"
)

// Slack is what the checks ask of Slack.
type Slack interface {
	BotIdentity(ctx context.Context) (teamID, enterpriseID string, err error)
	OpenConnection(ctx context.Context) error
	BotInChannel(ctx context.Context, channel string) (bool, error)
}

// Graph is what the checks ask of Entra and Graph.
type Graph interface {
	// TokenRoles returns the application permissions in a fresh token;
	// known is false when the token cannot be read.
	TokenRoles(ctx context.Context) (roles []string, known bool, err error)
	ProbePermission(ctx context.Context, perm string) error
	GroupName(ctx context.Context, id string) (string, error)
	// ExchangeToken gets apppass's own token for Exchange Online, as the
	// smtp mail upstream does.
	ExchangeToken(ctx context.Context) (domain.Secret, error)
	PolicyReader
}

// Settings are the parts of apppass's configuration the checks try.
type Settings struct {
	SlackTeam       string
	HelpdeskChannel string
	ReportChannel   string
	AdminGroup      string
	HelpdeskGroup   string
	// Gateway is true when a mail gateway listener is configured.
	Gateway      bool
	TLSCertFile  string
	TLSKeyFile   string
	SMTPHostname string
	// ClientSecretSet is false when AZURE_CLIENT_SECRET is unset and apppass
	// relies on a certificate, workload identity or managed identity.
	ClientSecretSet bool
	// AuthorityHost is AZURE_AUTHORITY_HOST: when the token times out,
	// check dials it to tell a refused or unresolvable host from a slow
	// one (azidentity retries until the time is up and says only that).
	AuthorityHost string
	// ProbeTimeout bounds each call to a service; zero: DefaultProbeTimeout.
	ProbeTimeout time.Duration
	// MailUpstream is APPPASS_MAIL_UPSTREAM ("smtp" or "graph"), and
	// ExchangeResource APPPASS_EXCHANGE_RESOURCE.
	MailUpstream     string
	ExchangeResource string
	// ReadIMAP and ReadPOP are true when IMAP or POP3 listeners are
	// configured (reading.go).
	ReadIMAP, ReadPOP bool
	// PasswordLifetime is APPPASS_PASSWORD_LIFETIME (zero: unset).
	PasswordLifetime time.Duration
	Now              func() time.Time
}

// DefaultProbeTimeout bounds one probe: long enough for a slow tenant,
// short enough that an offline run ends in seconds, not minutes of
// retries.
const DefaultProbeTimeout = 10 * time.Second

// within runs one probe with the per-probe time limit.
func within[T any](ctx context.Context, s Settings, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, s.ProbeTimeout)
	defer cancel()
	return f(ctx)
}

// networkFix is the fix for any probe that could not reach its service.
func networkFix(service string) string {
	return "apppass could not reach " + service + ": check DNS, the firewall and HTTPS_PROXY on this host; the settings themselves were not tried"
}

// Result is one check's outcome. Fix says what to do when it failed.
type Result struct {
	Name   string
	OK     bool
	Detail string
	Fix    string
	// Optional results are shown but do not make the run fail.
	Optional bool
	// Skipped checks could not run because one they depend on failed.
	Skipped bool
}

// Run runs every check that the settings call for, in order.
func Run(ctx context.Context, s Settings, slack Slack, graph Graph) []Result {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.ProbeTimeout <= 0 {
		s.ProbeTimeout = DefaultProbeTimeout
	}
	var out []Result
	out = append(out, slackChecks(ctx, s, slack)...)
	out = append(out, graphChecks(ctx, s, graph)...)
	out = append(out, readingChecks(ctx, s, graph)...)
	if s.Gateway {
		out = append(out, certificateCheck(s))
	}
	return out
}

// Print writes one line per result, ✓ or ✗ with the fix, and reports
// whether every required check passed.
func Print(w io.Writer, results []Result) bool {
	ok := true
	for _, r := range results {
		mark := "✓"
		switch {
		case r.Skipped:
			mark = "·"
		case !r.OK:
			mark = "✗"
			if r.Optional {
				mark = "–"
			} else {
				ok = false
			}
		}
		line := fmt.Sprintf("%s %s", mark, r.Name)
		if r.Detail != "" {
			line += ": " + r.Detail
		}
		if !r.OK && r.Fix != "" {
			line += " → " + r.Fix
		}
		fmt.Fprintln(w, line)
	}
	return ok
}

func skip(name, why string) Result {
	return Result{Name: name, Skipped: true, Detail: "not checked: " + why}
}

func pass(name, detail string) Result { return Result{Name: name, OK: true, Detail: detail} }

func fail(name, detail, fix string) Result {
	return Result{Name: name, Detail: detail, Fix: fix}
}

func slackChecks(ctx context.Context, s Settings, slack Slack) []Result {
	var out []Result
	type identity struct{ team, enterprise string }
	id, err := within(ctx, s, func(ctx context.Context) (identity, error) {
		team, enterprise, err := slack.BotIdentity(ctx)
		return identity{team, enterprise}, err
	})
	botOK := err == nil
	switch {
	case err != nil:
		e := explain(err, s.ProbeTimeout)
		fix := "set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (xoxb-…); reinstall the app if it was revoked"
		if e.cause == causeNetwork {
			fix = networkFix("Slack")
		}
		out = append(out, fail("Slack bot token (auth.test)", e.detail, fix))
	case s.SlackTeam != "" && s.SlackTeam != id.team && s.SlackTeam != id.enterprise:
		out = append(out, fail("Slack workspace", fmt.Sprintf("the bot token belongs to team %s (enterprise %q), APPPASS_SLACK_TEAM is %s", id.team, id.enterprise, s.SlackTeam),
			"set APPPASS_SLACK_TEAM to the team id (T…) or Enterprise Grid id (E…) the app is installed in"))
	default:
		out = append(out, pass("Slack bot token (auth.test)", "team "+id.team))
	}
	if _, err := within(ctx, s, func(ctx context.Context) (struct{}, error) { return struct{}{}, slack.OpenConnection(ctx) }); err != nil {
		e := explain(err, s.ProbeTimeout)
		fix := "set SLACK_APP_TOKEN to an app-level token (xapp-…) with connections:write, and turn socket mode on"
		if e.cause == causeNetwork {
			fix = networkFix("Slack")
		}
		out = append(out, fail("Slack app token (apps.connections.open)", e.detail, fix))
	} else {
		out = append(out, pass("Slack app token (apps.connections.open)", "socket mode available"))
	}
	for _, ch := range []struct{ setting, id string }{{"APPPASS_HELPDESK_CHANNEL", s.HelpdeskChannel}, {"APPPASS_REPORT_CHANNEL", s.ReportChannel}} {
		if ch.id == "" {
			continue
		}
		name := "bot in " + ch.setting + " " + ch.id
		if !botOK {
			out = append(out, skip(name, "the bot token does not work"))
			continue
		}
		member, err := within(ctx, s, func(ctx context.Context) (bool, error) { return slack.BotInChannel(ctx, ch.id) })
		switch {
		case err != nil:
			e := explain(err, s.ProbeTimeout)
			fix := "check the channel id in " + ch.setting + "; for a private channel invite the bot first"
			if e.cause == causeNetwork {
				fix = networkFix("Slack")
			}
			out = append(out, fail(name, e.detail, fix))
		case !member:
			out = append(out, fail(name, "the bot is not a member", "type /invite @apppass in the channel"))
		default:
			out = append(out, pass(name, "member"))
		}
	}
	return out
}

func graphChecks(ctx context.Context, s Settings, graph Graph) []Result {
	type token struct {
		roles []string
		known bool
	}
	tok, err := within(ctx, s, func(ctx context.Context) (token, error) {
		roles, known, err := graph.TokenRoles(ctx)
		return token{roles, known}, err
	})
	roles, known := tok.roles, tok.known
	if err != nil {
		return []Result{tokenFailure(ctx, s, err)}
	}
	out := []Result{pass("Entra token for apppass", "obtained")}
	type perm struct {
		name, why string
		probe     bool
		optional  bool
	}
	perms := []perm{
		{"Application.ReadWrite.OwnedBy", "create and manage employees' applications", true, false},
		{"User.Read.All", "find employees", true, false},
		{"GroupMember.Read.All", "check the admin and helpdesk groups", false, false},
		{"AuditLog.Read.All", "last-use dates (optional: without it staleness is by age)", true, true},
	}
	groupsReadable := true
	for _, p := range perms {
		name := "permission " + p.name
		fix := fmt.Sprintf("grant the application permission %s to apppass's app registration and give admin consent (%s)", p.name, p.why)
		if known && !slices.Contains(roles, p.name) {
			if p.name == "GroupMember.Read.All" {
				groupsReadable = false
			}
			out = append(out, Result{Name: name, Detail: "not in the token's roles", Fix: fix, Optional: p.optional})
			continue
		}
		if p.probe {
			if _, err := within(ctx, s, func(ctx context.Context) (struct{}, error) { return struct{}{}, graph.ProbePermission(ctx, p.name) }); err != nil {
				e := explain(err, s.ProbeTimeout)
				if e.cause == causeNetwork {
					fix = networkFix("Microsoft Graph")
				}
				out = append(out, Result{Name: name, Detail: e.detail, Fix: fix, Optional: p.optional})
				continue
			}
		}
		detail := "granted"
		if !known && !p.probe {
			detail = "not verifiable from the token; checked by use below"
		}
		out = append(out, pass(name, detail))
	}
	if s.Gateway {
		out = append(out, mailSendCheck(roles, known))
		if s.MailUpstream == "smtp" {
			out = append(out, exchangeTokenCheck(ctx, s, graph))
		}
	}
	out = append(out, lifetimeCheck(ctx, s.PasswordLifetime, graph))
	for _, g := range []struct{ setting, id string }{{"APPPASS_ADMIN_GROUP", s.AdminGroup}, {"APPPASS_HELPDESK_GROUP", s.HelpdeskGroup}} {
		if g.id == "" {
			continue
		}
		name := g.setting + " " + g.id
		if !groupsReadable {
			out = append(out, skip(name, "needs GroupMember.Read.All"))
			continue
		}
		display, err := within(ctx, s, func(ctx context.Context) (string, error) { return graph.GroupName(ctx, g.id) })
		if err != nil {
			e := explain(err, s.ProbeTimeout)
			fix := "set " + g.setting + " to the object id of an existing Entra group"
			if e.cause == causeNetwork {
				fix = networkFix("Microsoft Graph")
			}
			out = append(out, fail(name, e.detail, fix))
			continue
		}
		out = append(out, pass(name, "exists: "+display))
	}
	return out
}

// tokenFailure says why apppass got no Entra token, in one line. Without
// AZURE_CLIENT_SECRET apppass falls back on the host's identities, whose
// combined failure is a long dump naming internal endpoints; it is said
// as what it means instead.
func tokenFailure(ctx context.Context, s Settings, err error) Result {
	const name = "Entra token for apppass"
	e := explain(err, s.ProbeTimeout)
	if e.cause == causeNetwork && s.AuthorityHost != "" {
		if reach := dial(ctx, s.AuthorityHost); reach != nil {
			e = explain(reach, s.ProbeTimeout)
		}
	}
	switch {
	case e.cause == causeNetwork:
		return fail(name, e.detail, networkFix("Microsoft Entra (AZURE_AUTHORITY_HOST)"))
	case !s.ClientSecretSet && e.cause != causeToken:
		return fail(name, "AZURE_CLIENT_SECRET is not set, and no certificate, workload identity or managed identity gave a token on this host",
			"set AZURE_CLIENT_SECRET to a client secret of apppass's app registration, or run apppass where its managed identity or workload identity is available")
	}
	return fail(name, e.detail, "check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or the workload identity), and that the secret has not expired")
}

// exchangeTokenCheck gets the token the smtp upstream signs in to
// Exchange Online with. Whether Exchange then lets apppass send as a
// mailbox (the RBAC role on its scope, SMTP AUTH allowed on the mailbox)
// cannot be seen without sending: the fix names the PowerShell check.
func exchangeTokenCheck(ctx context.Context, s Settings, graph Graph) Result {
	name := "Exchange Online token for the smtp mail upstream"
	if _, err := within(ctx, s, func(ctx context.Context) (struct{}, error) {
		_, err := graph.ExchangeToken(ctx)
		return struct{}{}, err
	}); err != nil {
		e := explain(err, s.ProbeTimeout)
		if e.cause == causeNetwork {
			return fail(name, e.detail, networkFix("Microsoft Entra (AZURE_AUTHORITY_HOST)"))
		}
		return fail(name, e.detail,
			"apppass's identity must get a token for "+s.ExchangeResource+"/.default: check APPPASS_EXCHANGE_RESOURCE (national clouds have their own) and apppass's credential")
	}
	return pass(name, "obtained for "+s.ExchangeResource+"; that Exchange lets apppass send as a mailbox shows only in Exchange: Test-ServicePrincipalAuthorization -Identity <AZURE_CLIENT_ID> -Resource <a gateway user> must list Application SMTP.SendAsApp (README: The mail gateway's upstream)")
}

// mailSendCheck looks at how apppass may send mail for the gateway.
// Mail.Send belongs in Exchange Online's RBAC for Applications, scoped to
// the employees who use the gateway; that grant puts nothing in the
// token and has no harmless probe in Graph, so it cannot be verified
// from here. Mail.Send in the token means admin consent in Entra: apppass
// could send as every mailbox in the organisation, which check refuses.
func mailSendCheck(roles []string, known bool) Result {
	const name = "permission Mail.Send"
	for _, p := range []string{"Mail.Send", "Mail.ReadWrite"} {
		if known && slices.Contains(roles, p) {
			return fail(name, p+" granted tenant-wide in Entra: apppass could act on every mailbox",
				"remove the admin consent for "+p+" from apppass's app registration and grant it with Exchange Online RBAC for Applications, scoped to the gateway's users (README: The mail gateway's upstream)")
		}
	}
	return pass(name, "not granted tenant-wide; the Exchange scope cannot be seen from here: check it with Test-ServicePrincipalAuthorization -Identity <AZURE_CLIENT_ID> -Resource <a gateway user>")
}
