package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/apppass/apppass/domain"
)

// actionHomeCreate is the Home tab's Create button: it opens the same
// modal as `/apppass create`. The Home tab's other buttons are the
// commands' own (delete_confirm, revoke_approve, revoke_deny,
// revoke_retry), handled and re-checked as there.
const actionHomeCreate = "home_create"

// A Home tab is refreshed after a change only when this process published
// it in the last homeViewersTTL (the person opened it, or it was refreshed
// since): publishing a tab nobody has looked at costs Entra reads (roles,
// last use) for nothing, and every opening rebuilds the tab anyway. With
// several replicas, a tab another replica published is fresh again at
// its next opening.
const (
	homeViewersMax = 100000
	homeViewersTTL = 24 * time.Hour
)

// onAppHomeOpened acks at once and publishes the person's Home tab, fresh,
// every time they open it.
func (b *Bot) onAppHomeOpened(evt *socketmode.Event, c *socketmode.Client) {
	ev, ok := evt.Data.(slackevents.EventsAPIEvent)
	if !ok || evt.Request == nil {
		return
	}
	b.ack(c, evt.Request, nil)
	if !b.servedOrg(ev.TeamID, ev.EnterpriseID) {
		b.log.Warn("app_home_opened from another organisation ignored", "team", ev.TeamID, "enterprise", ev.EnterpriseID)
		return
	}
	opened, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent)
	if !ok || opened.Tab != "home" || opened.User == "" {
		return // the Messages tab opens fire the event too
	}
	b.spawn("home", func(ctx context.Context) { b.publishHome(ctx, opened.User) })
}

// onHomeCreate opens the create modal from the Home tab. The Home tab
// has no conversation to answer in, so the new password is shown
// ephemerally in the person's DM with apppass (the Messages tab), the
// one place besides the command's channel only they can see.
func (b *Bot) onHomeCreate(ctx context.Context, userID, triggerID string) {
	dm, err := b.slack.openDM(ctx, userID)
	if err != nil {
		b.fail(ctx, where{User: userID}, "create-modal",
			domain.Wrap(domain.KindUpstream, err, "I couldn't open our conversation. Please use `/apppass create NAME` instead."), false)
		return
	}
	b.openCreateModal(ctx, slack.SlashCommand{TriggerID: triggerID, UserID: userID, ChannelID: dm})
}

// refreshHomes publishes again, after a change that alters them
// (handlers.Effects.RefreshHome), the Home tabs of those among userIDs
// whose tab this process has published.
func (b *Bot) refreshHomes(ctx context.Context, userIDs []string) {
	for _, u := range userIDs {
		if b.homeViewers.Contains(u) {
			b.publishHome(ctx, u)
		}
	}
}

// refreshOnChanges publishes again the Home tabs that revocations the
// jobs published altered (Slack.PublishRevocation), until ctx ends. It
// is one of the Bot's in-flight tasks.
func (b *Bot) refreshOnChanges(ctx context.Context) {
	defer b.inflight.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case ids := <-b.slack.homeChanges:
			rctx, cancel := context.WithTimeout(b.work, b.cfg.CommandTimeout)
			b.refreshHomes(rctx, ids)
			cancel()
		}
	}
}

// publishHome renders userID's Home tab from what handlers.Home says now
// and publishes it. People apppass cannot serve see why; a failure of
// Entra shows a short apology with a reference the logs also carry.
// Publishing failures are logged: the tab is rebuilt at the next open.
func (b *Bot) publishHome(ctx context.Context, userID string) {
	var view slack.HomeTabViewRequest
	a, err := b.actor(ctx, userID)
	if err == nil {
		st, verr := b.h.Home.View(ctx, a)
		if verr == nil {
			view = homeView(st, b.cfg.Now())
		}
		err = verr
	}
	if err != nil {
		view = homeUnavailable(b.homeProblem(ctx, userID, err))
	}
	if err := b.slack.publishHome(ctx, userID, view); err != nil {
		b.log.ErrorContext(ctx, "home tab not published", "user", userID, "err", err)
		return
	}
	b.homeViewers.Add(userID, struct{}{})
}

// homeProblem is the text a Home tab shows instead of the person's
// passwords: the error's safe message, with the work's correlation id
// when it is Entra's or apppass's fault, as fail shows it; the log line
// carries it as "ref", like every line of the work.
func (b *Bot) homeProblem(ctx context.Context, userID string, err error) string {
	msg := escape(domain.MessageOf(err))
	kind := domain.KindOf(err)
	if kind != domain.KindInternal && kind != domain.KindUpstream {
		return msg
	}
	ctx, ref := workRef(ctx)
	b.log.ErrorContext(ctx, "home tab failed", "user", userID, "kind", kind.String(), "graph_ref", domain.RefOf(err), "err", err)
	return msg + fmt.Sprintf("\n_Reference for the helpdesk: `%s`_", escape(ref))
}

// publishHome sets userID's Home tab to view. Never call it with a secret.
func (s *Slack) publishHome(ctx context.Context, userID string, view slack.HomeTabViewRequest) error {
	err := s.retry(ctx, func() error {
		_, err := s.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: userID, View: view})
		return err
	})
	if err != nil {
		return fmt.Errorf("views.publish for %s: %w", userID, err)
	}
	return nil
}

// openDM returns the id of the bot's DM with userID, opening it if need be.
func (s *Slack) openDM(ctx context.Context, userID string) (string, error) {
	var ch *slack.Channel
	err := s.retry(ctx, func() (err error) {
		ch, _, _, err = s.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{userID}})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("open DM with %s: %w", userID, err)
	}
	return ch.ID, nil
}
