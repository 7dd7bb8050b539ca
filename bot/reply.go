package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
	"github.com/apppass/apppass/logging"
)

// where says how to reach the person who acted: the interaction's
// response URL first, chat.postEphemeral in its channel second.
type where struct {
	ResponseURL string
	Channel     string
	User        string
}

// reply is an ephemeral answer.
type reply struct {
	Text    string // notification fallback, and the body when Blocks is empty
	Blocks  []slack.Block
	Replace bool // replace the message whose button was clicked
}

// escape makes user-supplied text inert in mrkdwn, so no name can mention
// @channel or a user, or forge a link.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// zwsp is U+200B ZERO WIDTH SPACE: invisible, and not a word boundary
// for Slack's mrkdwn, so a formatting character between two of them can
// neither open nor close bold, italics, strike-through or code.
const zwsp = "\u200b"

// verbatim is escape, and also neutralises mrkdwn's formatting
// characters (* _ ~ `), so that a name or reason someone typed is shown
// as typed: it can neither mention, link, nor bold, italicise, strike or
// code-format text in the helpdesk channel.
func verbatim(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;",
		"*", zwsp+"*"+zwsp, "_", zwsp+"_"+zwsp, "~", zwsp+"~"+zwsp, "`", zwsp+"`"+zwsp).Replace(s)
}

// respond answers the person ephemerally: through the response URL, else
// chat.postEphemeral. It returns an error when neither worked.
func (b *Bot) respond(ctx context.Context, w where, r reply) error {
	var errs []error
	if w.ResponseURL != "" {
		err := b.slack.respondTo(ctx, w.ResponseURL, r)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("response url: %w", err))
	}
	if w.Channel != "" && w.User != "" {
		err := b.slack.postEphemeral(ctx, w.Channel, w.User, r)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("chat.postEphemeral: %w", err))
	}
	if len(errs) == 0 {
		return errors.New("no way to reach the person")
	}
	return errors.Join(errs...)
}

// respondOrDM is respond for answers without secrets: when no ephemeral
// path works, it falls back to a DM so the person still learns the outcome.
func (b *Bot) respondOrDM(ctx context.Context, w where, r reply) {
	err := b.respond(ctx, w, r)
	if err == nil {
		return
	}
	b.log.WarnContext(ctx, "ephemeral reply failed; sending a DM", "user", w.User, "err", err)
	if derr := b.slack.DM(ctx, w.User, r.Text, r.Blocks); derr != nil {
		b.log.ErrorContext(ctx, "reply lost", "user", w.User, "err", derr)
	}
}

// carryOut does what an operation left to do.
func (b *Bot) carryOut(ctx context.Context, eff handlers.Effects) {
	for _, text := range eff.Alerts {
		if err := b.slack.AlertHelpdesk(ctx, text); err != nil {
			b.log.ErrorContext(ctx, "helpdesk alert not sent", "err", err)
		}
	}
	b.refreshHomes(ctx, eff.RefreshHome)
}

// fail is the one place an error becomes a reply: the person reads the
// error's safe message and the work's correlation id ("(ref: ab12cd)"),
// which the log lines of the work carry too; internal and upstream
// failures are logged with their cause (response URLs redacted by the
// logger), refusals only with their kind.
func (b *Bot) fail(ctx context.Context, w where, op string, err error, replace bool) {
	kind := domain.KindOf(err)
	runOf(ctx).failed(kind)
	msg := escape(domain.MessageOf(err))
	ctx, ref := workRef(ctx)
	// A refusal Graph gave apppass itself (it carries Graph's request id)
	// is a missing permission of apppass's identity, not the person's:
	// logged as an error with its cause, like an upstream failure.
	graphRefused := kind == domain.KindForbidden && domain.RefOf(err) != ""
	if kind == domain.KindInternal || kind == domain.KindUpstream || graphRefused {
		b.log.ErrorContext(ctx, "command failed", "op", op, "user", w.User, "kind", kind.String(), "graph_ref", domain.RefOf(err), "err", err)
	} else {
		b.log.InfoContext(ctx, "command refused", "op", op, "user", w.User, "kind", kind.String())
		b.alertIdentityConflict(ctx, err)
	}
	msg += " (ref: " + ref + ")"
	b.respondOrDM(ctx, w, reply{Text: msg, Blocks: []slack.Block{section(msg)}, Replace: replace})
}

// workRef returns ctx's correlation id, giving ctx a new one when it has
// none (work the jobs started rather than a person).
func workRef(ctx context.Context) (context.Context, string) {
	if ref := logging.Ref(ctx); ref != "" {
		return ctx, ref
	}
	ref := logging.NewRef()
	return logging.WithRef(ctx, ref), ref
}
