package graphclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/apppass/apppass/domain"
)

// deltaPage is one page of GET /users/delta, with only what apppass reads.
type deltaPage struct {
	Value []struct {
		ID             string `json:"id"`
		UPN            string `json:"userPrincipalName"`
		AccountEnabled *bool  `json:"accountEnabled"`
		Removed        *struct {
			Reason string `json:"reason"`
		} `json:"@removed"`
	} `json:"value"`
	NextLink  string `json:"@odata.nextLink"`
	DeltaLink string `json:"@odata.deltaLink"`
}

// UsersDelta reads the users that changed since link, a deltaLink an
// earlier call returned, or, with link empty, every user (a full sync),
// calling fn with each; it follows @odata.nextLink page by page and
// returns the new @odata.deltaLink, to be stored and passed next time.
// A user changed several times is reported once, as they are now.
//
// It returns an error wrapping domain.ErrDeltaExpired when Graph no
// longer knows link (error code syncStateNotFound, which Graph sends with
// 400 or 410, or a bare 410 on a stored link): the caller starts
// again with a full sync. It stops at fn's first error and returns it;
// other Graph failures are KindUpstream.
func (c *Client) UsersDelta(ctx context.Context, link string, fn func(domain.DirectoryChange) error) (string, error) {
	next := link
	if next == "" {
		next = strings.TrimRight(c.graph.GetAdapter().GetBaseUrl(), "/") + "/users/delta?$select=" + url.QueryEscape("id,accountEnabled,userPrincipalName")
	}
	for pages := 1; ; pages++ {
		u, err := url.Parse(next)
		if err != nil {
			return "", fmt.Errorf("users delta: link: %w", err)
		}
		body, err := c.getRaw(ctx, u)
		if err != nil {
			if ge := inspect("usersDelta", err); ge.Code == "syncStateNotFound" || (ge.Status == http.StatusGone && link != "") {
				return "", fmt.Errorf("users delta: %w", errors.Join(domain.ErrDeltaExpired, ge))
			}
			return "", fmt.Errorf("users delta: %w", classify("usersDelta", err))
		}
		var page deltaPage
		if err := json.Unmarshal(body, &page); err != nil {
			return "", fmt.Errorf("users delta: page %d: %w", pages, err)
		}
		for _, v := range page.Value {
			ch := domain.DirectoryChange{UserID: v.ID, UPN: v.UPN, Enabled: v.AccountEnabled == nil || *v.AccountEnabled}
			if v.Removed != nil {
				ch.Removed = v.Removed.Reason
				if ch.Removed == "" {
					ch.Removed = "changed"
				}
			}
			if err := fn(ch); err != nil {
				return "", err
			}
		}
		switch {
		case page.NextLink != "":
			next = page.NextLink
		case page.DeltaLink != "":
			return page.DeltaLink, nil
		default:
			return "", domain.Errorf(domain.KindUpstream, "Microsoft Graph ended the users delta without a delta link.")
		}
	}
}
