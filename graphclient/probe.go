package graphclient

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/apppass/apppass/domain"
)

// Application permissions apppass's identity may need (SPEC §3).
const (
	PermApplicationOwnedBy = "Application.ReadWrite.OwnedBy"
	PermUserReadAll        = "User.Read.All"
	PermGroupMemberReadAll = "GroupMember.Read.All"
	PermAuditLogReadAll    = "AuditLog.Read.All"
	PermMailSend           = "Mail.Send"
)

// TokenRoles obtains a token for apppass's own identity and returns the
// application permissions it carries (its roles claim). known is false
// when the token is not a readable JWT (then only the probes can tell).
// The token itself never leaves this function.
func (c *Client) TokenRoles(ctx context.Context) (roles []string, known bool, err error) {
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.scope}})
	if err != nil {
		return nil, false, fmt.Errorf("token for apppass's identity: %w", domain.Wrap(domain.KindUpstream, err, "Microsoft Entra did not give apppass a token."))
	}
	parts := strings.Split(tok.Token, ".")
	if len(parts) != 3 {
		return nil, false, nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false, nil
	}
	var claims struct {
		Roles []string `json:"roles"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return nil, false, nil
	}
	return claims.Roles, true, nil
}

// ProbePermission makes one harmless read that needs perm and returns its
// failure, if any. Mail.Send has no harmless probe; use TokenRoles.
func (c *Client) ProbePermission(ctx context.Context, perm string) error {
	one := int32(1)
	var err error
	switch perm {
	case PermUserReadAll:
		err = c.wait.retry(ctx, graphRetry, "probe", func() error {
			_, err := c.graph.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Top: &one, Select: []string{"id"}},
			})
			return err
		})
	case PermApplicationOwnedBy:
		err = c.wait.retry(ctx, graphRetry, "probe", func() error {
			_, err := c.graph.Applications().Get(ctx, &applications.ApplicationsRequestBuilderGetRequestConfiguration{
				QueryParameters: &applications.ApplicationsRequestBuilderGetQueryParameters{Top: &one, Select: []string{"id"}},
			})
			return err
		})
	case PermAuditLogReadAll:
		err = c.probeSignIns(ctx)
	default:
		return fmt.Errorf("probe %s: no harmless read for this permission", perm)
	}
	if err != nil {
		return fmt.Errorf("probe %s: %w", perm, classify("probe", err))
	}
	return nil
}

func (c *Client) probeSignIns(ctx context.Context) error {
	u, err := betaURL(c.graph.GetAdapter().GetBaseUrl(), "reports/appCredentialSignInActivities")
	if err != nil {
		return err
	}
	u.RawQuery = "%24top=1"
	_, err = c.getRaw(ctx, u)
	return err
}

// GroupName returns the display name of the group id. It returns a
// KindNotFound error when the group does not exist, and another error when
// apppass may not read groups.
func (c *Client) GroupName(ctx context.Context, id string) (string, error) {
	g, err := call(ctx, c.wait, graphRetry, "getGroup", func() (models.Groupable, error) {
		return c.graph.Groups().ByGroupId(id).Get(ctx, &groups.GroupItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &groups.GroupItemRequestBuilderGetQueryParameters{Select: []string{"id", "displayName"}},
		})
	})
	if err != nil {
		return "", fmt.Errorf("get group: %w", classify("getGroup", err))
	}
	return deref(g.GetDisplayName()), nil
}
