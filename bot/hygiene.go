package bot

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/apppass/apppass/domain"
)

// The jobs' side of Slack (jobs.Slack): one paged users.list per run,
// warnings as DMs with Delete buttons, the hygiene report, and revocation
// requests whose state a background job changed.

// SlackUsersByEmail pages through users.list once and returns the Slack
// id of every active person with an email, by lower-cased email. Bots,
// deactivated accounts and Slackbot are left out. A 429 is waited out and
// the same page asked again.
func (s *Slack) SlackUsersByEmail(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	p := s.api.GetUsersPaginated(slack.GetUsersOptionLimit(200), slack.GetUsersOptionIncludeLocale(false))
	limited := 0
	for {
		next, err := p.Next(ctx)
		if p.Done(err) {
			return out, nil
		}
		if err != nil {
			if werr := s.waitRateLimit(ctx, err, &limited); werr != nil {
				return nil, fmt.Errorf("users.list: %w", werr)
			}
			continue
		}
		limited = 0
		p = next
		for _, u := range p.Users {
			email := strings.ToLower(strings.TrimSpace(u.Profile.Email))
			if u.Deleted || u.IsBot || u.ID == "USLACKBOT" || email == "" {
				continue
			}
			out[email] = u.ID
		}
	}
}

// SendNotice DMs the warning n to Slack user slackID, with a Delete button
// per password named. It returns an error when Slack did not take it.
func (s *Slack) SendNotice(ctx context.Context, slackID string, n domain.Notice) error {
	text, blocks := noticeMessage(n)
	_, err := s.post(ctx, slackID, text, blocks)
	return err
}

// PostReport posts the hygiene report r to channel. It returns an error
// when Slack did not take it.
func (s *Slack) PostReport(ctx context.Context, channel string, r domain.Report) error {
	text, blocks := reportMessage(r)
	_, err := s.post(ctx, channel, text, blocks)
	return err
}

// noticeMessage renders a warning: a lead paragraph, one row per password
// named with a Delete button (the same delete_ask action as in
// `/apppass list`, so ownership is checked again on click), and a pointer
// to the rest.
func noticeMessage(n domain.Notice) (string, []slack.Block) {
	var text, lead string
	switch n.Kind {
	case domain.NoticeLimit:
		text = fmt.Sprintf("You hold %d of %d app passwords.", n.Held, n.Max)
		lead = fmt.Sprintf(":warning: You hold *%d of %d* app passwords. At %d you cannot create another. "+
			"Please delete the ones no device uses any more. Your oldest:", n.Held, n.Max, n.Max)
	case domain.NoticeStale:
		text = fmt.Sprintf("%d of your app passwords %s stale.", len(n.Passwords)+n.More, domain.Plural(len(n.Passwords)+n.More, "looks", "look"))
		rule := fmt.Sprintf("created %d or more days ago", days(n.StaleAfter))
		if n.LastUseKnown {
			rule += fmt.Sprintf(", or not used for %d days", days(n.UnusedAfter))
		}
		lead = fmt.Sprintf(":broom: These app passwords look stale (%s). If no device uses one any more, delete it; "+
			"if one still does, create a new password for it with `/apppass create NAME` and delete the old one.", rule)
	case domain.NoticeExpiry:
		text = fmt.Sprintf("%d of your app passwords %s within %s.", len(n.Passwords)+n.More, domain.Plural(len(n.Passwords)+n.More, "expires", "expire"), domain.HumanDuration(n.ExpiryWarning))
		lead = fmt.Sprintf(":hourglass_flowing_sand: These app passwords expire within %d days; devices using them will then "+
			"stop signing in. Create a replacement with `/apppass create NAME`, put it in the device, and delete the old one.", days(n.ExpiryWarning))
	default:
		text = "A note about your app passwords."
		lead = text
	}
	blocks := []slack.Block{section(lead)}
	more := n.More
	for i, p := range n.Passwords {
		if i == maxMessageBlocks-2 {
			more += len(n.Passwords) - i
			break
		}
		line := passwordLine(p)
		switch {
		case n.Kind == domain.NoticeExpiry && !p.Expires.IsZero():
			line += fmt.Sprintf(" · *in %s*", daysFrom(n.At, p.Expires))
		case n.Kind == domain.NoticeStale && n.LastUseKnown && p.LastUsed == nil:
			line += " · never used"
		}
		blocks = append(blocks, passwordRow(line, button(actionDeleteAsk, p.KeyID, "Delete")))
	}
	tail := "`/apppass list` shows all your app passwords."
	if more > 0 {
		tail = fmt.Sprintf("…and %d more. ", more) + tail
	}
	blocks = append(blocks, contextBlock(tail))
	return text, blocks
}

