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

// publishTimeout bounds telling everyone of a decision: the helpdesk
// message and a DM to each of up to 50 people and the requester.
const publishTimeout = 60 * time.Second

func (b *Bot) revoke(ctx context.Context, w where, a domain.Actor, cmd command) {
	if b.cfg.HelpdeskChannel == "" {
		b.fail(ctx, w, "revoke", domain.Errorf(domain.KindInvalid, "Revocations are not set up: APPPASS_HELPDESK_CHANNEL is missing. Please tell the apppass administrator."), false)
		return
	}
	targets := make([]domain.Actor, 0, len(cmd.People))
	for _, p := range cmd.People {
		t, err := b.target(ctx, p)
		if err != nil {
			if len(cmd.People) > 1 {
				err = domain.Wrap(domain.KindOf(err), err, personLabel(p)+": "+domain.MessageOf(err))
			}
			b.fail(ctx, w, "revoke", err, false)
			return
		}
		targets = append(targets, t)
	}
	req, err := b.h.Revocations.Request(ctx, a, targets, cmd.Name, cmd.All, cmd.Reason)
	if err != nil {
		b.fail(ctx, w, "revoke", err, false)
		return
	}
	text, blocks := requestMessage(req)
	ts, err := b.slack.post(ctx, b.cfg.HelpdeskChannel, text, blocks)
	if err != nil {
		if cerr := b.h.Revocations.Cancel(ctx, req.ID); cerr != nil {
			b.log.ErrorContext(ctx, "could not withdraw unposted request", "request", req.ID, "err", cerr)
		}
		b.fail(ctx, w, "revoke", domain.Wrap(domain.KindUpstream, err, "I couldn't post the request to the helpdesk channel, so it was withdrawn. Please try again."), false)
		return
	}
	if err := b.h.Revocations.Posted(ctx, req.ID, b.cfg.HelpdeskChannel, ts); err != nil {
		b.log.ErrorContext(ctx, "request message not recorded", "request", req.ID, "err", err)
	}
	defer b.carryOut(ctx, handlers.RevocationChange(req))
	msg := fmt.Sprintf("Request *#%d* is filed: revoke %s of %s. The helpdesk decides in <#%s>; you'll get a DM with the outcome.",
		req.ID, verbatim(scope(req)), whom(req), b.cfg.HelpdeskChannel)
	b.respondOrDM(ctx, w, reply{Text: msg, Blocks: []slack.Block{section(msg)}})
}

func (b *Bot) requests(ctx context.Context, w where, a domain.Actor) {
	reqs, err := b.h.Revocations.Pending(ctx, a)
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
		lines = append(lines, fmt.Sprintf("• *#%d* %s — %s of %s, asked by %s %s: %s",
			r.ID, r.Status, verbatim(scope(r)), whom(r), actorRef(r.RequesterSlack), domain.Ago(b.cfg.Now(), r.CreatedAt), clip(verbatim(r.Reason), 300)))
	}
	waiting := domain.Count(len(reqs), "revocation request", "revocation requests") + " waiting"
	text := fmt.Sprintf("*%s*\n%s", waiting, joinRows(lines, maxSectionText-40, andMore))
	b.respondOrDM(ctx, w, reply{Text: waiting, Blocks: []slack.Block{section(text)}})
}

func (b *Bot) show(ctx context.Context, w where, a domain.Actor, cmd command) {
	target, err := b.target(ctx, cmd.People[0])
	if err != nil {
		b.fail(ctx, w, "show", err, false)
		return
	}
	p, err := b.h.Passwords.Show(ctx, a, target)
	if err != nil {
		b.fail(ctx, w, "show", err, false)
		return
	}
	blocks := []slack.Block{header(fmt.Sprintf("%s — %d of %d app passwords", p.Owner.UserPrincipalName, len(p.Passwords), p.Max))}
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
	blocks = append(blocks, section(joinRows(rows, maxSectionText, andMore)))
	var events []string
	for _, e := range p.Events {
		events = append(events, eventLine(e, p))
	}
	if len(events) > 0 {
		blocks = append(blocks, section("*Recent activity*\n"+joinRows(events, maxSectionText-20, andMore)))
	}
	b.respondOrDM(ctx, w, reply{Text: "App passwords of " + escape(p.Owner.UserPrincipalName), Blocks: blocks})
}

func (b *Bot) approve(ctx context.Context, w where, a domain.Actor, value string) {
	id, ok := b.requestID(ctx, w, value)
	if !ok {
		return
	}
	req, err := b.h.Revocations.Approve(ctx, a, id)
	if err != nil {
		b.fail(ctx, w, "approve", err, false)
		return
	}
	// The approval may have used most of the click's time (a request for
	// 50 people); telling them has a deadline of its own.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := b.h.Revocations.Told(pctx, req.ID, b.slack.publishRevocation(pctx, req)); err != nil {
		// At worst someone is told a second time at a Retry.
		b.log.ErrorContext(ctx, "revocation notices not recorded", "request", req.ID, "err", err)
	}
	b.carryOut(ctx, handlers.RevocationChange(req))
}

