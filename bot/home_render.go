package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
)

// Block Kit's limits for a Home tab, and how the tab spends them. Every
// part is bounded, so that whatever a person holds and however many
// requests wait, the view fits (SPEC §4): at most homePasswordRows
// password blocks, homeMineRows lines of one's own requests in one
// section, and as many waiting requests (two blocks each) as the rest of
// the 100 blocks allow, each part ending in "…and N more".
const (
	maxHomeBlocks    = maxViewBlocks
	homePasswordRows = 40
	homeMineRows     = 10
	// homeSectionText is what the lines of one's own requests may fill
	// of Slack's 3,000, with room left for "…and N older.".
	homeSectionText = maxSectionText - 100
)

// homeView renders a person's Home tab. It never holds a secret: st has
// none.
func homeView(st handlers.HomeState, now time.Time) slack.HomeTabViewRequest {
	l := st.Listing
	create := slack.NewButtonBlockElement(actionHomeCreate, "create", plain("Create an app password"))
	create.Style = slack.StylePrimary
	intro := "An app password lets a device or program that can't do modern sign-in (a scanner, a printer, an old mail app) " +
		"use your Microsoft 365 account. Make one per device and name it after the device; it is shown to you once, " +
		"in our Messages tab, visible only to you."
	if len(l.Passwords) >= l.Max {
		intro += fmt.Sprintf("\n*You hold the most you can (%d).* Delete one you no longer use before creating another.", l.Max)
	}
	accessory := slack.NewAccessory(create)
	if !st.RolesUnknown && st.Roles.NotCreator {
		intro += "\n*Creating app passwords is limited to a group you are not in.* You can still delete yours; to create one, ask the helpdesk to add you to the app password creators group."
		accessory = nil
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(fmt.Sprintf("Your app passwords — %d of %d", len(l.Passwords), l.Max))),
		slack.NewSectionBlock(mrkdwn(intro), nil, accessory),
	}
	if len(l.Passwords) == 0 {
		blocks = append(blocks, section("You have none yet."))
	}
	for i, p := range l.Passwords {
		if i == homePasswordRows {
			blocks = append(blocks, contextBlock(fmt.Sprintf("…and %d more. `/apppass list` shows them all.", len(l.Passwords)-i)))
			break
		}
		blocks = append(blocks, passwordRow(passwordLine(p), homeDeleteButton(p)))
	}
	if st.RolesUnknown {
		blocks = append(blocks, contextBlock("_I couldn't ask Microsoft 365 about your apppass roles just now, so revocation requests are not shown. Open this tab again to retry._"))
	}
	if st.Roles.Admin {
		blocks = append(blocks, slack.NewDividerBlock(), slack.NewHeaderBlock(plain("Your revocation requests")), section(mineText(st.Mine, now)))
	}
	if st.Roles.Helpdesk {
		blocks = append(blocks, pendingBlocks(st.Pending, now, maxHomeBlocks-len(blocks))...)
	}
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, CallbackID: "apppass_home", Blocks: slack.Blocks{BlockSet: blocks}}
}

// homeUnavailable is the Home tab of someone apppass cannot serve, or
// cannot serve right now: why, politely.
func homeUnavailable(why string) slack.HomeTabViewRequest {
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, CallbackID: "apppass_home", Blocks: slack.Blocks{BlockSet: []slack.Block{
		slack.NewHeaderBlock(plain("apppass")),
		section("*apppass* manages Microsoft 365 app passwords for devices and programs that can't do modern sign-in."),
		section(why),
	}}}
}

// homeDeleteButton deletes p after Slack's own confirmation dialog. It
// is the Confirm of the commands' delete flow: the Home tab has no
// ephemeral messages to ask in, and the click is checked (is it the
// clicker's password?) as every delete is.
func homeDeleteButton(p domain.Password) *slack.ButtonBlockElement {
	del := slack.NewButtonBlockElement(actionDeleteConfirm, p.KeyID, plain("Delete"))
	confirm := slack.NewConfirmationBlockObject(
		plain(domain.Clip("Delete “"+p.Name+"”?", 100)),
		plain(domain.Clip(fmt.Sprintf("Anything signing in with “%s” (created %s) stops working. This cannot be undone.", p.Name, day(p.Created)), 300)),
		plain("Delete"), plain("Cancel"))
	confirm.Style = slack.StyleDanger
	del.Confirm = confirm
	return del
}

