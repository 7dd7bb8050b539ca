package graphclient_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/graphclient"
)

// exchangeClient is a Client whose clock is at.
func exchangeClient(t *testing.T, s *fakeentra.Server, at *sleeper) *graphclient.Client {
	t.Helper()
	c, err := graphclient.New(graphclient.Options{
		TenantID: fakeentra.TenantID, ClientID: fakeentra.ClientID, ClientSecret: domain.NewSecret(fakeentra.ClientSecret),
		AuthorityHost: s.AuthorityHost(), GraphBaseURL: s.GraphBaseURL(), AppNamePrefix: "App passwords – ",
		Transport: s.Client().Transport, Sleep: at.sleep, Now: at.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A token Exchange refused is replaced once, by one request to Entra
// however many sessions were refused with it, and the credential's own
// cache does not hand the refused token back.
func TestRenewExchangeToken(t *testing.T) {
	ctx := context.Background()
	s := fakeentra.New(t)
	clock := &sleeper{at: time.Now()}
	c := exchangeClient(t, s, clock)
	issued := func() int { return s.TokensIssued(fakeentra.ClientID, graphclient.DefaultExchangeResource) }

	old, err := c.ExchangeToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := c.ExchangeToken(ctx); again.Reveal() != old.Reveal() || issued() != 1 {
		t.Fatalf("the token is not cached: %d issued", issued())
	}

	// Refused within a minute of being had: kept, Entra not asked.
	if tok, ok, err := c.RenewExchangeToken(ctx, old); err != nil || ok || !tok.IsZero() || issued() != 1 {
		t.Fatalf("young token renewed: ok=%v err=%v, %d issued", ok, err, issued())
	}

	_ = clock.sleep(ctx, 2*time.Minute)
	const sessions = 8
	got := make([]domain.Secret, sessions)
	var wg sync.WaitGroup
	for i := range sessions {
		wg.Go(func() {
			tok, ok, err := c.RenewExchangeToken(ctx, old)
			if err != nil || !ok {
				t.Errorf("renew: ok=%v err=%v", ok, err)
			}
			got[i] = tok
		})
	}
	wg.Wait()
	if issued() != 2 {
		t.Fatalf("%d sessions refused at once made %d token requests, want 1", sessions, issued()-1)
	}
	fresh := got[0]
	for _, tok := range got {
		if tok.Reveal() != fresh.Reveal() || tok.Reveal() == old.Reveal() {
			t.Fatal("the sessions did not all get the one new token")
		}
	}
	if cached, _ := c.ExchangeToken(ctx); cached.Reveal() != fresh.Reveal() || issued() != 2 {
		t.Fatal("the new token is not the cached one")
	}
	// A refusal of the new token, at once: no second request (no loop).
	if _, ok, _ := c.RenewExchangeToken(ctx, fresh); ok || issued() != 2 {
		t.Fatalf("a fresh token's refusal renewed it: %d issued", issued())
	}
}

// A tenant that does not take the claims challenge: the renewal asks the
// plain way, and gets what the credential has (here the refused token,
// from MSAL's cache), so the refusal stands as it did before renewals,
// rather than failing as if Entra could not be reached.
func TestRenewExchangeTokenWithoutClaimsChallenges(t *testing.T) {
	ctx := context.Background()
	s := fakeentra.New(t)
	s.RefuseClaimsChallenges(true)
	clock := &sleeper{at: time.Now()}
	c := exchangeClient(t, s, clock)
	old, err := c.ExchangeToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = clock.sleep(ctx, 2*time.Minute)
	tok, ok, err := c.RenewExchangeToken(ctx, old)
	if err != nil || !ok || tok.IsZero() {
		t.Fatalf("renew without claims challenges: ok=%v err=%v", ok, err)
	}
	if n := s.TokensIssued(fakeentra.ClientID, graphclient.DefaultExchangeResource); n != 1 {
		t.Errorf("%d tokens issued, want only the first (the challenge was refused, the plain request served from cache)", n)
	}
}