// openDenyModal asks for the reason of a denial. It makes no other call
// before views.open: the trigger id is valid for 3 s only. Deny checks
// who may decide when the form is submitted.
func (b *Bot) openDenyModal(ctx context.Context, w where, triggerID, value string) {
	id, ok := b.requestID(ctx, w, value)
	if !ok {
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
	if err := b.slack.openView(ctx, triggerID, view); err != nil {
		b.fail(ctx, w, "deny", domain.Wrap(domain.KindUpstream, err, "I couldn't open the form. Please click Deny again."), false)
	}
}

func (b *Bot) deny(ctx context.Context, w where, a domain.Actor, idText, reason string) {
	id, ok := b.requestID(ctx, w, idText)
	if !ok {
		return
	}
	req, err := b.h.Revocations.Deny(ctx, a, id, reason)
	if err != nil {
		b.fail(ctx, w, "deny", err, false)
		return
	}
	b.slack.publishRevocation(ctx, req)
	b.carryOut(ctx, handlers.RevocationChange(req))
}

// requestID reads a revocation request id from a button's value, or
// tells the person it is not one.
func (b *Bot) requestID(ctx context.Context, w where, value string) (int64, bool) {
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil || id <= 0 {
		b.fail(ctx, w, "decide", domain.Errorf(domain.KindInvalid, "That button is not a revocation request."), false)
		return 0, false
	}
	return id, true
}

// target is a person a revoke or show names: by mention, their Slack
// profile, read even when the account is deactivated (the usual case for
// a leaver: users.info still shows the profile email); by email address,
// that address, with their Slack id when Slack still finds them. Bots are
// refused. Handlers then look the person up in Entra.
func (b *Bot) target(ctx context.Context, p personRef) (domain.Actor, error) {
	if p.Email != "" {
		t := domain.Actor{Email: p.Email}
		if u, err := b.slack.userByEmail(ctx, p.Email); err == nil && !u.IsBot {
			t.SlackID, t.Name = u.ID, u.RealName
		}
		return t, nil
	}
	u, err := b.slack.userInfo(ctx, p.Slack)
	if err != nil {
		return domain.Actor{}, domain.Wrap(domain.KindUpstream, fmt.Errorf("users.info %s: %w", p.Slack, err),
			"Slack did not tell me who that is. Please try again in a minute, or name the person by email address.")
	}
	if u.IsBot {
		return domain.Actor{}, domain.Errorf(domain.KindNotFound, "That is a bot, not a person.")
	}
	return domain.Actor{SlackID: u.ID, Email: u.Profile.Email, Name: u.RealName}, nil
}

// personLabel names a person as the admin named them, for a refusal
// that must say which of several it is about; bot.fail escapes it.
func personLabel(p personRef) string {
	if p.Email != "" {
		return p.Email
	}
	return "Slack user " + p.Slack
}

// scope says which passwords r covers, as plain text (escape it).
func scope(r domain.RevocationRequest) string {
	switch {
	case r.All && len(r.Items) == 1:
		return "the one app password"
	case r.All:
		return fmt.Sprintf("all %d app passwords", len(r.Items))
	case len(r.Items) == 1:
		return "the app password “" + r.Items[0].Password.Name + "”"
	case len(r.Items) > 0 && len(r.Targets) > 1:
		return fmt.Sprintf("%d app passwords called “%s”", len(r.Items), r.Items[0].Password.Name)
	}
	return fmt.Sprintf("%d app passwords", len(r.Items))
}

// whom names r's people for a one-line mention, escaped: "alice@x" for
// one, "3 people (alice@x, bob@x and carol@x)" for several, the rest
// counted beyond a few.
func whom(r domain.RevocationRequest) string {
	names := r.TargetNames()
	for i := range names {
		names[i] = verbatim(names[i])
	}
	if len(names) == 1 {
		return names[0]
	}
	return fmt.Sprintf("%d people (%s)", len(names), domain.List(names, 5))
}

func outcomeSummary(r domain.RevocationRequest) string {
	counts := map[string]int{}
	for _, it := range r.Items {
		k := it.Outcome
		switch {
		case strings.HasPrefix(k, "failed"):
			k = "failed"
		case k == "":
			k = "not reached yet" // the approval ran out of time first
		}
		counts[k]++
	}
	var parts []string
	for _, k := range []string{domain.OutcomeRemoved, domain.OutcomeGone, "failed", "not reached yet"} {
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

// eventLine is one audit event in /apppass show. The gateway's events
// have no Slack actor: the owner acted, through a device, with one of
// their passwords, which is named when it still exists.
func eventLine(e domain.AuditEvent, p handlers.Profile) string {
	actor := actorRef(e.ActorSlack)
	if e.ActorSlack == "" && e.ActorID != "" && e.ActorID == p.Owner.ID {
		actor = escape(p.Owner.UserPrincipalName)
		if name := passwordName(p.Passwords, e.KeyID); name != "" {
			actor += " with *" + escape(name) + "*"
		}
	}
	return fmt.Sprintf("• %s %s %s by %s: %s", e.At.UTC().Format("2006-01-02 15:04"), escape(e.Action),
		escape(e.Name), actor, escape(e.Outcome))
}

// passwordName is the name of the password keyID, or "" when it is gone.
func passwordName(passwords []domain.Password, keyID string) string {
	if keyID == "" {
		return ""
	}
	for _, pw := range passwords {
		if pw.KeyID == keyID {
			return pw.Name
		}
	}
	return ""
}
