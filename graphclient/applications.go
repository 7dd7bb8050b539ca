package graphclient

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/apppass/apppass/domain"
)

const (
	tagApppass     = "apppass"
	ownerTagPrefix = "apppass:owner:"
)

var appSelect = []string{"id", "appId", "displayName", "tags", "passwordCredentials"}

// FindApplication returns ownerID's application and true, or false when
// Graph lists none. Results are cached and kept current by this client's
// own writes.
func (c *Client) FindApplication(ctx context.Context, ownerID string) (domain.Application, bool, error) {
	if ca, ok := c.apps.Get(ownerID); ok {
		return cloneApp(ca.app), true, nil
	}
	return c.FreshApplication(ctx, ownerID)
}

// FreshApplication is FindApplication without the cache, for reconciling
// after a failure.
func (c *Client) FreshApplication(ctx context.Context, ownerID string) (domain.Application, bool, error) {
	filter := "tags/any(t:t eq '" + ownerTagPrefix + strings.ReplaceAll(ownerID, "'", "''") + "')"
	res, err := c.graph.Applications().Get(ctx, &applications.ApplicationsRequestBuilderGetRequestConfiguration{
		QueryParameters: &applications.ApplicationsRequestBuilderGetQueryParameters{Filter: &filter, Select: appSelect},
	})
	if err != nil {
		return domain.Application{}, false, fmt.Errorf("find application: %w", classify("listApplications", err))
	}
	if len(res.GetValue()) == 0 {
		return domain.Application{}, false, nil
	}
	app := toApplication(res.GetValue()[0])
	c.apps.Add(ownerID, cachedApp{app: cloneApp(app)})
	return app, true, nil
}

// CreateApplication creates owner's application, tagged for apppass and
// for owner, and its service principal so it can sign in. apppass's own
// identity becomes its owner; the employee does not. It returns a
// KindLimit error when Entra's directory object quota is exhausted.
func (c *Client) CreateApplication(ctx context.Context, owner domain.User) (domain.Application, error) {
	a := models.NewApplication()
	a.SetDisplayName(ptr(appDisplayName(c.prefix, owner.UserPrincipalName)))
	a.SetSignInAudience(ptr("AzureADMyOrg"))
	a.SetTags([]string{tagApppass, ownerTagPrefix + owner.ID})
	created, err := c.graph.Applications().Post(ctx, a, nil)
	if err != nil {
		return domain.Application{}, fmt.Errorf("create application: %w", classify("createApplication", err))
	}
	app := toApplication(created)
	app.OwnerID = owner.ID
	c.newApps.Add(app.ObjectID, c.now())
	c.apps.Add(owner.ID, cachedApp{app: cloneApp(app)})
	if err := c.CreateServicePrincipal(ctx, app.AppID); err != nil {
		return app, err
	}
	return app, nil
}

// CreateServicePrincipal creates the service principal of application
// appID; one that already exists counts as success.
func (c *Client) CreateServicePrincipal(ctx context.Context, appID string) error {
	sp := models.NewServicePrincipal()
	sp.SetAppId(ptr(appID))
	sp.SetTags([]string{tagApppass})
	if _, err := c.graph.ServicePrincipals().Post(ctx, sp, nil); err != nil {
		if statusOf(err) == http.StatusConflict {
			return nil
		}
		return fmt.Errorf("create service principal: %w", classify("createServicePrincipal", err))
	}
	return nil
}

// maxDisplayName is Entra's limit on an application's displayName.
const maxDisplayName = 120

// appDisplayName is prefix followed by upn, within Entra's 120 characters:
// a UPN too long for that loses the end of its local part (marked "…"),
// keeping the domain, so the name still says whose and which tenant.
func appDisplayName(prefix, upn string) string {
	name := prefix + upn
	if utf8.RuneCountInString(name) <= maxDisplayName {
		return name
	}
	room := maxDisplayName - utf8.RuneCountInString(prefix)
	local, domainPart, ok := strings.Cut(upn, "@")
	if ok && utf8.RuneCountInString(domainPart)+2 < room {
		keep := room - utf8.RuneCountInString(domainPart) - 2 // "…" and "@"
		return prefix + string([]rune(local)[:keep]) + "…@" + domainPart
	}
	return string([]rune(name)[:maxDisplayName-1]) + "…"
}

func toApplication(a models.Applicationable) domain.Application {
	app := domain.Application{ObjectID: deref(a.GetId()), AppID: deref(a.GetAppId())}
	for _, t := range a.GetTags() {
		if strings.HasPrefix(t, ownerTagPrefix) {
			app.OwnerID = strings.TrimPrefix(t, ownerTagPrefix)
		}
	}
	for _, pc := range a.GetPasswordCredentials() {
		app.Passwords = append(app.Passwords, toPassword(pc))
	}
	return app
}

func toPassword(pc models.PasswordCredentialable) domain.Password {
	p := domain.Password{Name: deref(pc.GetDisplayName()), Hint: deref(pc.GetHint())}
	if id := pc.GetKeyId(); id != nil {
		p.KeyID = id.String()
	}
	if t := pc.GetStartDateTime(); t != nil {
		p.Created = t.UTC()
	}
	if t := pc.GetEndDateTime(); t != nil {
		p.Expires = t.UTC()
	}
	return p
}

func cloneApp(a domain.Application) domain.Application {
	a.Passwords = append([]domain.Password(nil), a.Passwords...)
	return a
}

func ptr[T any](v T) *T { return &v }
