package graphclient

import (
	"context"
	"fmt"
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
// It makes one Graph call per 999 applications, holds one page in memory,
// and stops at fn's first error and returns it; Graph failures are
// KindUpstream domain errors.
func (c *Client) ScanHolders(ctx context.Context, fn func(app domain.Application, upn string) error) error {
	filter := "tags/any(t:t eq '" + tagApppass + "')"
	top := int32(999)
	res, err := call(ctx, c.wait, graphRetry, "listApplications", func() (models.ApplicationCollectionResponseable, error) {
		return c.graph.Applications().Get(ctx, &applications.ApplicationsRequestBuilderGetRequestConfiguration{
			QueryParameters: &applications.ApplicationsRequestBuilderGetQueryParameters{Filter: &filter, Select: appSelect, Top: &top},
		})
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
			if err := fn(app, c.upnOf(deref(a.GetDisplayName()))); err != nil {
				return err
			}
		}
		next := res.GetOdataNextLink()
		if next == nil || *next == "" {
			return nil
		}
		res, err = call(ctx, c.wait, graphRetry, "listApplications", func() (models.ApplicationCollectionResponseable, error) {
			return c.graph.Applications().WithUrl(*next).Get(ctx, nil)
		})
	}
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
