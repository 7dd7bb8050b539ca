package bot

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/apppass/apppass/domain"
)

// requestMessage renders a revocation request for the helpdesk channel:
// who asked, whom, which passwords, why, and — while it can be decided —
// the buttons. Rendered again, in place, at every change.
func requestMessage(r domain.RevocationRequest) (string, []slack.Block) {
	who := "not in Slack"
	if r.TargetSlack != "" {
		who = "<@" + r.TargetSlack + ">"
	}
	head := fmt.Sprintf(":rotating_light: *Revocation request #%d*\n*Asked by:* %s\n*For:* %s (%s)\n*Reason:* %s",
		r.ID, actorRef(r.RequesterSlack), escape(r.TargetName), who, escape(r.Reason))
	var rows []string
	for i, it := range r.Items {
		if i == 40 {
			rows = append(rows, fmt.Sprintf("…and %d more", len(r.Items)-40))
			break
		}
		line := fmt.Sprintf("• *%s* — created %s, starts `%s…`", escape(it.Password.Name), day(it.Password.Created), escape(it.Password.Hint))
		if it.Outcome != "" {
			line += " → " + escape(it.Outcome)
		}
		rows = append(rows, line)
	}
	blocks := []slack.Block{section(head), section(domain.Clip(strings.Join(rows, "\n"), 2900))}
	id := strconv.FormatInt(r.ID, 10)
	var status string
	switch r.Status {
	case domain.RevocationPending:
		approve := slack.NewButtonBlockElement(actionRevokeApprove, id, plain("Approve"))
		approve.Style = slack.StyleDanger
		deny := slack.NewButtonBlockElement(actionRevokeDeny, id, plain("Deny"))
		blocks = append(blocks, slack.NewActionBlock("decide", approve, deny))
		status = fmt.Sprintf("Waiting for a helpdesk member other than the requester; expires %s UTC.", r.ExpiresAt.UTC().Format("2 Jan 15:04"))
	case domain.RevocationApproving:
		status = fmt.Sprintf("Being carried out, approved by <@%s>…", r.DecidedSlack)
	case domain.RevocationDone:
		status = fmt.Sprintf(":white_check_mark: Approved by <@%s> on %s UTC: %s.", r.DecidedSlack, r.DecidedAt.UTC().Format("2 Jan 15:04"), outcomeSummary(r))
	case domain.RevocationPartial:
		status = fmt.Sprintf(":warning: Approved by <@%s> on %s UTC, *partly done*: %s.", r.DecidedSlack, r.DecidedAt.UTC().Format("2 Jan 15:04"), outcomeSummary(r))
		blocks = append(blocks, slack.NewActionBlock("retry", slack.NewButtonBlockElement(actionRevokeRetry, id, plain("Retry the failed ones"))))
	case domain.RevocationDenied:
		status = fmt.Sprintf(":no_entry_sign: Denied by <@%s> on %s UTC: %s", r.DecidedSlack, r.DecidedAt.UTC().Format("2 Jan 15:04"), escape(r.DenyReason))
	case domain.RevocationExpired:
		status = ":hourglass: Expired without a decision; nothing was revoked."
	case domain.RevocationCancelled:
		status = "Withdrawn."
	}
	blocks = append(blocks, slack.NewContextBlock("status", slack.NewTextBlockObject(slack.MarkdownType, status, false, false)))
	return fmt.Sprintf("Revocation request #%d for %s: %s", r.ID, escape(r.TargetName), r.Status), blocks
}
