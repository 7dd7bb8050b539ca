// Package graphclient is apppass's adapter to Microsoft Entra through
// Microsoft Graph (msgraph-sdk-go) and azidentity. It is the only package
// that imports them.
//
// It implements app passwords as password credentials on one application
// per employee (SPEC §2), with the Graph calls of SPEC §3, and turns Graph
// failures into domain errors whose messages are safe to show (errors.go).
// Every idempotent call is retried under one policy (retry.go); the SDK's
// own retry handler is off, and addPassword and POST /applications are
// never retried blindly.
// *Client satisfies handlers.Directory (users.go), every other Entra interface of handlers
// (applications.go, passwords.go, signins.go) and jobs.Scanner
// (holders.go, signins.go). It imports no apppass package but domain.
package graphclient

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/hashicorp/golang-lru/v2/expirable"
	khttp "github.com/microsoft/kiota-http-go"
	msgraph "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	graphauth "github.com/microsoftgraph/msgraph-sdk-go-core/authentication"

	"github.com/apppass/apppass/domain"
)

// Options configures a Client.
type Options struct {
	TenantID      string
	ClientID      string
	ClientSecret  domain.Secret // zero: use the azidentity environment / workload / managed identity chain
	AuthorityHost string        // e.g. https://login.microsoftonline.com/
	GraphBaseURL  string        // e.g. https://graph.microsoft.com/v1.0
	AppNamePrefix string        // displayName prefix of employee applications
	// ServicePrincipalID is the object id of apppass's own service
	// principal; empty: read once from Graph (servicePrincipalID).
	ServicePrincipalID string
	// Transport carries every request to Entra and Graph; nil means
	// http.DefaultTransport. Tests use it to trust a local fake's
	// certificate.
	Transport http.RoundTripper
	// CacheTTL bounds how stale a cached user or application may be.
	CacheTTL time.Duration
	// ExchangeResource is the resource of ExchangeToken's tokens; empty:
	// DefaultExchangeResource.
	ExchangeResource string
	Now              func() time.Time
	// Sleep waits d or until ctx ends, between retries of a Graph call;
	// nil: a real wait (domain.Sleep). Tests pass one that returns at
	// once, or that moves their clock, so they never sleep for real.
	Sleep  func(ctx context.Context, d time.Duration) error
	Logger *slog.Logger
}

// Client talks to Entra and Graph. It is safe for concurrent use.
type Client struct {
	graph    *msgraph.GraphServiceClient
	cred     azcore.TokenCredential
	scope    string
	tenantID string
	clientID string
	prefix   string

	selfMu sync.Mutex
	selfSP string // apppass's service principal's object id, once known
	now    func() time.Time
	log    *slog.Logger

	users *expirable.LRU[string, domain.User]
	apps  *expirable.LRU[string, cachedApps]
	// newApps remembers applications this process created, and when, so
	// addPassword can wait out Entra's replication lag on them.
	newApps *expirable.LRU[string, time.Time]
	// lastUsed caches sign-in dates per application (by appId).
	lastUsed *expirable.LRU[string, map[string]time.Time]

	verify verifier     // the gateway's password checks (verify.go)
	http   *http.Client // plain transport, no token: upload URLs (sendmail.go)
	wait   waiter       // clock, sleep and jitter of every retry (retry.go)
	// exchange caches the token for Exchange Online (exchange_token.go).
	exchange *exchangeTokens
}

// cachedApps are the applications tagged for one owner.
type cachedApps struct {
	apps []domain.Application
}

// microsoftAuthorities are the public and sovereign clouds' authority
// hosts; any other host is a private authority (a test fake, Azure Stack),
// for which instance discovery must be off.
var microsoftAuthorities = []string{"login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn", "login.partner.microsoftonline.cn"}

