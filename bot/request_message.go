package bot

import (
	"fmt"
	"strconv"
	"unicode/utf8"

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
	var blocks []slack.Block
	if len(r.Targets) == 1 {
		t := r.Targets[0]
		head := fmt.Sprintf(":rotating_light: *Revocation request #%d*\n*Asked by:* %s\n*For:* %s (%s)\n*Reason:* %s",
			r.ID, actorRef(r.RequesterSlack), verbatim(t.Name), slackRef(t), clip(verbatim(r.Reason), maxReasonShown))
		blocks = []slack.Block{section(head), section(joinRows(itemRows(r.Items), maxSectionText, andMore))}
	} else {
		head := fmt.Sprintf(":rotating_light: *Revocation request #%d*\n*Asked by:* %s\n*For:* %d people, %s\n*Reason:* %s",
			r.ID, actorRef(r.RequesterSlack), len(r.Targets), domain.Count(len(r.Items), "app password", "app passwords"),
			clip(verbatim(r.Reason), maxReasonShown))
		blocks = append([]slack.Block{section(head)}, peopleSections(r)...)
	}
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
		blocks = append(blocks, slack.NewActionBlock("retry", button(actionRevokeRetry, id, "Retry the rest")))
	case domain.RevocationDenied:
		status = fmt.Sprintf(":no_entry_sign: Denied by <@%s> on %s UTC: %s", r.DecidedSlack, r.DecidedAt.UTC().Format("2 Jan 15:04"), clip(verbatim(r.DenyReason), maxReasonShown))
	case domain.RevocationExpired:
		status = ":hourglass: Expired without a decision; nothing was revoked."
	case domain.RevocationCancelled:
		status = "Withdrawn."
	}
	blocks = append(blocks, contextBlock(status))
	return fmt.Sprintf("Revocation request #%d for %s: %s", r.ID, whom(r), r.Status), blocks
}

// maxPeopleSections is how many sections a request message gives its
// people: Slack's 50 blocks less the head, the buttons, the status line
// and the line saying how many more there are.
const maxPeopleSections = maxMessageBlocks - 4

// peopleSections lists each of r's people with their passwords, as many
// to a section as fit, and says how many people (and passwords) did not
// fit, so that 50 people with 40 passwords each stay within Block Kit's
// limits.
func peopleSections(r domain.RevocationRequest) []slack.Block {
	var texts []string
	cur := ""
	shown := 0
	for i, t := range r.Targets {
		items := r.ItemsOf(t.ID)
		head := fmt.Sprintf("*%s* (%s)", verbatim(t.Name), slackRef(t))
		rows := itemRows(items)
		if len(rows) == 0 {
			rows = []string{"• _none now; any made before the decision are removed too_"}
		}
		chunk := head + "\n" + joinRows(rows, maxSectionText-utf8.RuneCountInString(head)-1, andMore)
		switch {
		case cur == "":
			cur = chunk
		case utf8.RuneCountInString(cur)+2+utf8.RuneCountInString(chunk) <= maxSectionText:
			cur += "\n\n" + chunk
		default:
			texts = append(texts, cur)
			cur = chunk
		}
		if len(texts) == maxPeopleSections {
			cur = ""
			break
		}
		shown = i + 1
	}
	if cur != "" {
		texts = append(texts, cur)
	}
	blocks := make([]slack.Block, 0, len(texts)+1)
	for _, t := range texts {
		blocks = append(blocks, section(t))
	}
	if rest := r.Targets[shown:]; len(rest) > 0 {
		n := 0
		for _, t := range rest {
			n += len(r.ItemsOf(t.ID))
		}
		blocks = append(blocks, contextBlock(fmt.Sprintf("…and %s more (%s) not shown here; `/apppass show @person` lists anyone's.",
			domain.Count(len(rest), "person", "people"), domain.Count(n, "app password", "app passwords"))))
	}
	return blocks
}

// itemRows is one line per password: its name, age, hint and outcome.
func itemRows(items []domain.RevocationItem) []string {
	rows := make([]string, 0, len(items))
	for _, it := range items {
		line := fmt.Sprintf("• *%s* — created %s, starts with `%s…`", verbatim(it.Password.Name), day(it.Password.Created), escape(it.Password.Hint))
		if it.Outcome != "" {
			line += " → " + escape(it.Outcome)
		}
		rows = append(rows, line)
	}
	return rows
}

// slackRef mentions t, or says they are not in Slack.
func slackRef(t domain.RevocationTarget) string {
	if t.Slack == "" {
		return "not in Slack"
	}
	return "<@" + t.Slack + ">"
}
