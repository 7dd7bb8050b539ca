package check_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/check"
	"github.com/apppass/apppass/domain"
)

// stuckSlack answers nothing until the probe's time is up.
type stuckSlack struct{}

func (stuckSlack) BotIdentity(ctx context.Context) (string, string, error) {
	<-ctx.Done()
	return "", "", ctx.Err()
}
func (stuckSlack) OpenConnection(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
func (stuckSlack) BotInChannel(ctx context.Context, _ string) (bool, error) {
	<-ctx.Done()
	return false, ctx.Err()
}

// noIdentity fails as azidentity's chain does on a host without a
// managed identity: many lines, with the endpoint it tried.
type noIdentity struct{}

func (noIdentity) TokenRoles(context.Context) ([]string, bool, error) {
	return nil, false, errors.New("ChainedTokenCredential: failed to acquire a token.\nAttempted credentials:\n\tManagedIdentityCredential: Get \"http://169.254.169.254/metadata/identity/oauth2/token\": context canceled\n\tTo troubleshoot, visit https://aka.ms/azsdk/go/identity/troubleshoot#managed-id")
}
func (noIdentity) ProbePermission(context.Context, string) error     { return nil }
func (noIdentity) GroupName(context.Context, string) (string, error) { return "", nil }
func (noIdentity) CredentialPolicy(context.Context) (domain.CredentialPolicy, error) {
	return domain.CredentialPolicy{}, errors.New("no identity")
}
func (noIdentity) ExchangeToken(context.Context) (domain.Secret, error) {
	return domain.Secret{}, errors.New("no token")
}

// Each probe has its own time limit, and a probe that ran out of time is
// said to be the network's; an unset AZURE_CLIENT_SECRET is said as such
// instead of azidentity's dump.
func TestProbesAreBoundedAndExplained(t *testing.T) {
	s := check.Settings{SlackTeam: "T1", ProbeTimeout: 100 * time.Millisecond}
	start := time.Now()
	results := check.Run(context.Background(), s, stuckSlack{}, noIdentity{})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("two stuck probes took %s", took)
	}
	var out bytes.Buffer
	if check.Print(&out, results) {
		t.Fatal("check passed")
	}
	text := out.String()
	for _, want := range []string{
		"✗ Slack bot token (auth.test): network: no answer within less than a second → apppass could not reach Slack",
		"✗ Entra token for apppass: AZURE_CLIENT_SECRET is not set, and no certificate, workload identity or managed identity gave a token on this host",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	for _, bad := range []string{"169.254", "aka.ms", "reinstall", "\t"} {
		if strings.Contains(text, bad) {
			t.Errorf("output contains %q:\n%s", bad, text)
		}
	}
	if n := strings.Count(text, "\n"); n != len(results) {
		t.Errorf("%d lines for %d results:\n%s", n, len(results), text)
	}
}
