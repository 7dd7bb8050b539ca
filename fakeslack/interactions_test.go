package fakeslack_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/apppass/apppass/fakeslack"
)

func TestSlashCommandAckedWithPayload(t *testing.T) {
	s := fakeslack.New(t)
	s.AddUser(fakeslack.User{ID: "U1", Name: "alice"})
	cmds := make(chan slack.SlashCommand, 1)
	startBot(t, s, func(c *socketmode.Client, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			cmd := evt.Data.(slack.SlashCommand)
			cmds <- cmd
			_ = c.Ack(*evt.Request, map[string]any{"text": "working on " + cmd.Text})
		}
	})
	it, err := s.SlashCommand(testCtx(t), "U1", "C1", "/apppass", "<@U123|alice> --all lost phone")
	if err != nil {
		t.Fatal(err)
	}
	cmd := <-cmds
	if cmd.UserName != "alice" || cmd.Text != "<@U123|alice> --all lost phone" || cmd.ResponseURL != it.ResponseURL ||
		cmd.TriggerID != it.TriggerID || cmd.TeamID != fakeslack.TeamID || cmd.APIAppID != fakeslack.AppID || cmd.Command != "/apppass" {
		t.Fatalf("command = %+v", cmd)
	}
	var ack struct{ Text string }
	if err := json.Unmarshal(it.AckPayload, &ack); err != nil || ack.Text != "working on "+cmd.Text {
		t.Fatalf("ack payload %s: %v", it.AckPayload, err)
	}
	if it.AckLatency() <= 0 || it.AckLatency() > 3*time.Second {
		t.Fatalf("ack latency %v", it.AckLatency())
	}
	acks := s.CallsTo(it.EnvelopeID)
	if len(acks) != 1 || acks[0].Kind != fakeslack.KindAck {
		t.Fatalf("ack calls = %+v", acks)
	}
	msgs := s.MessagesIn("C1")
	if len(msgs) != 1 || msgs[0].Via != fakeslack.ViaAck || !msgs[0].Ephemeral || msgs[0].User != "U1" {
		t.Fatalf("messages = %+v", msgs)
	}
}

func TestResponseURL(t *testing.T) {
	s := fakeslack.New(t)
	startBot(t, s, ackAll)
	ctx := testCtx(t)
	it, err := s.SlashCommand(ctx, "U1", "C1", "/apppass", "")
	if err != nil {
		t.Fatal(err)
	}
	api := newAPI(s)
	post := func(opts ...slack.MsgOption) error {
		_, _, err := api.PostMessageContext(ctx, "", opts...)
		return err
	}
	if err := post(slack.MsgOptionResponseURL(it.ResponseURL, slack.ResponseTypeEphemeral), slack.MsgOptionText("step 1", false)); err != nil {
		t.Fatal(err)
	}
	if err := post(slack.MsgOptionReplaceOriginal(it.ResponseURL), slack.MsgOptionText("step 2", false)); err != nil {
		t.Fatal(err)
	}
	msgs := s.MessagesIn("C1")
	if len(msgs) != 1 || msgs[0].Text != "step 2" || msgs[0].ResponseURL != it.ResponseID || !msgs[0].ReplaceOriginal || msgs[0].Edits != 1 {
		t.Fatalf("messages = %+v", msgs)
	}
	if calls := s.CallsTo(it.ResponseID); len(calls) != 2 || calls[1].Kind != fakeslack.KindResponseURL || calls[1].Params["replace_original"] != "true" {
		t.Fatalf("calls = %+v", calls)
	}

	s.FailResponseURLs(404)
	var sc slack.StatusCodeError
	if err := post(slack.MsgOptionResponseURL(it.ResponseURL, slack.ResponseTypeInChannel), slack.MsgOptionText("x", false)); !errors.As(err, &sc) || sc.Code != 404 {
		t.Fatalf("with FailResponseURLs: %v", err)
	}
	s.FailResponseURLs(0)
	for i := 3; i <= 5; i++ { // 5 posts are allowed, the failed one did not count
		if err := post(slack.MsgOptionResponseURL(it.ResponseURL, slack.ResponseTypeInChannel), slack.MsgOptionText("x", false)); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	if err := post(slack.MsgOptionResponseURL(it.ResponseURL, slack.ResponseTypeInChannel), slack.MsgOptionText("x", false)); !errors.As(err, &sc) || sc.Code != 404 {
		t.Fatalf("6th post: %v", err)
	}

	it2, err := s.SlashCommand(ctx, "U1", "C1", "/apppass", "")
	if err != nil {
		t.Fatal(err)
	}
	s.SetNow(func() time.Time { return time.Now().Add(31 * time.Minute) })
	if err := slack.PostWebhookContext(ctx, it2.ResponseURL, &slack.WebhookMessage{Text: "late"}); err == nil {
		t.Fatal("post to an expired response URL succeeded")
	}
}

func TestBlockActionReplacesOriginal(t *testing.T) {
	s := fakeslack.New(t)
	s.AddUser(fakeslack.User{ID: "U1", Name: "alice"})
	s.AddChannel("C1")
	api := newAPI(s)
	clicks := make(chan slack.InteractionCallback, 1)
	startBot(t, s, func(c *socketmode.Client, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeInteractive {
			cb := evt.Data.(slack.InteractionCallback)
			_ = c.Ack(*evt.Request)
			_, _, _ = api.PostMessage("", slack.MsgOptionReplaceOriginal(cb.ResponseURL), slack.MsgOptionText("approved", false))
			clicks <- cb
		}
	})
	btn := slack.NewButtonBlockElement("approve", "req-1", slack.NewTextBlockObject("plain_text", "Approve", false, false))
	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("approve?", false), slack.MsgOptionBlocks(slack.NewActionBlock("b1", btn)))
	if err != nil {
		t.Fatal(err)
	}
	it, err := s.BlockAction(testCtx(t), "U1", fakeslack.Action{ChannelID: "C1", MessageTS: ts, ActionID: "approve", BlockID: "b1", Value: "req-1"})
	if err != nil {
		t.Fatal(err)
	}
	cb := <-clicks
	a := cb.ActionCallback.BlockActions
	if cb.Type != slack.InteractionTypeBlockActions || len(a) != 1 || a[0].ActionID != "approve" || a[0].Value != "req-1" ||
		cb.Container.Type != "message" || cb.Container.MessageTs != ts || cb.Channel.ID != "C1" || cb.Message.Text != "approve?" ||
		cb.User.ID != "U1" || cb.User.Name != "alice" || cb.TriggerID != it.TriggerID {
		t.Fatalf("callback = %+v", cb)
	}
	msgs := s.MessagesIn("C1")
	if len(msgs) != 1 || msgs[0].Text != "approved" || msgs[0].ResponseURL != it.ResponseID || msgs[0].Blocks != nil {
		t.Fatalf("messages = %+v", msgs)
	}
}

