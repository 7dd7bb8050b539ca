package graphclient

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/apppass/apppass/domain"
)

// DefaultExchangeResource is Exchange Online's resource, whose /.default
// scope gives tokens for SMTP, IMAP and POP with OAuth.
const DefaultExchangeResource = "https://outlook.office365.com"

// tokenMargin is how long before its expiry a cached token is renewed:
// long enough that a message being relayed never carries a token that
// runs out on the way.
const tokenMargin = 5 * time.Minute

// renewAfter is how old a cached token must be before a refusal by
// Exchange replaces it. Exchange gives a good token the same refusal for a
// mailbox that is not set up for apppass, so a younger one is kept: a
// device retrying such a mailbox costs Entra at most a request a minute,
// not one per login.
const renewAfter = time.Minute

// exchangeTokens caches apppass's own token for Exchange Online, shared by
// every gateway session. fetch serialises renewals, so that many sessions
// starting at once, or refused at once, cost Entra one token request.
type exchangeTokens struct {
	scope   string
	fetch   sync.Mutex
	mu      sync.Mutex
	tok     domain.Secret
	until   time.Time
	fetched time.Time // when tok was had from Entra
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
	return c.fetchExchangeToken(ctx, policy.TokenRequestOptions{Scopes: []string{t.scope}})
}

// RenewExchangeToken replaces refused, a token of ExchangeToken that
// Exchange Online refused (revoked, or the app's roles or Exchange role
// assignment changed since it was issued), and returns the new one.
// Sessions refused with the same token at once share one new token: only
// the first asks Entra. It returns false, and asks nothing, when refused
// is younger than a minute (Exchange's refusal then stands: it refuses
// good tokens too, for a mailbox not set up for apppass), and a
// KindUpstream error when Entra gives no token.
func (c *Client) RenewExchangeToken(ctx context.Context, refused domain.Secret) (domain.Secret, bool, error) {
	t := c.exchange
	t.fetch.Lock()
	defer t.fetch.Unlock()
	now := c.now()
	t.mu.Lock()
	cur, good, fetched := t.tok, !t.tok.IsZero() && now.Before(t.until), t.fetched
	t.mu.Unlock()
	same := subtle.ConstantTimeCompare([]byte(cur.Reveal()), []byte(refused.Reveal())) == 1
	switch {
	case good && !same: // another session replaced it meanwhile
		return cur, true, nil
	case same && now.Sub(fetched) < renewAfter:
		return domain.Secret{}, false, nil
	}
	// The credential (MSAL) keeps its own cache of the token; a claims
	// challenge asking for a token issued from now on, the form Entra
	// itself uses for revoked tokens, makes it ask Entra for a new one.
	claims := fmt.Sprintf(`{"access_token":{"nbf":{"essential":true,"value":"%d"}}}`, now.Unix())
	tok, err := c.fetchExchangeToken(ctx, policy.TokenRequestOptions{Scopes: []string{t.scope}, Claims: claims})
	if err == nil {
		return tok, true, nil
	}
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil || afe.RawResponse.StatusCode != http.StatusBadRequest {
		return domain.Secret{}, false, err // Entra unreachable or refusing apppass: try again later
	}
	// That Entra takes this challenge for an app-only token rests on
	// MSAL's and CAE's documentation, not on a tenant seen doing it. If
	// it refuses the request (400), a token asked for the plain way
	// (perhaps the refused one, from MSAL's cache) lets the refusal stand
	// as it did before, rather than turning every refusal into "try again
	// later".
	c.log.WarnContext(ctx, "exchange token: Entra refused the renewal's claims challenge; asking the plain way", "err", err)
	tok, perr := c.fetchExchangeToken(ctx, policy.TokenRequestOptions{Scopes: []string{t.scope}})
	if perr != nil {
		return domain.Secret{}, false, errors.Join(err, perr)
	}
	return tok, true, nil
}

// fetchExchangeToken asks the credential for a token and caches it; the
// caller holds t.fetch.
func (c *Client) fetchExchangeToken(ctx context.Context, tro policy.TokenRequestOptions) (domain.Secret, error) {
	t := c.exchange
	at, err := c.cred.GetToken(ctx, tro)
	if err != nil {
		return domain.Secret{}, fmt.Errorf("exchange token: %w", domain.Wrap(domain.KindUpstream, err, "Microsoft Entra did not give apppass a token for Exchange Online."))
	}
	tok := domain.NewSecret(at.Token)
	t.mu.Lock()
	t.tok, t.until, t.fetched = tok, at.ExpiresOn.Add(-tokenMargin), c.now()
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
