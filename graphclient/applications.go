package graphclient

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipalswithappid"

	"github.com/apppass/apppass/domain"
)

const (
	tagApppass     = "apppass"
	ownerTagPrefix = "apppass:owner:"
)

var appSelect = []string{"id", "appId", "createdDateTime", "displayName", "tags", "passwordCredentials"}

// FindApplications returns every application tagged for ownerID, oldest
// first (then by object id), whoever made it: which of them apppass may
// use is the caller's decision (handlers.Trust). Results are cached and
// kept current by this client's own writes. Graph failures are
// KindUpstream.
func (c *Client) FindApplications(ctx context.Context, ownerID string) ([]domain.Application, error) {
	if ca, ok := c.apps.Get(ownerID); ok {
		return cloneApps(ca.apps), nil
	}
	return c.FreshApplications(ctx, ownerID)
}

// FreshApplications is FindApplications without the cache: for decisions
// another replica's writes may have changed, and for reconciling.
func (c *Client) FreshApplications(ctx context.Context, ownerID string) ([]domain.Application, error) {
	filter := "tags/any(t:t eq '" + ownerTagPrefix + strings.ReplaceAll(ownerID, "'", "''") + "')"
	res, err := call(ctx, c.wait, graphRetry, "listApplications", func() (models.ApplicationCollectionResponseable, error) {
		return c.graph.Applications().Get(ctx, &applications.ApplicationsRequestBuilderGetRequestConfiguration{
			QueryParameters: &applications.ApplicationsRequestBuilderGetQueryParameters{Filter: &filter, Select: appSelect},
		})
	})
	if err != nil {
		return nil, fmt.Errorf("find applications: %w", classify("listApplications", err))
	}
	var out []domain.Application
	for _, a := range res.GetValue() {
		out = append(out, toApplication(a))
	}
	sortApps(out)
	c.apps.Add(ownerID, cachedApps{apps: cloneApps(out)})
	return out, nil
}

// sortApps orders applications oldest first, then by object id, so that
// every replica sees them in the same order.
func sortApps(apps []domain.Application) {
	slices.SortFunc(apps, func(a, b domain.Application) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ObjectID, b.ObjectID)
	})
}

// CreateApplication creates owner's application, tagged for apppass and
// for owner, and its service principal so it can sign in. apppass's own
// identity becomes its owner; the employee does not. It returns a
// KindLimit error when Entra's directory object quota is exhausted. When
// the application was made but its service principal could not be, it
// returns the application (HasServicePrincipal false) with the error.
// POST /applications is never retried blindly: after a failure an
// application may exist, which the next look finds.
func (c *Client) CreateApplication(ctx context.Context, owner domain.User) (domain.Application, error) {
	a := models.NewApplication()
	a.SetDisplayName(ptr(appDisplayName(c.prefix, owner.UserPrincipalName)))
	a.SetSignInAudience(ptr("AzureADMyOrg"))
	a.SetTags([]string{tagApppass, ownerTagPrefix + owner.ID})
	created, err := c.graph.Applications().Post(ctx, a, &applications.ApplicationsRequestBuilderPostRequestConfiguration{
		// No retry of 503/504 by the SDK: a retried create can make a
		// second application for one person.
		Options: []abs.RequestOption{&noRetry},
	})
	if err != nil {
		c.apps.Remove(owner.ID)
		return domain.Application{}, fmt.Errorf("create application: %w", classify("createApplication", err))
	}
	app := toApplication(created)
	app.OwnerID = owner.ID
	c.newApps.Add(app.ObjectID, c.now())
	if err := c.EnsureServicePrincipal(ctx, app.AppID); err != nil {
		c.apps.Remove(owner.ID)
		return app, err
	}
	app.HasServicePrincipal = true
	// Added to what the caller just listed, which Graph may not show for
	// a while.
	listed := []domain.Application{cloneApp(app)}
	if ca, ok := c.apps.Get(owner.ID); ok {
		listed = append(cloneApps(ca.apps), listed...)
	}
	c.apps.Add(owner.ID, cachedApps{apps: listed})
	return app, nil
}

