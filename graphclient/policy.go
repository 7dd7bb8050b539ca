package graphclient

import (
	"context"
	"fmt"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/apppass/apppass/domain"
)

// CredentialPolicy reads the tenant's default app management policy
// (GET /policies/defaultAppManagementPolicy, which needs the optional
// Policy.Read.All) and returns the password lifetime it enforces. A
// disabled policy, or one without an enabled passwordLifetime
// restriction, restricts nothing. It returns KindForbidden when apppass
// may not read the policy, and KindUpstream when Graph fails.
func (c *Client) CredentialPolicy(ctx context.Context) (domain.CredentialPolicy, error) {
	var res models.TenantAppManagementPolicyable
	err := c.wait.retry(ctx, graphRetry, "getDefaultAppManagementPolicy", func() error {
		var err error
		res, err = c.graph.Policies().DefaultAppManagementPolicy().Get(ctx, nil)
		return err
	})
	if err != nil {
		return domain.CredentialPolicy{}, fmt.Errorf("read the app management policy: %w", classify("getDefaultAppManagementPolicy", err))
	}
	var p domain.CredentialPolicy
	if res == nil || !deref(res.GetIsEnabled()) || res.GetApplicationRestrictions() == nil {
		return p, nil
	}
	for _, r := range res.GetApplicationRestrictions().GetPasswordCredentials() {
		if r.GetRestrictionType() == nil || *r.GetRestrictionType() != models.PASSWORDLIFETIME_APPCREDENTIALRESTRICTIONTYPE {
			continue
		}
		if st := r.GetState(); st != nil && *st != models.ENABLED_APPMANAGEMENTRESTRICTIONSTATE {
			continue
		}
		if r.GetMaxLifetime() == nil {
			continue
		}
		d, err := r.GetMaxLifetime().ToDuration()
		if err != nil || d <= 0 {
			continue
		}
		if p.MaxPasswordLifetime == 0 || d < p.MaxPasswordLifetime {
			p.MaxPasswordLifetime = d
		}
	}
	return p, nil
}
