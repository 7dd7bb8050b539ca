package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
)

// Action ids of the helpdesk buttons. Their value is the request id only:
// who may decide is checked again, from Entra, on every click.
const (
	actionRevokeApprove = "revoke_approve"
	actionRevokeDeny    = "revoke_deny"
	actionRevokeRetry   = "revoke_retry"
	denyModalID         = "apppass_deny"
)

func (b *Bot) revoke(ctx context.Context, w where, cmd handlers.Command) {
	a, err := b.actor(ctx, w.User)
	if err != nil {
		b.fail(ctx, w, "revoke", err, false)
		return
	}
	if b.cfg.HelpdeskChannel == "" {
		b.fail(ctx, w, "revoke", domain.Errorf(domain.KindInvalid, "Revocations are not set up: APPPASS_HELPDESK_CHANNEL is missing. Please tell the apppass administrator."), false)
		return
	}
	target, err := b.actor(ctx, cmd.Target)
	if err != nil && domain.KindOf(err) != domain.KindForbidden {
		b.fail(ctx, w, "revoke", err, false)
		return
	}
	if err != nil {
		target = domain.Actor{SlackID: cmd.Target}
	}
	req, err := b.svc.RequestRevocation(ctx, a, target, cmd.Name, cmd.All, cmd.Reason)
	if err != nil {
		b.fail(ctx, w, "revoke", err, false)
		return
	}
	text, blocks := requestMessage(req)
	_, ts, err := b.api.PostMessageContext(ctx, b.cfg.HelpdeskChannel, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		if cerr := b.svc.CancelRevocation(ctx, req.ID); cerr != nil {
			b.log.ErrorContext(ctx, "could not withdraw unposted request", "request", req.ID, "err", cerr)
		}
		b.fail(ctx, w, "revoke", domain.Wrap(domain.KindUpstream, err, "I couldn't post the request to the helpdesk channel, so it was withdrawn. Please try again."), false)
		return
	}
	if err := b.svc.RevocationPosted(ctx, req.ID, b.cfg.HelpdeskChannel, ts); err != nil {
		b.log.ErrorContext(ctx, "request message not recorded", "request", req.ID, "err", err)
	}
	msg := fmt.Sprintf("Request *#%d* is filed: revoke %s of %s. The helpdesk decides in <#%s>; you'll get a DM with the outcome.",
		req.ID, escape(scope(req)), escape(req.TargetName), b.cfg.HelpdeskChannel)
	b.respondOrDM(ctx, w, reply{Text: msg, Blocks: []slack.Block{section(msg)}})
}

func (b *Bot) requests(ctx context.Context, w where) {
	a, err := b.actor(ctx, w.User)
	if err != nil {
		b.fail(ctx, w, "requests", err, false)
		return
	}
	reqs, err := b.svc.PendingRevocations(ctx, a)
	if err != nil {
		b.fail(ctx, w, "requests", err, false)
		return
	}
	if len(reqs) == 0 {
		b.respondOrDM(ctx, w, reply{Text: "No revocation requests are waiting."})
		return
	}
	var lines []string
	for _, r := range reqs {
		lines = append(lines, fmt.Sprintf("• *#%d* %s — %s of %s, asked by <@%s> %s ago: %s",
			r.ID, r.Status, escape(scope(r)), escape(r.TargetName), r.RequesterSlack, age(time.Since(r.CreatedAt)), escape(r.Reason)))
	}
	text := fmt.Sprintf("*%d revocation request(s) waiting*\n%s", len(reqs), strings.Join(lines, "\n"))
	b.respondOrDM(ctx, w, reply{Text: text, Blocks: []slack.Block{section(domain.Clip(text, 2900))}})
}