// maxReportNames keeps the near-limit list inside one section's 3,000
// characters.
const maxReportNames = 40

// reportMessage renders the hygiene report.
func reportMessage(r domain.Report) (string, []slack.Block) {
	figure := func(label, key string, v int) *slack.TextBlockObject {
		s := fmt.Sprintf("*%s*\n%d", label, v)
		if d, ok := r.Change(key); ok {
			s += fmt.Sprintf(" (%+d)", d)
		}
		return mrkdwn(s)
	}
	fields := []*slack.TextBlockObject{
		figure("Holders", domain.FigureHolders, r.Holders),
		figure("App passwords", domain.FigurePasswords, r.Passwords),
		figure(fmt.Sprintf("At or above %d", r.WarnAt), domain.FigureNearLimit, len(r.NearLimit)),
		figure("Stale", domain.FigureStale, r.Stale),
		figure("Expired", domain.FigureExpired, r.Expired),
		figure("Holders not found in Slack", domain.FigureUnreachable, r.Unreachable),
	}
	var dist []string
	for _, b := range r.Distribution {
		dist = append(dist, fmt.Sprintf("%d–%d: *%d*", b.Min, b.Max, b.Holders))
	}
	activity := fmt.Sprintf("*Since %s:* %d created · %d deleted · %d revoked\n*Revocation requests pending:* %d\n*Expiring within %d days:* %d",
		day(r.Since), r.Created, r.Deleted, r.Revoked, r.PendingRevocations, days(r.ExpiryWarning), r.ExpiringSoon)
	activity += fmt.Sprintf("\n*Look-alike applications (tagged for someone, not apppass's):* %d · *duplicate applications:* %d", r.Lookalikes, r.Duplicates)
	activity += fmt.Sprintf("\n*Owners disabled or deleted in Entra, offboarded:* %d", r.Offboarded)
	near := fmt.Sprintf("*Holding %d or more of %d:* nobody", r.WarnAt, r.Max)
	if len(r.NearLimit) > 0 {
		names := make([]string, 0, min(len(r.NearLimit), maxReportNames))
		for i, h := range r.NearLimit {
			if i == maxReportNames {
				break
			}
			names = append(names, fmt.Sprintf("• %s (%d)", escape(domain.Clip(h.Name, 60)), h.Held))
		}
		lead := fmt.Sprintf("*Holding %d or more of %d:*", r.WarnAt, r.Max)
		near = lead + "\n" + joinRows(names, maxSectionText-utf8.RuneCountInString(lead)-1, func(n int) string {
			return andMore(n + len(r.NearLimit) - len(names))
		})
		if len(names) < len(r.NearLimit) && !strings.Contains(near, "…and") {
			near += "\n" + andMore(len(r.NearLimit)-len(names))
		}
	}
	rule := fmt.Sprintf("Stale: created %d+ days ago", days(r.StaleAfter))
	if r.LastUseKnown {
		rule += fmt.Sprintf(", or unused for %d+ days", days(r.UnusedAfter))
	} else {
		rule += " (no sign-in data in this tenant, so age only)"
	}
	if r.Previous == nil {
		rule += ". First report: changes are shown from the next one."
	} else {
		rule += ". Changes in brackets are since the previous report."
	}
	blocks := []slack.Block{
		header("App password hygiene — " + day(r.At)),
		slack.NewSectionBlock(nil, fields, nil),
		section("*Holders by number of app passwords:* " + strings.Join(dist, " · ")),
		section(near),
		section(activity),
		contextBlock(rule),
	}
	text := fmt.Sprintf("App password hygiene: %d holders, %d app passwords, %d stale, %d expired.", r.Holders, r.Passwords, r.Stale, r.Expired)
	return text, blocks
}

func days(d time.Duration) int { return int(d / (24 * time.Hour)) }

// daysFrom says how far t is after now, in whole days ("3 days").
func daysFrom(now, t time.Time) string {
	n := int(t.Sub(now).Hours() / 24)
	switch {
	case n < 1:
		return "less than a day"
	case n == 1:
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}
