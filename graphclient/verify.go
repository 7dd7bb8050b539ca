package graphclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/apppass/apppass/domain"
)

// verifier asks Entra whether an app password is right: the token request
// of SPEC §3 "verify an app password", with the same authority, instance
// discovery setting and transport as apppass's own credential.
type verifier struct {
	tenantID string
	scope    string
	private  bool // authority is not a Microsoft cloud: no instance discovery
	options  azcore.ClientOptions
}

// AADSTS codes that mean "this password does not open this application".
var rejectedCodes = map[int]string{
	7000215: "invalid client secret",
	7000222: "client secret expired",
	700016:  "application not found in the directory",
	7000229: "application has no service principal",
	7000112: "application is disabled",
	700023:  "application is not allowed in the tenant",
	7000218: "no client secret",
}

// VerifyPassword asks Entra for a client-credentials token for the
// application appID with password as its client secret, and drops the
// token. It returns nil when Entra issues one; a KindForbidden error when
// Entra refuses the secret or the application (wrong, expired, removed or
// not yet replicated secret; unknown application; no service principal); a
// KindUpstream error when Entra could not answer (network, 5xx, 429), so the
// caller should ask the device to retry. Errors never contain the
// password: only Entra's AADSTS code and correlation id.
//
// Each call builds its own credential, so nothing about the password or
// the token outlives the call (no token cache is shared or persisted).
func (c *Client) VerifyPassword(ctx context.Context, appID string, password domain.Secret) error {
	v := c.verify
	if password.IsZero() || appID == "" {
		return domain.Errorf(domain.KindForbidden, "no password or no application")
	}
	cred, err := azidentity.NewClientSecretCredential(v.tenantID, appID, password.Reveal(),
		&azidentity.ClientSecretCredentialOptions{ClientOptions: v.options, DisableInstanceDiscovery: v.private})
	if err != nil {
		// Only malformed tenant or client ids get here; never wrap err, in
		// case a future azidentity mentions the secret.
		return domain.Errorf(domain.KindForbidden, "verify password: the application id is not valid")
	}
	_, err = cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{v.scope}})
	if err == nil {
		return nil
	}
	return classifyTokenError(err)
}

// classifyTokenError sorts a token failure into refused (KindForbidden) and
// unavailable (KindUpstream), keeping only Entra's code and ids.
func classifyTokenError(err error) error {
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil {
		return &domain.Error{Kind: domain.KindUpstream, Message: "Microsoft Entra could not be reached.",
			Err: fmt.Errorf("verify password: %s", transportReason(err))}
	}
	status := afe.RawResponse.StatusCode
	var body struct {
		Error         string `json:"error"`
		ErrorCodes    []int  `json:"error_codes"`
		TraceID       string `json:"trace_id"`
		CorrelationID string `json:"correlation_id"`
	}
	if b, perr := runtime.Payload(afe.RawResponse); perr == nil {
		_ = json.Unmarshal(b, &body) // an unreadable body leaves zero values
	}
	code := 0
	if len(body.ErrorCodes) > 0 {
		code = body.ErrorCodes[0]
	}
	cause := fmt.Errorf("verify password: token endpoint %d %s AADSTS%d (trace %s)", status, body.Error, code, body.TraceID)
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		return &domain.Error{Kind: domain.KindUpstream, Message: "Microsoft Entra is busy right now.", Ref: body.CorrelationID, Err: cause}
	case rejectedCodes[code] != "" || body.Error == "invalid_client" || body.Error == "unauthorized_client":
		return &domain.Error{Kind: domain.KindForbidden, Message: "Microsoft Entra did not accept the password.", Ref: body.CorrelationID, Err: cause}
	}
	// invalid_scope, invalid_tenant, …: apppass's configuration, not the
	// password; the device should retry while someone fixes it.
	return &domain.Error{Kind: domain.KindUpstream, Message: "Microsoft Entra refused the request.", Ref: body.CorrelationID, Err: cause}
}

// transportReason describes a failure without a response, without any
// text that could come from the request.
func transportReason(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return "network timeout"
	}
	return "no response from the token endpoint (" + strconv.Quote(firstLine(err.Error())) + ")"
}

// firstLine returns s up to its first line break, at most 200 bytes.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// newVerifier prepares password checks against opts' authority.
func newVerifier(opts Options, scope string, hc *http.Client) (verifier, error) {
	private, err := privateAuthority(opts.AuthorityHost)
	if err != nil {
		return verifier{}, err
	}
	return verifier{
		tenantID: opts.TenantID,
		scope:    scope,
		private:  private,
		options: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: opts.AuthorityHost, Services: map[cloud.ServiceName]cloud.ServiceConfiguration{}},
			Transport: hc,
			// One attempt: a busy Entra is answered 454 and the device
			// retries; a wrong password is never tried twice.
			Retry: policy.RetryOptions{MaxRetries: -1},
		},
	}, nil
}
