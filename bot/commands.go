package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
)

// onSlashCommand acks at once, before any Graph or Slack call, and does
// the work in the background, answering through the response URL.
func (b *Bot) onSlashCommand(evt *socketmode.Event, c *socketmode.Client) {
	cmd, ok := evt.Data.(slack.SlashCommand)
	if !ok || evt.Request == nil {
		return
	}
	w := where{ResponseURL: cmd.ResponseURL, Channel: cmd.ChannelID, User: cmd.UserID}
	if !b.servedOrg(cmd.TeamID, cmd.EnterpriseID) {
		b.log.Warn("slash command from another organisation refused", "team", cmd.TeamID, "enterprise", cmd.EnterpriseID, "user", cmd.UserID)
		b.ack(c, evt.Request, map[string]any{"response_type": "ephemeral", "text": notServedHere})
		b.observe("command", domain.KindForbidden.String())
		return
	}
	parsed, err := parseCommand(cmd.Text)
	if err != nil {
		// Bad input costs nothing: the answer rides on the ack.
		msg := escape(domain.MessageOf(err))
		b.ack(c, evt.Request, map[string]any{"response_type": "ephemeral", "text": msg})
		b.observe(verbOf(cmd.Text), domain.KindOf(err).String())
		return
	}
	b.ack(c, evt.Request, nil)
	switch parsed.Verb {
	case verbCreate:
		if parsed.Name == "" {
			b.spawn("create-modal", func(ctx context.Context) { b.openCreateModal(ctx, cmd) })
			return
		}
		b.spawnAs("create", w, false, func(ctx context.Context, a domain.Actor) { b.create(ctx, w, a, parsed.Name, parsed.Scope) })
	case verbList:
		b.spawnAs("list", w, false, func(ctx context.Context, a domain.Actor) { b.list(ctx, w, a) })
	case verbDelete:
		b.spawnAs("delete", w, false, func(ctx context.Context, a domain.Actor) { b.askDelete(ctx, w, a, parsed.Name, "") })
	case verbRevoke:
		b.spawnAs("revoke", w, false, func(ctx context.Context, a domain.Actor) { b.revoke(ctx, w, a, parsed) })
	case verbRequests:
		b.spawnAs("requests", w, false, func(ctx context.Context, a domain.Actor) { b.requests(ctx, w, a) })
	case verbShow:
		b.spawnAs("show", w, false, func(ctx context.Context, a domain.Actor) { b.show(ctx, w, a, parsed) })
	default:
		b.spawn("help", func(ctx context.Context) { b.help(ctx, w, parsed.Unknown) })
	}
}

// verbOf names the verb of a command that did not parse, from apppass's
// own vocabulary only: "command" when the first word is none of it.
func verbOf(text string) string {
	word, _ := cutWord(text)
	if v := verb(strings.ToLower(word)); slices.Contains(verbs, v) {
		return string(v)
	}
	return "command"
}

func (b *Bot) ack(c *socketmode.Client, req *socketmode.Request, payload any) {
	var err error
	if payload == nil {
		err = c.Ack(*req)
	} else {
		err = c.Ack(*req, payload)
	}
	if err != nil {
		b.log.Warn("ack failed", "envelope", req.EnvelopeID, "err", err)
	}
}

func (b *Bot) help(ctx context.Context, w where, unknown string) {
	text := usage(unknown)
	a, err := b.actor(ctx, w.User)
	if err == nil {
		var n int
		if n, err = b.h.Passwords.Count(ctx, a); err == nil {
			text += fmt.Sprintf("\n\nYou hold *%d of %d* app passwords.", n, b.h.Passwords.Limits().MaxPerUser)
		}
		if may, merr := b.h.Passwords.MayCreate(ctx, a); merr == nil && !may {
			text += "\n_Creating app passwords is limited to a group you are not in: you can list and delete yours, and the helpdesk can add you to the group._"
		}
	}
	if err != nil {
		text += "\n\n" + escape(domain.MessageOf(err))
	}
	b.respondOrDM(ctx, w, reply{Text: text, Blocks: []slack.Block{section(text)}})
}

func usage(unknown string) string {
	s := ""
	if unknown != "" {
		s = fmt.Sprintf("I don't know `%s`. ", escape(domain.Clip(unknown, 40)))
	}
	return s + "*apppass* manages your Microsoft 365 app passwords, for mail apps and devices that can't do modern sign-in.\n" +
		"• `/apppass create NAME` — a new app password, named for the device (e.g. `iPhone Mail`); shown to you once. It sends mail only; add `--read` to let it read mail (IMAP, POP3) too, and `--from 192.0.2.0/24` to limit the networks it works from\n" +
		"• `/apppass list` — your app passwords, with a Delete button each\n" +
		"• `/apppass delete NAME` — delete one (asks to confirm)\n" +
		"• `/apppass help` — this message\n" +
		"_Admins:_ `/apppass revoke @person|EMAIL [more people…] NAME|--all REASON` (up to 50 people; a helpdesk member approves), `/apppass requests`\n" +
		"_Helpdesk:_ `/apppass requests`, `/apppass show @person|EMAIL`"
}

func (b *Bot) list(ctx context.Context, w where, a domain.Actor) {
	l, err := b.h.Passwords.List(ctx, a)
	if err != nil {
		b.fail(ctx, w, "list", err, false)
		return
	}
	blocks := listingBlocks(l, "")
	b.respondOrDM(ctx, w, reply{Text: fmt.Sprintf("You hold %d of %d app passwords.", len(l.Passwords), l.Max), Blocks: blocks})
}