// mineText lists an admin's own requests and how each stands.
func mineText(mine []domain.RevocationRequest, now time.Time) string {
	if len(mine) == 0 {
		return "You have filed none. `/apppass revoke @person NAME|--all REASON` files one; the helpdesk decides."
	}
	var b strings.Builder
	for i, r := range mine {
		line := fmt.Sprintf("• *#%d* %s of %s — %s\n", r.ID, verbatim(scope(r)), whom(r), standing(r, now))
		// Keep room for the last line, whatever the reasons' length.
		if i == homeMineRows || len([]rune(b.String()))+len([]rune(line)) > homeSectionText-40 {
			fmt.Fprintf(&b, "…and %d older.", len(mine)-i)
			break
		}
		b.WriteString(line)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// standing says in a few words where request r stands.
func standing(r domain.RevocationRequest, now time.Time) string {
	switch r.Status {
	case domain.RevocationPending:
		return fmt.Sprintf("waiting for the helpdesk, expires in %s", domain.HumanDuration(r.ExpiresAt.Sub(now).Round(time.Minute)))
	case domain.RevocationApproving:
		return fmt.Sprintf("being carried out, approved by %s", actorRef(r.DecidedSlack))
	case domain.RevocationDone:
		return fmt.Sprintf("approved by %s: %s", actorRef(r.DecidedSlack), outcomeSummary(r))
	case domain.RevocationPartial:
		return fmt.Sprintf("approved by %s, *partly done*: %s", actorRef(r.DecidedSlack), outcomeSummary(r))
	case domain.RevocationDenied:
		return fmt.Sprintf("denied by %s: %s", actorRef(r.DecidedSlack), escape(domain.Clip(r.DenyReason, 200)))
	case domain.RevocationExpired:
		return "expired without a decision; nothing was revoked"
	default:
		return escape(string(r.Status))
	}
}

// pendingBlocks renders the requests waiting for the helpdesk within
// budget blocks: a divider and a header, then each request as a section
// and, when the person may decide it, its buttons; what does not fit is
// counted in a last line.
func pendingBlocks(pending []handlers.PendingRequest, now time.Time, budget int) []slack.Block {
	blocks := []slack.Block{slack.NewDividerBlock(), slack.NewHeaderBlock(plain(fmt.Sprintf("Revocation requests waiting — %d", len(pending))))}
	if len(pending) == 0 {
		return append(blocks, section("None. Requests also arrive in the helpdesk channel."))
	}
	for i, p := range pending {
		need := 1
		if p.MayDecide {
			need = 2
		}
		// Keep one block for the "…and N more" line unless this is the last.
		if len(blocks)+need > budget || (i < len(pending)-1 && len(blocks)+need > budget-1) {
			blocks = append(blocks, contextBlock(fmt.Sprintf("…and %d more. `/apppass requests` lists them all; each is in the helpdesk channel.", len(pending)-i)))
			break
		}
		text := fmt.Sprintf("*#%d* %s of %s, asked by %s %s\n*Reason:* %s", p.ID, verbatim(scope(p.RevocationRequest)),
			whom(p.RevocationRequest), actorRef(p.RequesterSlack), domain.Ago(now, p.CreatedAt), verbatim(p.Reason))
		if p.Status == domain.RevocationPartial {
			text += "\n:warning: Approved by " + actorRef(p.DecidedSlack) + ", *partly done*: " + outcomeSummary(p.RevocationRequest) + "."
		}
		if !p.MayDecide {
			text += "\n_Someone else from the helpdesk decides: " + p.WhyNot + "._"
		}
		blocks = append(blocks, section(text))
		if p.MayDecide {
			blocks = append(blocks, decideButtons(p.RevocationRequest))
		}
	}
	return blocks
}

// decideButtons are the helpdesk message's own buttons for r: Approve and
// Deny while it is pending, Retry when it is partly done.
func decideButtons(r domain.RevocationRequest) slack.Block {
	id := strconv.FormatInt(r.ID, 10)
	if r.Status == domain.RevocationPartial {
		return slack.NewActionBlock("decide_"+id, slack.NewButtonBlockElement(actionRevokeRetry, id, plain("Retry the rest")))
	}
	approve := slack.NewButtonBlockElement(actionRevokeApprove, id, plain("Approve"))
	approve.Style = slack.StyleDanger
	deny := slack.NewButtonBlockElement(actionRevokeDeny, id, plain("Deny"))
	return slack.NewActionBlock("decide_"+id, approve, deny)
}