// EnsureServicePrincipal creates the service principal of application
// appID; one that already exists (409) counts as success, which makes the
// call safe to retry. The replication errors Entra answers right after the
// application was created (400 "…does not reference a valid application
// object", 403 "…backing application…") are retried with backoff for up
// to two minutes (spRetry), or until ctx ends.
func (c *Client) EnsureServicePrincipal(ctx context.Context, appID string) error {
	sp := models.NewServicePrincipal()
	sp.SetAppId(ptr(appID))
	sp.SetTags([]string{tagApppass})
	err := c.wait.retry(ctx, spRetry, "createServicePrincipal", func() error {
		_, err := c.graph.ServicePrincipals().Post(ctx, sp, nil)
		if statusOf(err) == http.StatusConflict {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create service principal: %w", classify("createServicePrincipal", err))
	}
	return nil
}

// spReplicating reports whether a service principal creation failed
// because its application has not replicated yet.
func spReplicating(ge *graphError) bool {
	msg := strings.ToLower(ge.Message)
	switch ge.Status {
	case http.StatusBadRequest:
		return strings.Contains(msg, "does not reference a valid application object")
	case http.StatusForbidden:
		return strings.Contains(msg, "backing application")
	}
	return false
}

// OwnedByApppass reports whether application objectID is apppass's own:
// its owners (GET /applications/{id}/owners) are apppass's service
// principal and nobody else. Any other owner could add credentials behind
// apppass's back, so an application with one is not apppass's. Graph
// failures are KindUpstream; a vanished application is KindNotFound.
func (c *Client) OwnedByApppass(ctx context.Context, objectID string) (bool, error) {
	self, err := c.servicePrincipalID(ctx)
	if err != nil {
		return false, err
	}
	res, err := call(ctx, c.wait, graphRetry, "listOwners", func() (models.DirectoryObjectCollectionResponseable, error) {
		return c.graph.Applications().ByApplicationId(objectID).Owners().Get(ctx, &applications.ItemOwnersRequestBuilderGetRequestConfiguration{
			QueryParameters: &applications.ItemOwnersRequestBuilderGetQueryParameters{Select: []string{"id"}},
		})
	})
	if err != nil {
		return false, fmt.Errorf("owners of application %s: %w", objectID, classify("listOwners", err))
	}
	owners := res.GetValue()
	if len(owners) == 0 {
		return false, nil
	}
	for _, o := range owners {
		if !strings.EqualFold(deref(o.GetId()), self) {
			return false, nil
		}
	}
	return true, nil
}

// servicePrincipalID returns the object id of apppass's own service
// principal: Options.ServicePrincipalID, or else read once with
// GET /servicePrincipals(appId='{client id}')?$select=id, which a service
// principal may do for itself without any permission.
func (c *Client) servicePrincipalID(ctx context.Context) (string, error) {
	c.selfMu.Lock()
	defer c.selfMu.Unlock()
	if c.selfSP != "" {
		return c.selfSP, nil
	}
	sp, err := call(ctx, c.wait, graphRetry, "getServicePrincipal", func() (models.ServicePrincipalable, error) {
		return c.graph.ServicePrincipalsWithAppId(ptr(c.clientID)).Get(ctx, &serviceprincipalswithappid.ServicePrincipalsWithAppIdRequestBuilderGetRequestConfiguration{
			QueryParameters: &serviceprincipalswithappid.ServicePrincipalsWithAppIdRequestBuilderGetQueryParameters{Select: []string{"id"}},
		})
	})
	if err != nil {
		return "", fmt.Errorf("apppass's own service principal: %w", classify("getServicePrincipal", err))
	}
	if c.selfSP = deref(sp.GetId()); c.selfSP == "" {
		return "", domain.Errorf(domain.KindUpstream, "Microsoft Entra did not say which service principal apppass is.")
	}
	return c.selfSP, nil
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
	if t := a.GetCreatedDateTime(); t != nil {
		app.Created = t.UTC()
	}
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

func cloneApps(as []domain.Application) []domain.Application {
	out := make([]domain.Application, len(as))
	for i, a := range as {
		out[i] = cloneApp(a)
	}
	return out
}

// updateCached applies f to ownerID's cached application objectID, if
// cached.
func (c *Client) updateCached(ownerID, objectID string, f func(*domain.Application)) {
	ca, ok := c.apps.Get(ownerID)
	if !ok {
		return
	}
	apps := cloneApps(ca.apps)
	for i := range apps {
		if strings.EqualFold(apps[i].ObjectID, objectID) {
			f(&apps[i])
		}
	}
	c.apps.Add(ownerID, cachedApps{apps: apps})
}

func ptr[T any](v T) *T { return &v }
