package graphclient

import (
	"context"
	"fmt"
	"net/http"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/apppass/apppass/domain"
)

// FreshUser returns Entra user id as Graph answers now, never from a
// cache: apppass reads accountEnabled this way before every write and
// every decision, so a person disabled a moment ago can do neither. It
// returns a KindNotFound error when the user is gone, KindUpstream when
// Graph fails.
func (c *Client) FreshUser(ctx context.Context, id string) (domain.User, error) {
	u, err := call(ctx, c.wait, graphRetry, "getUser", func() (models.Userable, error) {
		return c.graph.Users().ByUserId(id).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: userSelect},
		})
	})
	if statusOf(err) == http.StatusNotFound {
		return domain.User{}, domain.Wrap(domain.KindNotFound, err, "That Microsoft 365 account no longer exists.")
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("fresh user: %w", classify("getUser", err))
	}
	return toUser(u), nil
}