func (b *Bot) show(ctx context.Context, w where, targetID string) {
	a, err := b.actor(ctx, w.User)
	if err != nil {
		b.fail(ctx, w, "show", err, false)
		return
	}
	target, err := b.actor(ctx, targetID)
	if err != nil && domain.KindOf(err) != domain.KindForbidden {
		b.fail(ctx, w, "show", err, false)
		return
	}
	if err != nil {
		target = domain.Actor{SlackID: targetID}
	}
	p, err := b.svc.ShowUser(ctx, a, target)
	if err != nil {
		b.fail(ctx, w, "show", err, false)
		return
	}
	blocks := []slack.Block{slack.NewHeaderBlock(plain(domain.Clip(fmt.Sprintf("%s — %d of %d app passwords", p.Owner.UserPrincipalName, len(p.Passwords), p.Max), 150)))}
	var rows []string
	for _, pw := range p.Passwords {
		rows = append(rows, "• "+strings.ReplaceAll(passwordLine(pw), "\n", " — "))
	}
	if len(rows) == 0 {
		rows = append(rows, "No app passwords.")
	}
	if !p.Owner.AccountEnabled {
		rows = append([]string{"_The Microsoft 365 account is disabled._"}, rows...)
	}
	blocks = append(blocks, section(domain.Clip(strings.Join(rows, "\n"), 2900)))
	var events []string
	for _, e := range p.Events {
		events = append(events, fmt.Sprintf("• %s %s %s by %s: %s", e.At.UTC().Format("2006-01-02 15:04"), escape(e.Action),
			escape(e.Name), actorRef(e.ActorSlack), escape(e.Outcome)))
	}
	if len(events) > 0 {
		blocks = append(blocks, section(domain.Clip("*Recent activity*\n"+strings.Join(events, "\n"), 2900)))
	}
	b.respondOrDM(ctx, w, reply{Text: "App passwords of " + escape(p.Owner.UserPrincipalName), Blocks: blocks})
}

func (b *Bot) approve(ctx context.Context, w where, value string) {
	id, a, ok := b.decisionInput(ctx, w, value)
	if !ok {
		return
	}
	req, err := b.svc.ApproveRevocation(ctx, a, id)
	if err != nil {
		b.fail(ctx, w, "approve", err, false)
		return
	}
	b.updateRequestMessage(ctx, req)
	b.notifyOutcome(ctx, req)
}

func (b *Bot) openDenyModal(ctx context.Context, w where, triggerID, value string) {
	id, a, ok := b.decisionInput(ctx, w, value)
	if !ok {
		return
	}
	if err := b.svc.CheckDecider(ctx, a, id); err != nil {
		b.fail(ctx, w, "deny", err, false)
		return
	}
	input := slack.NewPlainTextInputBlockElement(plain("e.g. not a stolen device; confirmed with the user"), "reason")
	input.Multiline = true
	input.MaxLength = 500
	view := slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: denyModalID, PrivateMetadata: strconv.FormatInt(id, 10),
		Title: plain(fmt.Sprintf("Deny request #%d", id)), Submit: plain("Deny"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewInputBlock("reason", plain("Why? The requester will be told."), nil, input)}},
	}
	if _, err := b.api.OpenViewContext(ctx, triggerID, view); err != nil {
		b.fail(ctx, w, "deny", domain.Wrap(domain.KindUpstream, err, "I couldn't open the form. Please click Deny again."), false)
	}
}

func (b *Bot) deny(ctx context.Context, w where, idText, reason string) {
	id, a, ok := b.decisionInput(ctx, w, idText)
	if !ok {
		return
	}
	req, err := b.svc.DenyRevocation(ctx, a, id, reason)
	if err != nil {
		b.fail(ctx, w, "deny", err, false)
		return
	}
	b.updateRequestMessage(ctx, req)
	b.notifyOutcome(ctx, req)
}

func (b *Bot) decisionInput(ctx context.Context, w where, value string) (int64, domain.Actor, bool) {
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil || id <= 0 {
		b.fail(ctx, w, "decide", domain.Errorf(domain.KindInvalid, "That button is not a revocation request."), false)
		return 0, domain.Actor{}, false
	}
	a, err := b.actor(ctx, w.User)
	if err != nil {
		b.fail(ctx, w, "decide", err, false)
		return 0, domain.Actor{}, false
	}
	return id, a, true
}

