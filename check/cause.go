package check

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/slack-go/slack"

	"github.com/apppass/apppass/domain"
)

// cause is what a failed probe ran into. An operator fixes each
// differently: a network failure is never a bad token, and telling them to
// reinstall the Slack app over a DNS failure sends them the wrong way.
type cause int

const (
	causeOther cause = iota
	causeNetwork
	causeToken
	causePermission
)

// explained is one probe failure as one line: its cause and what was seen.
type explained struct {
	cause  cause
	detail string
}

// slackTokenErrors are Slack's answers that mean the token itself is bad.
var slackTokenErrors = map[string]bool{
	"invalid_auth": true, "not_authed": true, "token_revoked": true, "token_expired": true,
	"account_inactive": true, "not_allowed_token_type": true, "invalid_token": true,
}

// slackPermissionErrors are Slack's answers that mean the token works but
// may not do this.
var slackPermissionErrors = map[string]bool{
	"missing_scope": true, "not_in_channel": true, "access_denied": true, "no_permission": true, "ekm_access_denied": true,
}

var (
	aadsts = regexp.MustCompile(`AADSTS\d+`)
	anyURL = regexp.MustCompile(`https?://\S+`)
)

// explain names the cause of a probe's failure in one line. The raw text
// of some errors (azidentity's) runs over many lines and includes
// endpoints such as the managed identity's; only a bounded first line of
// it, with addresses removed, is ever shown.
func explain(err error, limit time.Duration) explained {
	msg := err.Error()
	var (
		dns    *net.DNSError
		op     *net.OpError
		netErr net.Error
		slk    slack.SlackErrorResponse
		status slack.StatusCodeError
		auth   *azidentity.AuthenticationFailedError
		cert   *tls.CertificateVerificationError
		unk    x509.UnknownAuthorityError
		host   x509.HostnameError
	)
	lower := strings.ToLower(msg)
	switch {
	case errors.As(err, &dns):
		return explained{causeNetwork, fmt.Sprintf("network: cannot resolve %s (DNS)", dns.Name)}
	case errors.Is(err, syscall.ECONNREFUSED):
		where := ""
		if errors.As(err, &op) && op.Addr != nil {
			where = " by " + op.Addr.String()
		}
		return explained{causeNetwork, "network: connection refused" + where}
	case errors.As(err, &cert) || errors.As(err, &unk) || errors.As(err, &host):
		return explained{causeNetwork, "network: the server's TLS certificate is not trusted (a proxy intercepting TLS?)"}
	// azidentity retries a refused connection until the time is up, and
	// then reports the time; what it ran into is in its text.
	case strings.Contains(lower, "connection refused"):
		return explained{causeNetwork, "network: connection refused"}
	case strings.Contains(lower, "no such host"):
		return explained{causeNetwork, "network: cannot resolve the host (DNS)"}
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return explained{causeNetwork, fmt.Sprintf("network: no answer within %s", domain.HumanDuration(limit))}
	case errors.As(err, &op):
		return explained{causeNetwork, fmt.Sprintf("network: %s %s failed", op.Op, op.Addr)}
	case errors.As(err, &slk) && slackTokenErrors[slk.Err]:
		return explained{causeToken, "token: Slack answered " + slk.Err}
	case errors.As(err, &slk) && slackPermissionErrors[slk.Err]:
		return explained{causePermission, "permission: Slack answered " + slk.Err}
	case errors.As(err, &slk):
		return explained{causeOther, "Slack answered " + slk.Err}
	case errors.As(err, &status):
		return explained{causeOther, fmt.Sprintf("Slack answered HTTP %d", status.Code)}
	case errors.As(err, &auth) && auth.RawResponse != nil:
		code := aadsts.FindString(msg)
		if code == "" {
			code = fmt.Sprintf("HTTP %d", auth.RawResponse.StatusCode)
		}
		return explained{causeToken, "token: Entra refused apppass's credential (" + code + ")"}
	case domain.KindOf(err) == domain.KindForbidden:
		return explained{causePermission, "permission: Graph answered 403 Forbidden"}
	}
	// azidentity reports some network failures as text only (MSAL's).
	switch {
	case strings.Contains(lower, "i/o timeout") || strings.Contains(lower, "deadline exceeded"):
		return explained{causeNetwork, fmt.Sprintf("network: no answer within %s", domain.HumanDuration(limit))}
	case strings.Contains(lower, "network is unreachable") || strings.Contains(lower, "no route to host"):
		return explained{causeNetwork, "network: no route to the host"}
	}
	if code := aadsts.FindString(msg); code != "" {
		return explained{causeToken, "token: Entra refused apppass's credential (" + code + ")"}
	}
	return explained{causeOther, oneLine(msg)}
}

// oneLine is the first line of s, without addresses, at most 160 runes.
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	s = strings.TrimSpace(anyURL.ReplaceAllString(s, "…"))
	if r := []rune(s); len(r) > 160 {
		s = string(r[:159]) + "…"
	}
	return s
}

// dial opens and closes a TCP connection to rawURL's host, within 3
// seconds, and returns what went wrong.
func dial(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return err
	}
	return c.Close()
}
