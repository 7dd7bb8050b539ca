package graphclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// signInPage is one page of the beta appCredentialSignInActivities report,
// decoded with only the fields apppass reads. msgraph-sdk-go serves v1.0,
// which has no model for it.
type signInPage struct {
	Value []struct {
		KeyID          string `json:"keyId"`
		SignInActivity struct {
			LastSignInDateTime *time.Time `json:"lastSignInDateTime"`
		} `json:"signInActivity"`
	} `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

// CredentialSignIns calls fn with the last sign-in of every credential
// that Entra's beta reports/appCredentialSignInActivities lists, one page
// (at most 999 rows) at a time, following @odata.nextLink. Only credentials
// with a recorded sign-in are listed; the report covers every application
// in the tenant.
//
// It returns available=false and no error when the tenant cannot serve the
// report (403 without an Entra ID P1/P2 licence or AuditLog.Read.All; 404
// where the beta endpoint does not exist): staleness then falls back to age.
// It stops at fn's first error and returns it; other Graph failures are
// returned as KindUpstream domain errors.
func (c *Client) CredentialSignIns(ctx context.Context, fn func(keyID string, last time.Time) error) (available bool, err error) {
	return c.credentialSignIns(ctx, "", fn)
}

// LastUsed returns the last sign-in of each of application appID's
// credentials that has one, for `list`. Where the tenant has no sign-in
// data it returns an empty map, and remembers that for an hour so lists
// do not keep asking. Results are cached like applications.
func (c *Client) LastUsed(ctx context.Context, appID string) (map[string]time.Time, error) {
	if last, ok := c.lastUsed.Get(appID); ok {
		return last, nil
	}
	if _, off := c.lastUsed.Get(signInsUnavailable); off {
		return map[string]time.Time{}, nil
	}
	last := map[string]time.Time{}
	filter := "appId eq '" + strings.ReplaceAll(appID, "'", "''") + "'"
	available, err := c.credentialSignIns(ctx, filter, func(keyID string, t time.Time) error {
		last[keyID] = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !available {
		c.lastUsed.Add(signInsUnavailable, nil)
		return map[string]time.Time{}, nil
	}
	c.lastUsed.Add(appID, last)
	return last, nil
}

// signInsUnavailable is the lastUsed cache key that records a tenant
// without sign-in data.
const signInsUnavailable = "\x00unavailable"

func (c *Client) credentialSignIns(ctx context.Context, filter string, fn func(keyID string, last time.Time) error) (available bool, err error) {
	adapter := c.graph.GetAdapter()
	first, err := betaURL(adapter.GetBaseUrl(), "reports/appCredentialSignInActivities")
	if err != nil {
		return false, fmt.Errorf("credential sign-ins: %w", err)
	}
	q := first.Query()
	q.Set("$top", "999")
	if filter != "" {
		q.Set("$filter", filter)
	}
	first.RawQuery = q.Encode()
	next := first
	for pages := 0; next != nil; pages++ {
		body, err := c.getRaw(ctx, next)
		if err != nil {
			switch statusOf(err) {
			case http.StatusForbidden, http.StatusNotFound:
				if pages == 0 {
					return false, nil
				}
			}
			return false, fmt.Errorf("credential sign-ins: %w", classify("signInActivities", err))
		}
		var page signInPage
		if err := json.Unmarshal(body, &page); err != nil {
			return false, fmt.Errorf("credential sign-ins: page %d: %w", pages+1, err)
		}
		for _, row := range page.Value {
			if row.KeyID == "" || row.SignInActivity.LastSignInDateTime == nil {
				continue
			}
			if err := fn(strings.ToLower(row.KeyID), row.SignInActivity.LastSignInDateTime.UTC()); err != nil {
				return true, err
			}
		}
		next = nil
		if page.NextLink != "" {
			if next, err = url.Parse(page.NextLink); err != nil {
				return false, fmt.Errorf("credential sign-ins: nextLink: %w", err)
			}
		}
	}
	return true, nil
}

// getRaw GETs u through the authenticated Graph adapter and returns the
// body, for what msgraph-sdk-go has no request builder or model for.
// Graph's failures are *odataerrors.ODataError, as from the builders;
// transient ones are retried (graphRetry).
func (c *Client) getRaw(ctx context.Context, u *url.URL) ([]byte, error) {
	req := abs.NewRequestInformation()
	req.Method = abs.GET
	req.SetUri(*u)
	req.Headers.TryAdd("Accept", "application/json")
	return call(ctx, c.wait, graphRetry, "get", func() ([]byte, error) {
		res, err := c.graph.GetAdapter().SendPrimitive(ctx, req, "[]byte", abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue})
		body, _ := res.([]byte)
		return body, err
	})
}

// betaURL turns the v1.0 base URL (…/v1.0) into the beta URL of path, on
// the same host, so that the token and the allowed-host check still apply.
func betaURL(base, path string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("graph base url %q: not an absolute URL", base)
	}
	dir := u.Path
	if i := strings.LastIndex(dir, "/"); i >= 0 {
		dir = dir[:i]
	}
	u.Path = dir + "/beta/" + path
	u.RawPath = ""
	return u, nil
}