// create makes the password and delivers it in one ephemeral message. If
// that message cannot be shown, the password is removed again and the
// person is told (SPEC §4): no secret exists that nobody holds.
func (b *Bot) create(ctx context.Context, w where, a domain.Actor, name string, scope domain.Scope) {
	if !b.writeAllowed(ctx, w, "create") {
		return
	}
	issued, eff, err := b.h.Passwords.CreateScoped(ctx, a, name, scope)
	b.carryOut(ctx, eff)
	if err != nil {
		if domain.KindOf(err) == domain.KindLimit {
			if l, lerr := b.h.Passwords.List(ctx, a); lerr == nil {
				msg := escape(domain.MessageOf(err))
				b.respondOrDM(ctx, w, reply{Text: msg, Blocks: listingBlocks(l, msg)})
				return
			}
		}
		b.fail(ctx, w, "create", err, false)
		return
	}
	// The delivery, and the apology when it fails, get their own deadline:
	// a slow Graph may have used up most of the command's.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deliveryTimeout)
	defer cancel()
	if derr := b.respond(dctx, w, secretReply(issued.Created, b.cfg.Gateway, a.Email)); derr != nil {
		uerr := issued.Undeliverable(dctx, derr)
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), deliveryTimeout)
		defer rcancel()
		b.fail(rctx, w, "create", uerr, false)
		return
	}
	issued.Delivered(dctx)
	b.carryOut(ctx, handlers.OwnChange(a))
}

// deliveryTimeout bounds the delivery of a new secret, and separately the
// reply saying it was removed again, each from a fresh deadline.
const deliveryTimeout = 10 * time.Second

// writeAllowed counts a create or delete by the person of w against their
// rate, and tells them when it is exceeded.
func (b *Bot) writeAllowed(ctx context.Context, w where, op string) bool {
	if b.writes.allow(ctx, w.User) {
		return true
	}
	b.fail(ctx, w, op, domain.Errorf(domain.KindLimit,
		"You have created or deleted %d app passwords in the last minute, the most apppass allows. Please wait a minute and try again.", writesPerWindow), false)
	return false
}

const createModalID = "apppass_create"

// modalMeta travels in the modal's private_metadata, so the submission
// can answer where the command was typed.
type modalMeta struct {
	Channel     string `json:"c"`
	ResponseURL string `json:"r"`
}

// scopeInput offers what the password may do (SPEC §16): sending is on
// by default, reading is opt-in.
func scopeInput() slack.Block {
	send := slack.NewOptionBlockObject("send", plain("Send mail (SMTP)"), nil)
	read := slack.NewOptionBlockObject("read", plain("Read mail (IMAP, POP3)"), nil)
	boxes := slack.NewCheckboxGroupsBlockElement("scope", send, read)
	boxes.InitialOptions = []*slack.OptionBlockObject{send}
	return slack.NewInputBlock("scope", plain("It may"), nil, boxes)
}

// networksInput is the optional --from field.
func networksInput() slack.Block {
	in := slack.NewPlainTextInputBlockElement(plain("e.g. 192.0.2.0/24, 198.51.100.7"), "networks")
	in.MaxLength = 500
	b := slack.NewInputBlock("networks", plain("Only from these networks (optional)"), nil, in)
	b.Optional = true
	return b
}

// modalScope reads the create form's scope fields.
func modalScope(values map[string]map[string]slack.BlockAction) (domain.Scope, error) {
	var sc domain.Scope
	if _, ok := values["scope"]; !ok {
		sc.Send = true // a form without the choice (opened before it existed): send-only
	}
	for _, o := range values["scope"]["scope"].SelectedOptions {
		switch o.Value {
		case "send":
			sc.Send = true
		case "read":
			sc.Read = true
		}
	}
	if !sc.Send && !sc.Read {
		return sc, domain.Errorf(domain.KindInvalid, "Choose what the password may do: send mail, read mail, or both.")
	}
	if nets := strings.TrimSpace(values["networks"]["networks"].Value); nets != "" {
		n, err := domain.ParseNetworks(nets)
		if err != nil {
			return sc, err
		}
		sc.Networks = n
	}
	return sc, nil
}

func (b *Bot) openCreateModal(ctx context.Context, cmd slack.SlashCommand) {
	meta, _ := json.Marshal(modalMeta{Channel: cmd.ChannelID, ResponseURL: cmd.ResponseURL})
	input := slack.NewPlainTextInputBlockElement(plain("e.g. iPhone Mail"), "name")
	input.MaxLength = domain.MaxNameLength
	view := slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      createModalID,
		Title:           plain("New app password"),
		Submit:          plain("Create"),
		Close:           plain("Cancel"),
		PrivateMetadata: string(meta),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("name", plain("Name it after the device or app that will use it"), nil, input),
			scopeInput(),
			networksInput(),
			contextBlock("The password will be shown to you once, in this conversation, visible only to you."),
		}},
	}
	if err := b.slack.openView(ctx, cmd.TriggerID, view); err != nil {
		b.fail(ctx, where{ResponseURL: cmd.ResponseURL, Channel: cmd.ChannelID, User: cmd.UserID}, "create-modal",
			domain.Wrap(domain.KindUpstream, err, "I couldn't open the form. Please use `/apppass create NAME` instead."), false)
	}
}
