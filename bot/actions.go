package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
)

// Action ids of apppass's buttons. Their values carry a key id only; who
// may act is decided again from the clicking user.
const (
	actionDeleteAsk     = "delete_ask"
	actionDeleteConfirm = "delete_confirm"
	actionDeleteCancel  = "delete_cancel"
)

func (b *Bot) onBlockActions(evt *socketmode.Event, c *socketmode.Client) {
	cb, ok := evt.Data.(slack.InteractionCallback)
	if !ok || evt.Request == nil {
		return
	}
	b.ack(c, evt.Request, nil)
	if len(cb.ActionCallback.BlockActions) == 0 {
		return
	}
	act := cb.ActionCallback.BlockActions[0]
	w := where{ResponseURL: cb.ResponseURL, Channel: cb.Channel.ID, User: cb.User.ID}
	if w.Channel == "" {
		w.Channel = cb.Container.ChannelID
	}
	if !b.servedOrg(cb.Team.ID, cb.Enterprise.ID) {
		b.log.Warn("click from another organisation refused", "team", cb.Team.ID, "enterprise", cb.Enterprise.ID, "user", cb.User.ID)
		b.spawn("click", func(ctx context.Context) {
			runOf(ctx).failed(domain.KindForbidden)
			b.respondOrDM(ctx, w, reply{Text: notServedHere, Blocks: []slack.Block{section(notServedHere)}})
		})
		return
	}
	switch act.ActionID {
	case actionDeleteAsk:
		b.spawnAs("delete", w, false, func(ctx context.Context, a domain.Actor) { b.askDelete(ctx, w, a, "", act.Value) })
	case actionDeleteConfirm:
		b.spawnAs("delete", w, true, func(ctx context.Context, a domain.Actor) { b.confirmDelete(ctx, w, a, act.Value) })
	case actionDeleteCancel:
		b.spawn("delete-cancel", func(ctx context.Context) {
			b.respondOrDM(ctx, w, reply{Text: "Cancelled. Nothing was deleted.", Replace: true})
		})
	case actionRevokeApprove, actionRevokeRetry:
		b.spawnAs("approve", w, false, func(ctx context.Context, a domain.Actor) { b.approve(ctx, w, a, act.Value) })
	case actionHomeCreate:
		b.spawn("create-modal", func(ctx context.Context) { b.onHomeCreate(ctx, w.User, cb.TriggerID) })
	case actionRevokeDeny:
		// The trigger id expires 3 s after the click: the form opens
		// first, with no Slack or Graph look-up; who may deny is decided
		// when it is submitted.
		b.spawn("deny", func(ctx context.Context) { b.openDenyModal(ctx, w, cb.TriggerID, act.Value) })
	default:
		b.log.Info("unknown action", "action_id", act.ActionID)
	}
}

// askDelete shows a confirmation for the password called name, or with
// key id keyID.
func (b *Bot) askDelete(ctx context.Context, w where, a domain.Actor, name, keyID string) {
	var p domain.Password
	var err error
	if keyID != "" {
		p, err = b.h.Passwords.FindByKey(ctx, a, keyID)
	} else {
		p, err = b.h.Passwords.Find(ctx, a, name)
	}
	if err != nil {
		b.fail(ctx, w, "delete", err, false)
		return
	}
	text := fmt.Sprintf("Delete the app password *%s* (created %s, starts with `%s…`)? Anything signing in with it stops working. This cannot be undone.",
		verbatim(p.Name), day(p.Created), escape(p.Hint))
	confirm := button(actionDeleteConfirm, p.KeyID, "Delete")
	confirm.Style = slack.StyleDanger
	cancel := button(actionDeleteCancel, p.KeyID, "Cancel")
	b.respondOrDM(ctx, w, reply{Text: "Delete " + verbatim(p.Name) + "?", Blocks: []slack.Block{
		section(text), slack.NewActionBlock("delete", confirm, cancel),
	}})
}

