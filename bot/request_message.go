package bot

import (
	"fmt"
	"strconv"

	"github.com/slack-go/slack"

	"github.com/apppass/apppass/domain"
)

// maxReasonShown bounds a reason as shown (escaped) in a message, leaving
// room for the rest of its section.
const maxReasonShown = 2000

// requestMessage renders a revocation request for the helpdesk channel:
// who asked, whom, which passwords, why, and — while it can be decided —
// the buttons. Rendered again, in place, at every change.
func requestMessage(r domain.RevocationRequest) (string, []slack.Block) {
	who := "not in Slack"
	if r.TargetSlack != "" {
		who = "<@" + r.TargetSlack + ">"
	}
	head := fmt.Sprintf(":rotating_light: *Revocation request #%d*\n*Asked by:* %s\n*For:* %s (%s)\n*Reason:* %s",
		r.ID, actorRef(r.RequesterSlack), verbatim(r.TargetName), who, clip(verbatim(r.Reason), maxReasonShown))
	var rows []string
	for _, it := range r.Items {
		line := fmt.Sprintf("• *%s* — created %s, starts with `%s…`", verbatim(it.Password.Name), day(it.Password.Created), escape(it.Password.Hint))
		if it.Outcome != "" {
			line += " → " + escape(it.Outcome)
		}
		rows = append(rows, line)
	}
	blocks := []slack.Block{section(head), section(joinRows(rows, maxSectionText, andMore))}
	id := strconv.FormatInt(r.ID, 10)
	var status string
	switch r.Status {
	case domain.RevocationPending:
		approve := button(actionRevokeApprove, id, "Approve")
		approve.Style = slack.StyleDanger
		deny := button(actionRevokeDeny, id, "Deny")
		blocks = append(blocks, slack.NewActionBlock("decide", approve, deny))
		status = fmt.Sprintf("Waiting for a helpdesk member other than the requester; expires %s UTC.", r.ExpiresAt.UTC().Format("2 Jan 15:04"))
	case domain.RevocationApproving:
		status = fmt.Sprintf("Being carried out, approved by <@%s>…", r.DecidedSlack)
	case domain.RevocationDone:
		status = fmt.Sprintf(":white_check_mark: Approved by <@%s> on %s UTC: %s.", r.DecidedSlack, r.DecidedAt.UTC().Format("2 Jan 15:04"), outcomeSummary(r))
	case domain.RevocationPartial:
		status = fmt.Sprintf(":warning: Approved by <@%s> on %s UTC, *partly done*: %s.", r.DecidedSlack, r.DecidedAt.UTC().Format("2 Jan 15:04"), outcomeSummary(r))
		blocks = append(blocks, slack.NewActionBlock("retry", button(actionRevokeRetry, id, "Retry the failed ones")))
	case domain.RevocationDenied:
		status = fmt.Sprintf(":no_entry_sign: Denied by <@%s> on %s UTC: %s", r.DecidedSlack, r.DecidedAt.UTC().Format("2 Jan 15:04"), clip(verbatim(r.DenyReason), maxReasonShown))
	case domain.RevocationExpired:
		status = ":hourglass: Expired without a decision; nothing was revoked."
	case domain.RevocationCancelled:
		status = "Withdrawn."
	}
	blocks = append(blocks, contextBlock(status))
	return fmt.Sprintf("Revocation request #%d for %s: %s", r.ID, escape(r.TargetName), r.Status), blocks
}