// New builds a Client from opts. It returns an error when the credential
// or the Graph adapter cannot be built; it makes no network call.
func New(opts Options) (*Client, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Sleep == nil {
		opts.Sleep = domain.Sleep
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = 2 * time.Minute
	}
	transport := opts.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	graphURL, err := url.Parse(strings.TrimRight(opts.GraphBaseURL, "/"))
	if err != nil || graphURL.Host == "" {
		return nil, fmt.Errorf("graph base url %q: not an absolute URL", opts.GraphBaseURL)
	}
	cred, err := newCredential(opts, &http.Client{Transport: transport, Timeout: 60 * time.Second})
	if err != nil {
		return nil, err
	}
	scope := graphURL.Scheme + "://" + graphURL.Host + "/.default"
	if strings.EqualFold(graphURL.Hostname(), "graph.microsoft.com") {
		scope = "https://graph.microsoft.com/.default"
	}
	auth, err := graphauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, []string{scope}, []string{graphURL.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("graph auth provider: %w", err)
	}
	clientOptions := msgraph.GetDefaultClientOptions()
	middleware, err := withoutSDKRetry(msgraphcore.GetDefaultMiddlewaresWithOptions(&clientOptions))
	if err != nil {
		return nil, err
	}
	httpClient := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(transport, middleware...),
		Timeout:   100 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	adapter, err := msgraph.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, httpClient)
	if err != nil {
		return nil, fmt.Errorf("graph request adapter: %w", err)
	}
	adapter.SetBaseUrl(graphURL.String())
	verify, err := newVerifier(opts, scope, &http.Client{Transport: transport, Timeout: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	return &Client{
		verify:   verify,
		exchange: &exchangeTokens{scope: exchangeScope(opts.ExchangeResource)},
		http:     &http.Client{Transport: transport, Timeout: 5 * time.Minute},
		wait:     waiter{now: time.Now, sleep: opts.Sleep, jitter: rand.Float64, log: opts.Logger},
		graph:    msgraph.NewGraphServiceClient(adapter),
		cred:     cred,
		scope:    scope,
		tenantID: opts.TenantID,
		clientID: opts.ClientID,
		selfSP:   opts.ServicePrincipalID,
		prefix:   opts.AppNamePrefix,
		now:      opts.Now,
		log:      opts.Logger,
		users:    expirable.NewLRU[string, domain.User](10000, nil, opts.CacheTTL),
		apps:     expirable.NewLRU[string, cachedApps](10000, nil, opts.CacheTTL),
		newApps:  expirable.NewLRU[string, time.Time](1000, nil, 10*time.Minute),
		lastUsed: expirable.NewLRU[string, map[string]time.Time](10000, nil, time.Hour),
	}, nil
}

// noRetry turns the SDK's retry handler off. apppass retries each call
// itself under one policy (retry.go), with waits it can bound and tests
// can inject; the SDK's would also retry POSTs that are not idempotent on
// 503/504, which can mint a second secret or application (SPEC §3).
var noRetry = khttp.RetryHandlerOptions{
	ShouldRetry: func(time.Duration, int, *http.Request, *http.Response) bool { return false },
}

// withoutSDKRetry replaces the SDK's retry handler in middleware with one
// that never retries. It fails when there is none to replace, so that an
// SDK upgrade that renames it cannot quietly turn retries back on.
func withoutSDKRetry(middleware []khttp.Middleware) ([]khttp.Middleware, error) {
	found := false
	for i, m := range middleware {
		if _, ok := m.(*khttp.RetryHandler); ok {
			middleware[i] = khttp.NewRetryHandlerWithOptions(noRetry)
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("graph middleware: no retry handler to turn off")
	}
	return middleware, nil
}

// TenantID returns the Entra tenant apppass manages; devices sign in to it.
func (c *Client) TenantID() string { return c.tenantID }

// privateAuthority reports whether authorityHost is not one of
// microsoftAuthorities. It returns an error when authorityHost is not an
// absolute URL.
func privateAuthority(authorityHost string) (bool, error) {
	authority, err := url.Parse(authorityHost)
	if err != nil || authority.Host == "" {
		return false, fmt.Errorf("authority host %q: not an absolute URL", authorityHost)
	}
	for _, h := range microsoftAuthorities {
		if strings.EqualFold(authority.Hostname(), h) {
			return false, nil
		}
	}
	return true, nil
}

func newCredential(opts Options, hc *http.Client) (azcore.TokenCredential, error) {
	private, err := privateAuthority(opts.AuthorityHost)
	if err != nil {
		return nil, err
	}
	clientOptions := azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: opts.AuthorityHost, Services: map[cloud.ServiceName]cloud.ServiceConfiguration{}},
		Transport: hc,
	}
	if !opts.ClientSecret.IsZero() {
		cred, err := azidentity.NewClientSecretCredential(opts.TenantID, opts.ClientID, opts.ClientSecret.Reveal(),
			&azidentity.ClientSecretCredentialOptions{ClientOptions: clientOptions, DisableInstanceDiscovery: private})
		if err != nil {
			return nil, fmt.Errorf("client secret credential: %w", err)
		}
		return cred, nil
	}
	// Without a secret: a certificate or workload identity from the
	// environment, else the managed identity of the host.
	var chain []azcore.TokenCredential
	if env, err := azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{ClientOptions: clientOptions, DisableInstanceDiscovery: private}); err == nil {
		chain = append(chain, env)
	}
	if wi, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{ClientOptions: clientOptions, ClientID: opts.ClientID, TenantID: opts.TenantID, DisableInstanceDiscovery: private}); err == nil {
		chain = append(chain, wi)
	}
	mi, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ClientOptions: clientOptions, ID: azidentity.ClientID(opts.ClientID)})
	if err != nil {
		return nil, fmt.Errorf("managed identity credential: %w", err)
	}
	chain = append(chain, mi)
	cred, err := azidentity.NewChainedTokenCredential(chain, nil)
	if err != nil {
		return nil, fmt.Errorf("credential chain: %w", err)
	}
	return cred, nil
}