func (b *Bot) confirmDelete(ctx context.Context, w where, a domain.Actor, keyID string) {
	if !b.writeAllowed(ctx, w, "delete") {
		return
	}
	p, err := b.h.Passwords.Delete(ctx, a, keyID)
	if err != nil {
		b.fail(ctx, w, "delete", err, true)
		return
	}
	text := fmt.Sprintf(":wastebasket: Deleted *%s*. Devices using it can no longer sign in.", verbatim(p.Name))
	b.respondOrDM(ctx, w, reply{Text: text, Blocks: []slack.Block{section(text)}, Replace: true})
	b.carryOut(ctx, handlers.OwnChange(a))
}

// onViewSubmission handles the create modal: a bad name is answered in
// the modal itself; a good one closes it and the password follows
// ephemerally where the command was typed.
func (b *Bot) onViewSubmission(evt *socketmode.Event, c *socketmode.Client) {
	cb, ok := evt.Data.(slack.InteractionCallback)
	if !ok || evt.Request == nil {
		return
	}
	if !b.servedOrg(cb.Team.ID, cb.Enterprise.ID) {
		b.log.Warn("submission from another organisation refused", "team", cb.Team.ID, "enterprise", cb.Enterprise.ID, "user", cb.User.ID)
		b.ack(c, evt.Request, nil)
		b.observe("submission", domain.KindForbidden.String())
		return
	}
	if cb.View.CallbackID == denyModalID {
		reason := domain.CleanReason(cb.View.State.Values["reason"]["reason"].Value)
		if reason == "" {
			b.ack(c, evt.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{"reason": "Please give a reason; the requester will be told it."}))
			return
		}
		b.ack(c, evt.Request, nil)
		w := where{Channel: b.cfg.HelpdeskChannel, User: cb.User.ID}
		b.spawnAs("deny", w, false, func(ctx context.Context, a domain.Actor) { b.deny(ctx, w, a, cb.View.PrivateMetadata, reason) })
		return
	}
	if cb.View.CallbackID != createModalID {
		b.ack(c, evt.Request, nil)
		return
	}
	name := cb.View.State.Values["name"]["name"].Value
	clean, err := domain.NormalizeName(name)
	if err != nil {
		b.ack(c, evt.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{"name": formError(domain.MessageOf(err))}))
		return
	}
	if stored, dup := b.takenName(cb.User.ID, clean); dup {
		b.ack(c, evt.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{"name": formError(
			fmt.Sprintf("You already have an app password called “%s”. Choose another name, or delete that one first.", stored))}))
		return
	}
	scope, err := modalScope(cb.View.State.Values)
	if err != nil {
		field := "scope"
		if scope.Send || scope.Read {
			field = "networks"
		}
		b.ack(c, evt.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{field: domain.MessageOf(err)}))
		return
	}
	b.ack(c, evt.Request, nil)
	var meta modalMeta
	_ = json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta)
	w := where{ResponseURL: meta.ResponseURL, Channel: meta.Channel, User: cb.User.ID}
	b.spawnAs("create", w, false, func(ctx context.Context, a domain.Actor) { b.create(ctx, w, a, name, scope) })
}

// formNameCheck bounds the duplicate check of a form submission, which
// must be answered well inside Slack's 3 seconds; a slower Entra leaves
// the check to Create, which refuses in a message instead.
const formNameCheck = 1500 * time.Millisecond

// takenName reports whether userID already holds a password called name
// (ignoring case), and that password's name as stored, so that the form
// can say so under the field and keep what was typed.
func (b *Bot) takenName(userID, name string) (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), formNameCheck)
	defer cancel()
	a, err := b.actor(ctx, userID)
	if err != nil {
		return "", false
	}
	l, err := b.h.Passwords.List(ctx, a)
	if err != nil {
		return "", false
	}
	for _, p := range l.Passwords {
		if domain.SameName(p.Name, name) {
			return p.Name, true
		}
	}
	return "", false
}

// formError makes an error message plain text for a form field, where
// Slack shows no mrkdwn: code formatting would show as backticks.
func formError(msg string) string {
	return strings.ReplaceAll(msg, "`", "")
}
