package gateway_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeexchange"
	"github.com/apppass/apppass/gateway"
	"github.com/apppass/apppass/internal/testkit"
)

// exchangeHost is the fake Exchange Online's name in its certificate.
const exchangeHost = "outlook.office365.test"

// readRig is the reading side of a rig: a fake Exchange Online (IMAP and
// POP3 over TLS, its own certificate) and the gateway's IMAP and POP3
// listeners.
type readRig struct {
	exchange      *fakeexchange.Store
	exchangePool  *x509.CertPool
	exchangeCert  string // its PEM certificate, for clients to trust
	upIMAP, upPOP string // the fake Exchange's addresses
	imap, imaps   string // the gateway's IMAP listeners (STARTTLS, implicit)
	pop3, pop3s   string // the gateway's POP3 listeners
	tokens        *exchangeTokens
	// source, when set, gives the gateway apppass's Exchange token in
	// place of tokens (a real graphclient, for the token's renewal).
	source gateway.ExchangeTokens
	alerts *readAlerts
}

// exchangeTokenSource is what the gateway gets its Exchange token from.
func (r *readRig) exchangeTokenSource() gateway.ExchangeTokens {
	if r.source != nil {
		return r.source
	}
	return r.tokens
}

// startExchange starts the fake Exchange with Alice's mailbox, apppass
// holding FullAccess on it.
func (r *rig) startExchange() {
	r.t.Helper()
	certFile, keyFile, cert := testkit.WriteCert(r.t, r.t.TempDir(), testkit.Cert{Host: exchangeHost, IPs: []net.IP{net.ParseIP("127.0.0.1")}})
	kp, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		r.t.Fatal(err)
	}
	r.read.exchangeCert = certFile
	r.read.exchangePool = x509.NewCertPool()
	r.read.exchangePool.AddCert(cert)
	srvTLS := &tls.Config{Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS12}
	// Exchange takes only the tokens Entra issued and has not revoked.
	r.read.exchange = fakeexchange.NewStore(fakeexchange.StoreOptions{TLS: srvTLS, ReadToken: fakeexchange.IssuedBy(r.entra)})
	r.t.Cleanup(func() { r.read.exchange.Close() })
	imapLn, err := tls.Listen("tcp", "127.0.0.1:0", srvTLS)
	if err != nil {
		r.t.Fatal(err)
	}
	popLn, err := tls.Listen("tcp", "127.0.0.1:0", srvTLS)
	if err != nil {
		r.t.Fatal(err)
	}
	go r.read.exchange.ServeIMAP(imapLn)
	go r.read.exchange.ServePOP3(popLn)
	r.read.upIMAP, r.read.upPOP = imapLn.Addr().String(), popLn.Addr().String()
	r.read.exchange.AddMailbox(r.alice.Mail, fakeentra.ClientID)
	r.read.tokens = &exchangeTokens{entra: r.entra}
	r.read.alerts = &readAlerts{}
}

// readOptions points the gateway at the fake Exchange.
func (r *rig) readOptions(o *gateway.Options) {
	o.ExchangeIMAP, o.ExchangePOP = r.read.upIMAP, r.read.upPOP
	o.ExchangeTLS = &tls.Config{RootCAs: r.read.exchangePool, ServerName: exchangeHost}
	o.ServicePrincipal = fakeentra.ClientID
}

// serveRead opens the gateway's IMAP and POP3 listeners.
func (r *rig) serveRead(ctx context.Context) {
	r.t.Helper()
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			r.t.Fatal(err)
		}
		return ln
	}
	imap, imaps, pop3, pop3s := listen(), listen(), listen(), listen()
	r.read.imap, r.read.imaps, r.read.pop3, r.read.pop3s = imap.Addr().String(), imaps.Addr().String(), pop3.Addr().String(), pop3s.Addr().String()
	gw := r.gw
	done := make(chan error, 2)
	go func() { done <- gw.ServeIMAP(ctx, imap, imaps) }()
	go func() { done <- gw.ServePOP3(ctx, pop3, pop3s) }()
	r.t.Cleanup(func() {
		gw.Close()
		for range 2 {
			if err := <-done; err != nil {
				r.t.Errorf("Serve (reading): %v", err)
			}
		}
	})
}

// allowReading gives Alice's password the read scope.
func (r *rig) allowReading(sc domain.Scope) {
	r.t.Helper()
	if err := r.db.SavePasswordScope(context.Background(), r.alice.ID, r.password.KeyID, sc); err != nil {
		r.t.Fatal(err)
	}
}

// exchangeTokens is apppass's Exchange token from fakeentra, cached as
// graphclient caches it.
type exchangeTokens struct {
	entra *fakeentra.Server
	mu    sync.Mutex
	tok   string
	asked int
}

func (e *exchangeTokens) ExchangeToken(ctx context.Context) (domain.Secret, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.tok != "" {
		return domain.NewSecret(e.tok), nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {fakeentra.ClientID}, "client_secret": {fakeentra.ClientSecret},
		"scope": {fakeexchange.DefaultAudience + "/.default"}}
	req, err := newFormRequest(ctx, e.entra.URL()+"/"+fakeentra.TenantID+"/oauth2/v2.0/token", form.Encode())
	if err != nil {
		return domain.Secret{}, err
	}
	resp, err := e.entra.Client().Do(req)
	if err != nil {
		return domain.Secret{}, err
	}
	defer resp.Body.Close()
	var v struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return domain.Secret{}, err
	}
	e.tok = v.AccessToken
	e.asked++
	return domain.NewSecret(e.tok), nil
}

// forget drops the cached token, as a new process would.
func (e *exchangeTokens) forget() { e.mu.Lock(); e.tok = ""; e.mu.Unlock() }

// readAlerts records the helpdesk's reading alerts.
type readAlerts struct {
	mu   sync.Mutex
	list []gateway.ReadingAlert
}

func (a *readAlerts) AlertReadingDisabled(_ context.Context, x gateway.ReadingAlert) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.list = append(a.list, x)
	return nil
}

func (a *readAlerts) all() []gateway.ReadingAlert {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]gateway.ReadingAlert(nil), a.list...)
}

// missing reports the wants missing from got.
func missing(got string, wants ...string) []string {
	var out []string
	for _, w := range wants {
		if !strings.Contains(got, w) {
			out = append(out, w)
		}
	}
	return out
}

// newFormRequest builds a form POST.
func newFormRequest(ctx context.Context, url, form string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}
