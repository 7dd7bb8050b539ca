package check

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

	"github.com/apppass/apppass/domain"
)

// ExchangeTokens is what the reading checks need of Entra: apppass's own
// token for Exchange Online. graphclient.Client has it once the smtp
// upstream's ExchangeToken is in; a Graph without it skips the checks.
type ExchangeTokens interface {
	ExchangeToken(ctx context.Context) (domain.Secret, error)
}

// readingChecks say whether apppass's Exchange token carries the
// permissions reading mail needs (SPEC §15): IMAP.AccessAsApp for the
// IMAP listeners, POP.AccessAsApp for POP3. The per-mailbox FullAccess
// grant cannot be seen from here; the gateway explains its absence to
// the device and the helpdesk when a mailbox is refused.
func readingChecks(ctx context.Context, s Settings, graph Graph) []Result {
	var wants []string
	if s.ReadIMAP {
		wants = append(wants, "IMAP.AccessAsApp")
	}
	if s.ReadPOP {
		wants = append(wants, "POP.AccessAsApp")
	}
	if len(wants) == 0 {
		return nil
	}
	tokens, ok := graph.(ExchangeTokens)
	if !ok {
		return []Result{skip("Exchange token for reading mail", "this build cannot get apppass's Exchange token")}
	}
	tok, err := tokens.ExchangeToken(ctx)
	if err != nil {
		return []Result{fail("Exchange token for reading mail", err.Error(),
			"check that apppass's credential works for APPPASS_EXCHANGE_RESOURCE (default https://outlook.office365.com)")}
	}
	roles, known := tokenRoles(tok)
	var out []Result
	for _, w := range wants {
		name := "permission " + w
		switch {
		case !known:
			out = append(out, Result{Name: name, Detail: "the Exchange token cannot be read", Optional: true})
		case slices.Contains(roles, w):
			out = append(out, pass(name, "in apppass's Exchange token; each mailbox also needs FullAccess (README: Reading mail)"))
		default:
			out = append(out, fail(name, "not in apppass's Exchange token: every IMAP/POP3 login will be refused",
				"in apppass's app registration add the application permission "+w+" of \"Office 365 Exchange Online\" and grant admin consent"))
		}
	}
	return out
}

// tokenRoles reads the roles claim of a JWT access token.
func tokenRoles(tok domain.Secret) ([]string, bool) {
	parts := strings.Split(tok.Reveal(), ".")
	if len(parts) != 3 {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var c struct {
		Roles []string `json:"roles"`
	}
	if json.Unmarshal(raw, &c) != nil {
		return nil, false
	}
	return c.Roles, true
}
