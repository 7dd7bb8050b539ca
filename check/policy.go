package check

import (
	"context"
	"fmt"
	"time"

	"github.com/apppass/apppass/domain"
)

// PolicyReader reads the tenant's default app management policy; the
// Graph of the checks provides it.
type PolicyReader interface {
	CredentialPolicy(ctx context.Context) (domain.CredentialPolicy, error)
}

// lifetimeCheck compares APPPASS_PASSWORD_LIFETIME with the password
// lifetime the tenant's default app management policy allows. Under a
// cap, a lifetime that is unset (Entra's default is two years) or longer
// fails: every create would be refused. The policy needs the optional
// Policy.Read.All; without it the check is shown but does not fail.
func lifetimeCheck(ctx context.Context, lifetime time.Duration, graph PolicyReader) Result {
	const name = "password lifetime (APPPASS_PASSWORD_LIFETIME) under the tenant's app management policy"
	p, err := graph.CredentialPolicy(ctx)
	if err != nil {
		return Result{Name: name, Optional: true, Detail: "policy not readable: " + err.Error(),
			Fix: "grant apppass the application permission Policy.Read.All (optional) so that check can compare, or compare by hand in Entra: Enterprise applications → App management policies"}
	}
	set := "unset (Entra's default: two years)"
	if lifetime > 0 {
		set = fmt.Sprintf("%s (%s)", domain.FormatLifetime(lifetime), lifetime)
	}
	if p.MaxPasswordLifetime <= 0 {
		return pass(name, "the tenant does not restrict password lifetimes; "+set)
	}
	maxH := fmt.Sprintf("%dh", int64(p.MaxPasswordLifetime/time.Hour))
	if !p.Allows(lifetime) {
		return fail(name, fmt.Sprintf("%s, but the tenant's default policy allows at most %s: Entra would refuse every new app password",
			set, domain.FormatLifetime(p.MaxPasswordLifetime)),
			"set APPPASS_PASSWORD_LIFETIME to "+maxH+" or less")
	}
	return pass(name, fmt.Sprintf("%s, within the tenant's maximum of %s", set, domain.FormatLifetime(p.MaxPasswordLifetime)))
}
