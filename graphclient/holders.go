package graphclient

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/apppass/apppass/domain"
)

// ScanHolders calls fn with every apppass application, following
// @odata.nextLink, and with the owner's user principal name as apppass
// wrote it into the application's displayName ("{prefix}{UPN}"), so that people can be found
// in Slack by email without a Graph call per person. upn is empty when the
// displayName does not have that shape (renamed, or made by other means).
//
// Before each page it asks withOwners (nil: never) whether the page
// should bring each application's owners along
// ($expand=owners($select=id)); such pages hold 100 applications, the
// most Graph serves when expanding, and their applications carry
// OwnersKnown and OwnedByApppass. Otherwise it makes one Graph call per
// 999 applications. It holds one page in memory, and stops at fn's first
// error and returns it; Graph failures are KindUpstream domain errors.
func (c *Client) ScanHolders(ctx context.Context, withOwners func() bool, fn func(app domain.Application, upn string) error) error {
	filter := "tags/any(t:t eq '" + tagApppass + "')"
	owners := withOwners != nil && withOwners()
	var self string
	if owners {
		var err error
		if self, err = c.servicePrincipalID(ctx); err != nil {
			return fmt.Errorf("scan holders: %w", err)
		}
	}
	top := int32(scanPage(owners))
	q := &applications.ApplicationsRequestBuilderGetQueryParameters{Filter: &filter, Select: appSelect, Top: &top}
	if owners {
		q.Expand = []string{ownersExpand}
	}
	res, err := call(ctx, c.wait, graphRetry, "listApplications", func() (models.ApplicationCollectionResponseable, error) {
		return c.graph.Applications().Get(ctx, &applications.ApplicationsRequestBuilderGetRequestConfiguration{QueryParameters: q})
	})
	for {
		if err != nil {
			return fmt.Errorf("scan holders: %w", classify("listApplications", err))
		}
		for _, a := range res.GetValue() {
			app := toApplication(a)
			if app.OwnerID == "" {
				continue
			}
			if owners {
				app.OwnersKnown, app.OwnedByApppass = true, onlyOwner(a.GetOwners(), self)
			}
			if err := fn(app, c.upnOf(deref(a.GetDisplayName()))); err != nil {
				return err
			}
		}
		next := res.GetOdataNextLink()
		if next == nil || *next == "" {
			return nil
		}
		if want := withOwners != nil && withOwners(); want != owners {
			if want && self == "" {
				if self, err = c.servicePrincipalID(ctx); err != nil {
					return fmt.Errorf("scan holders: %w", err)
				}
			}
			owners = want
		}
		link := relink(*next, owners)
		res, err = call(ctx, c.wait, graphRetry, "listApplications", func() (models.ApplicationCollectionResponseable, error) {
			return c.graph.Applications().WithUrl(link).Get(ctx, nil)
		})
	}
}

// ownersExpand brings each application's owner ids with a listing.
const ownersExpand = "owners($select=id)"

// scanPage is the page size of a scan: Graph's largest, or the largest it
// serves with owners expanded.
func scanPage(owners bool) int {
	if owners {
		return 100
	}
	return 999
}

// relink turns a nextLink into the same listing's next page with or
// without owners: the skiptoken keeps the place, $top and $expand follow
// owners. A link it cannot parse is returned as it is.
func relink(next string, owners bool) string {
	u, err := url.Parse(next)
	if err != nil {
		return next
	}
	q := u.Query()
	had := q.Get("$expand") != ""
	if had == owners {
		return next
	}
	q.Set("$top", strconv.Itoa(scanPage(owners)))
	if owners {
		q.Set("$expand", ownersExpand)
	} else {
		q.Del("$expand")
	}
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String()
}

// onlyOwner reports whether self is the one and only owner listed.
func onlyOwner(owners []models.DirectoryObjectable, self string) bool {
	if len(owners) == 0 {
		return false
	}
	for _, o := range owners {
		if !strings.EqualFold(deref(o.GetId()), self) {
			return false
		}
	}
	return true
}

// upnOf reads the UPN back out of an application displayName that
// CreateApplication wrote; it returns "" for any other name, and for a
// UPN that was shortened to fit (appDisplayName).
func (c *Client) upnOf(displayName string) string {
	upn, ok := strings.CutPrefix(displayName, c.prefix)
	if !ok || c.prefix == "" || !strings.Contains(upn, "@") || strings.ContainsAny(upn, " \t…") {
		return ""
	}
	return upn
}
