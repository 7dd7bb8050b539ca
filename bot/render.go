package bot

import (
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
)

// maxRows keeps a listing under Slack's 50-block limit: a lead, a header,
// the rows and the "…and N more".
const maxRows = maxMessageBlocks - 3

func listingBlocks(l handlers.Listing, lead string) []slack.Block {
	var blocks []slack.Block
	if lead != "" {
		blocks = append(blocks, section(lead))
	}
	blocks = append(blocks, header(fmt.Sprintf("Your app passwords — %d of %d", len(l.Passwords), l.Max)))
	if len(l.Passwords) == 0 {
		return append(blocks, section("You have none. `/apppass create NAME` makes one."))
	}
	for i, p := range l.Passwords {
		if i == maxRows {
			blocks = append(blocks, section(fmt.Sprintf("…and %d more. Delete some with `/apppass delete NAME`.", len(l.Passwords)-maxRows)))
			break
		}
		blocks = append(blocks, passwordRow(passwordLine(p), button(actionDeleteAsk, p.KeyID, "Delete")))
	}
	return blocks
}

// passwordRow is a section naming one password (line), clipped to
// Slack's limit, with its Delete button.
func passwordRow(line string, del *slack.ButtonBlockElement) slack.Block {
	return slack.NewSectionBlock(mrkdwn(clip(line, maxSectionText)), nil, slack.NewAccessory(del))
}

func passwordLine(p domain.Password) string {
	s := fmt.Sprintf("*%s*\nCreated %s · %s", verbatim(p.Name), day(p.Created), expiry(p.Expires))
	if p.LastUsed != nil {
		s += " · last used " + day(*p.LastUsed)
	}
	if p.Hint != "" {
		s += fmt.Sprintf(" · starts with `%s…`", escape(p.Hint))
	}
	if p.Scope != nil {
		s += " · " + escape(scopeWords(*p.Scope))
	}
	return s
}

// scopeWords says what a password is for (SPEC §16).
func scopeWords(sc domain.Scope) string {
	var s string
	switch {
	case sc.Send && sc.Read:
		s = "sends and reads mail"
	case sc.Read:
		s = "reads mail"
	case sc.Send:
		s = "sends mail"
	default:
		s = "no mail"
	}
	if len(sc.Networks) > 0 {
		s += " from " + sc.NetworksString()
	}
	return s
}

func day(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2 Jan 2006")
}

func expiry(t time.Time) string {
	if t.IsZero() {
		return "never expires"
	}
	return "expires " + day(t)
}
