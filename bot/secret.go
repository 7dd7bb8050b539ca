package bot

import (
	"fmt"

	"github.com/slack-go/slack"

	"github.com/apppass/apppass/domain"
)

// secretReply is the one place a secret is revealed: the single ephemeral
// message that shows a new app password to the person who created it.
func secretReply(c domain.Created) reply {
	intro := fmt.Sprintf(":key: Your new app password *%s* is below. *It is shown only this once*: copy it into the device now. "+
		"apppass does not keep it and cannot show it again; if you lose it, delete it and create another.", escape(c.Password.Name))
	creds := fmt.Sprintf("*Password*\n```%s```\n*Client (application) ID*\n`%s`\n*Tenant ID*\n`%s`\n_%s_",
		c.Secret.Reveal(), c.ClientID, c.TenantID, expiry(c.Password.Expires))
	how := "Sign the device or program in with OAuth client credentials: the client ID, the tenant ID and this password as the client secret " +
		"(for example SMTP, IMAP or POP with OAuth, or Microsoft Graph mail). Delete it with `/apppass delete` when the device is gone."
	return reply{
		Text:   "Your new app password " + escape(c.Password.Name) + " (shown once)",
		Blocks: []slack.Block{section(intro), section(creds), slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, how, false, false))},
	}
}
