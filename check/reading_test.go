package check_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/bot"
	"github.com/apppass/apppass/check"
	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/graphclient"
)

// withExchange is graphclient with apppass's Exchange token, fetched from
// fakeentra as graphclient's ExchangeToken does (client credentials for
// https://outlook.office365.com/.default).
type withExchange struct {
	*graphclient.Client
	entra *fakeentra.Server
}

func (w withExchange) ExchangeToken(ctx context.Context) (domain.Secret, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {fakeentra.ClientID}, "client_secret": {fakeentra.ClientSecret},
		"scope": {"https://outlook.office365.com/.default"}}
	resp, err := w.entra.Client().PostForm(w.entra.URL()+"/"+fakeentra.TenantID+"/oauth2/v2.0/token", form)
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
	return domain.NewSecret(v.AccessToken), nil
}

func TestReadingPermissions(t *testing.T) {
	e := newEnv(t)
	e.settings.ReadIMAP, e.settings.ReadPOP = true, true
	e.entra.RevokePermission(fakeentra.PermPOPAccessAsApp)
	g, err := graphclient.New(graphclient.Options{
		TenantID: fakeentra.TenantID, ClientID: fakeentra.ClientID, ClientSecret: e.secret,
		AuthorityHost: e.entra.AuthorityHost(), GraphBaseURL: e.entra.GraphBaseURL(), Transport: e.entra.Client().Transport,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	results := check.Run(ctx, e.settings, bot.NewSlackProbe(e.slack.APIURL(), e.botToken, e.appToken, nil), withExchange{g, e.entra})
	got := map[string]check.Result{}
	for _, r := range results {
		got[r.Name] = r
	}
	if r := got["permission IMAP.AccessAsApp"]; !r.OK {
		t.Errorf("IMAP.AccessAsApp: %+v", r)
	}
	if r := got["permission POP.AccessAsApp"]; r.OK || !strings.Contains(r.Fix, "Office 365 Exchange Online") {
		t.Errorf("POP.AccessAsApp revoked: %+v", r)
	}
}