// updateRequestMessage rewrites the helpdesk message in place with the
// request's state.
func (b *Bot) updateRequestMessage(ctx context.Context, req domain.RevocationRequest) {
	if req.Channel == "" || req.MessageTS == "" {
		return
	}
	text, blocks := requestMessage(req)
	if _, _, _, err := b.api.UpdateMessageContext(ctx, req.Channel, req.MessageTS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...)); err != nil {
		b.log.ErrorContext(ctx, "request message not updated", "request", req.ID, "err", err)
	}
}

// notifyOutcome tells the employee what was revoked, by whom and why, and
// the requester how it went. No secrets exist at this point to leak.
func (b *Bot) notifyOutcome(ctx context.Context, req domain.RevocationRequest) {
	switch req.Status {
	case domain.RevocationDone, domain.RevocationPartial:
		var removed []string
		for _, it := range req.Items {
			if it.Outcome == domain.OutcomeRemoved {
				removed = append(removed, "*"+escape(it.Password.Name)+"*")
			}
		}
		if len(removed) > 0 && req.TargetSlack != "" {
			msg := fmt.Sprintf(":lock: Your app password(s) %s were revoked at the request of <@%s>, approved by <@%s>. Reason: %s\nDevices using them can no longer sign in. `/apppass create NAME` makes a new one if you still need it.",
				strings.Join(removed, ", "), req.RequesterSlack, req.DecidedSlack, escape(req.Reason))
			b.dmOrLog(ctx, req.TargetSlack, msg)
		}
		b.dmOrLog(ctx, req.RequesterSlack, fmt.Sprintf("Your revocation request #%d for %s was approved by <@%s>: %s.",
			req.ID, escape(req.TargetName), req.DecidedSlack, outcomeSummary(req)))
	case domain.RevocationDenied:
		b.dmOrLog(ctx, req.RequesterSlack, fmt.Sprintf("Your revocation request #%d for %s was denied by <@%s>. Reason: %s",
			req.ID, escape(req.TargetName), req.DecidedSlack, escape(req.DenyReason)))
	case domain.RevocationExpired:
		b.dmOrLog(ctx, req.RequesterSlack, fmt.Sprintf("Your revocation request #%d for %s expired without a decision; nothing was revoked.",
			req.ID, escape(req.TargetName)))
	}
}

func (b *Bot) dmOrLog(ctx context.Context, user, text string) {
	if err := b.DM(ctx, user, text, []slack.Block{section(text)}); err != nil {
		b.log.ErrorContext(ctx, "DM not sent", "user", user, "err", err)
	}
}

// RunRevocationUpkeep expires overdue requests (updating their messages)
// and resumes approvals a crash interrupted, every interval until ctx ends.
func (b *Bot) RunRevocationUpkeep(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		expired, err := b.svc.ExpireRevocations(ctx)
		if err != nil && ctx.Err() == nil {
			b.log.WarnContext(ctx, "expiring revocation requests", "err", err)
		}
		for _, r := range expired {
			b.updateRequestMessage(ctx, r)
			b.notifyOutcome(ctx, r)
		}
		resumed, err := b.svc.ResumeApprovals(ctx, 2*b.cfg.CommandTimeout)
		if err != nil && ctx.Err() == nil {
			b.log.WarnContext(ctx, "resuming approvals", "err", err)
		}
		for _, r := range resumed {
			b.updateRequestMessage(ctx, r)
			b.notifyOutcome(ctx, r)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func scope(r domain.RevocationRequest) string {
	if r.All {
		return fmt.Sprintf("all %d app passwords", len(r.Items))
	}
	if len(r.Items) == 1 {
		return "the app password “" + r.Items[0].Password.Name + "”"
	}
	return fmt.Sprintf("%d app passwords", len(r.Items))
}

func outcomeSummary(r domain.RevocationRequest) string {
	counts := map[string]int{}
	for _, it := range r.Items {
		k := it.Outcome
		if strings.HasPrefix(k, "failed") {
			k = "failed"
		}
		counts[k]++
	}
	var parts []string
	for _, k := range []string{domain.OutcomeRemoved, domain.OutcomeGone, "failed"} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	return strings.Join(parts, ", ")
}

func actorRef(slackID string) string {
	if slackID == "" || slackID == "apppass" {
		return "apppass"
	}
	return "<@" + slackID + ">"
}

func age(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}
