package graphclient

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/apppass/apppass/domain"
)

var userSelect = []string{"id", "displayName", "userPrincipalName", "mail", "accountEnabled"}

// FindUser returns the Entra user whose UPN, or else mail, is email. It
// returns a KindNotFound error when there is none. Results are cached.
func (c *Client) FindUser(ctx context.Context, email string) (domain.User, error) {
	key := strings.ToLower(strings.TrimSpace(email))
	if key == "" {
		return domain.User{}, domain.Errorf(domain.KindNotFound, "no email address")
	}
	if u, ok := c.users.Get(key); ok {
		return u, nil
	}
	u, err := call(ctx, c.wait, graphRetry, "getUser", func() (models.Userable, error) {
		return c.graph.Users().ByUserId(key).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: userSelect},
		})
	})
	// 404: no such UPN; 400: a UPN Graph cannot take in a path (one
	// starting with '$', for instance). Both fall back to the mail filter.
	if st := statusOf(err); err != nil && st != http.StatusNotFound && st != http.StatusBadRequest {
		return domain.User{}, fmt.Errorf("find user: %w", classify("getUser", err))
	}
	if err != nil {
		filter := "mail eq '" + strings.ReplaceAll(key, "'", "''") + "'"
		res, err := call(ctx, c.wait, graphRetry, "filterUsers", func() (models.UserCollectionResponseable, error) {
			return c.graph.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: &filter, Select: userSelect},
			})
		})
		if err != nil {
			return domain.User{}, fmt.Errorf("find user by mail: %w", classify("filterUsers", err))
		}
		if len(res.GetValue()) == 0 {
			return domain.User{}, domain.Errorf(domain.KindNotFound, "no Entra user has that email address")
		}
		u = res.GetValue()[0]
	}
	user := toUser(u)
	c.users.Add(key, user)
	return user, nil
}

func toUser(u models.Userable) domain.User {
	return domain.User{
		ID:                deref(u.GetId()),
		DisplayName:       deref(u.GetDisplayName()),
		UserPrincipalName: deref(u.GetUserPrincipalName()),
		Mail:              deref(u.GetMail()),
		AccountEnabled:    deref(u.GetAccountEnabled()),
	}
}

// MemberGroups returns which of groupIDs userID is a member of,
// transitively. It is never cached: roles are decided at the moment of
// each action.
func (c *Client) MemberGroups(ctx context.Context, userID string, groupIDs []string) ([]string, error) {
	var ask []string
	for _, g := range groupIDs {
		if g != "" {
			ask = append(ask, g)
		}
	}
	if len(ask) == 0 {
		return nil, nil
	}
	body := users.NewItemCheckMemberGroupsPostRequestBody()
	body.SetGroupIds(ask)
	// A POST that only reads: retried like a read.
	res, err := call(ctx, c.wait, graphRetry, "checkMemberGroups", func() (users.ItemCheckMemberGroupsPostResponseable, error) {
		return c.graph.Users().ByUserId(userID).CheckMemberGroups().PostAsCheckMemberGroupsPostResponse(ctx, body, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("check member groups: %w", classify("checkMemberGroups", err))
	}
	return res.GetValue(), nil
}