func TestViews(t *testing.T) {
	s := fakeslack.New(t)
	s.AddUser(fakeslack.User{ID: "U1", Name: "alice"})
	api := newAPI(s)
	opened := make(chan error, 4)
	submitted := make(chan slack.InteractionCallback, 2)
	modal := func(title string) slack.ModalViewRequest {
		input := slack.NewInputBlock("reason", slack.NewTextBlockObject("plain_text", "Reason", false, false), nil,
			slack.NewPlainTextInputBlockElement(nil, "reason_input"))
		return slack.ModalViewRequest{
			Type: slack.VTModal, Title: slack.NewTextBlockObject("plain_text", title, false, false),
			Submit: slack.NewTextBlockObject("plain_text", "Go", false, false), CallbackID: "reset",
			PrivateMetadata: "pm-1", Blocks: slack.Blocks{BlockSet: []slack.Block{input}},
		}
	}
	startBot(t, s, func(c *socketmode.Client, evt socketmode.Event) {
		switch evt.Type {
		case socketmode.EventTypeSlashCommand:
			cmd := evt.Data.(slack.SlashCommand)
			_ = c.Ack(*evt.Request)
			_, err := api.OpenView(cmd.TriggerID, modal(cmd.Text))
			opened <- err
			if err == nil {
				_, err = api.OpenView(cmd.TriggerID, modal(cmd.Text))
				opened <- err
			}
		case socketmode.EventTypeInteractive:
			cb := evt.Data.(slack.InteractionCallback)
			if cb.Type != slack.InteractionTypeViewSubmission {
				_ = c.Ack(*evt.Request)
				return
			}
			if cb.View.State.Values["reason"]["reason_input"].Value == "" {
				_ = c.Ack(*evt.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{"reason": "required"}))
			} else {
				_ = c.Ack(*evt.Request)
			}
			submitted <- cb
		}
	})
	ctx := testCtx(t)
	if _, err := s.SlashCommand(ctx, "U1", "C1", "/apppass", "a title that is far too long for Slack"); err != nil {
		t.Fatal(err)
	}
	if err := <-opened; slackErr(t, err) != "invalid_arguments" {
		t.Fatalf("long title: %v", err)
	}
	if _, err := s.SlashCommand(ctx, "U1", "C1", "/apppass", "Reset"); err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
	if err := <-opened; slackErr(t, err) != "trigger_exchanged" {
		t.Fatalf("trigger reuse: %v", err)
	}
	views := s.OpenedViews()
	if len(views) != 1 || !strings.HasPrefix(views[0].ID, "V") || views[0].CallbackID != "reset" || views[0].PrivateMetadata != "pm-1" {
		t.Fatalf("views = %+v", views)
	}
	id := views[0].ID

	it, err := s.ViewSubmission(ctx, "U1", id, map[string]map[string]string{"reason": {"reason_input": ""}})
	if err != nil {
		t.Fatal(err)
	}
	if cb := <-submitted; cb.Type != slack.InteractionTypeViewSubmission || cb.View.ID != id || cb.View.CallbackID != "reset" || cb.View.PrivateMetadata != "pm-1" {
		t.Fatalf("submission = %+v", cb)
	}
	var resp slack.ViewSubmissionResponse
	if err := json.Unmarshal(it.AckPayload, &resp); err != nil || resp.ResponseAction != slack.RAErrors || resp.Errors["reason"] != "required" {
		t.Fatalf("ack payload %s: %v", it.AckPayload, err)
	}
	if v, _ := s.View(id); v.Closed {
		t.Fatal("view closed after errors")
	}
	if _, err := s.ViewSubmission(ctx, "U1", id, map[string]map[string]string{"reason": {"reason_input": "lost phone"}}); err != nil {
		t.Fatal(err)
	}
	if cb := <-submitted; cb.View.State.Values["reason"]["reason_input"].Value != "lost phone" {
		t.Fatalf("state = %+v", cb.View.State)
	}
	if v, _ := s.View(id); !v.Closed {
		t.Fatal("view still open after empty ack")
	}
	if _, err := s.ViewSubmission(ctx, "U1", id, nil); !errors.Is(err, fakeslack.ErrUnknownView) {
		t.Fatalf("submitting a closed view: %v", err)
	}

	it, err = s.BlockAction(ctx, "U1", fakeslack.Action{ChannelID: "C1", ActionID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	s.SetNow(func() time.Time { return time.Now().Add(4 * time.Second) })
	if _, err := api.OpenView(it.TriggerID, modal("Late")); slackErr(t, err) != "expired_trigger_id" {
		t.Fatalf("old trigger: %v", err)
	}
}
