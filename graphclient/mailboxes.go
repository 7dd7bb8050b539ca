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

var mailboxSelect = []string{"id", "displayName", "userPrincipalName", "mail", "accountEnabled", "proxyAddresses"}

// FindMailbox returns the enabled-or-not Entra user whose user principal
// name, primary address or SMTP proxy address is address (ignoring case),
// with every address they may send as. It asks Graph every time (no
// cache), so that a disabled account is seen at once: GET /users/{address},
// then on 404 (or 400) GET /users?$filter=mail eq '…', then
// GET /users?$filter=proxyAddresses/any(p:p eq 'smtp:…'). It returns a
// KindNotFound error when nobody has the address, KindUpstream when Graph
// fails.
func (c *Client) FindMailbox(ctx context.Context, address string) (domain.Mailbox, error) {
	key := strings.ToLower(strings.TrimSpace(address))
	if key == "" || !strings.Contains(key, "@") || strings.ContainsAny(key, "/?#'\\ ") {
		return domain.Mailbox{}, domain.Errorf(domain.KindNotFound, "not an address")
	}
	u, err := call(ctx, c.wait, graphRetry, "getUser", func() (models.Userable, error) {
		return c.graph.Users().ByUserId(key).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: mailboxSelect},
		})
	})
	if err == nil {
		return toMailbox(u), nil
	}
	if st := statusOf(err); st != http.StatusNotFound && st != http.StatusBadRequest {
		return domain.Mailbox{}, fmt.Errorf("find mailbox: %w", classify("getUser", err))
	}
	for _, filter := range []string{
		"mail eq '" + key + "'",
		"proxyAddresses/any(p:p eq 'smtp:" + key + "')",
	} {
		res, err := call(ctx, c.wait, graphRetry, "filterUsers", func() (models.UserCollectionResponseable, error) {
			return c.graph.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: &filter, Select: mailboxSelect},
			})
		})
		if err != nil {
			return domain.Mailbox{}, fmt.Errorf("find mailbox: %w", classify("filterUsers", err))
		}
		if v := res.GetValue(); len(v) == 1 {
			return toMailbox(v[0]), nil
		} else if len(v) > 1 {
			// Two people with one address: sending as either would be a guess.
			return domain.Mailbox{}, domain.Errorf(domain.KindNotFound, "the address is not unique")
		}
	}
	return domain.Mailbox{}, domain.Errorf(domain.KindNotFound, "no Entra user has that address")
}

func toMailbox(u models.Userable) domain.Mailbox {
	user := toUser(u)
	return domain.Mailbox{
		User:      user,
		Addresses: domain.MailboxAddresses(user.UserPrincipalName, user.Mail, u.GetProxyAddresses()),
	}
}
