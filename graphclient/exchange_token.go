package graphclient

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/apppass/apppass/domain"
)

// DefaultExchangeResource is Exchange Online's resource, whose /.default
// scope gives tokens for SMTP, IMAP and POP with OAuth.
const DefaultExchangeResource = "https://outlook.office365.com"

// tokenMargin is how long before its expiry a cached token is renewed:
// long enough that a message being relayed never carries a token that
// runs out on the way.
const tokenMargin = 5 * time.Minute

// exchangeTokens caches apppass's own token for Exchange Online, shared by
// every gateway session. fetch serialises renewals, so that many sessions
// starting at once cost Entra one token request.
type exchangeTokens struct {
	scope string
	fetch sync.Mutex
	mu    sync.Mutex
	tok   domain.Secret
	until time.Time
}

// ExchangeToken returns an app-only access token of apppass's own identity
// for Exchange Online (Options.ExchangeResource + "/.default"), for SMTP
// AUTH XOAUTH2. It is cached until shortly before it expires. It returns a
// KindUpstream error when Entra gives none (unreachable, or apppass's
// credential refused): the gateway answers 451 and the device retries.
func (c *Client) ExchangeToken(ctx context.Context) (domain.Secret, error) {
	t := c.exchange
	if tok, ok := t.cached(c.now()); ok {
		return tok, nil
	}
	t.fetch.Lock()
	defer t.fetch.Unlock()
	if tok, ok := t.cached(c.now()); ok { // another session renewed it meanwhile
		return tok, nil
	}
	at, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{t.scope}})
	if err != nil {
		return domain.Secret{}, fmt.Errorf("exchange token: %w", domain.Wrap(domain.KindUpstream, err, "Microsoft Entra did not give apppass a token for Exchange Online."))
	}
	tok := domain.NewSecret(at.Token)
	t.mu.Lock()
	t.tok, t.until = tok, at.ExpiresOn.Add(-tokenMargin)
	t.mu.Unlock()
	return tok, nil
}

// cached returns the cached token while it is good at now.
func (t *exchangeTokens) cached(now time.Time) (domain.Secret, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok.IsZero() || !now.Before(t.until) {
		return domain.Secret{}, false
	}
	return t.tok, true
}

// exchangeScope is resource's /.default scope; "" is Exchange Online's.
func exchangeScope(resource string) string {
	if resource == "" {
		resource = DefaultExchangeResource
	}
	return strings.TrimRight(resource, "/") + "/.default"
}
