package fakeslack_test

import (
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/apppass/apppass/fakeslack"
)

func simpleModal(title, callbackID string) slack.ModalViewRequest {
	return slack.ModalViewRequest{
		Type: slack.VTModal, Title: slack.NewTextBlockObject("plain_text", title, false, false),
		CallbackID: callbackID,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", title, false, false), nil, nil),
		}},
	}
}

func TestViewStackUpdatePublish(t *testing.T) {
	s := fakeslack.New(t)
	s.AddUser(fakeslack.User{ID: "U1", Name: "alice"})
	api := newAPI(s)
	results := make(chan error, 1)
	startBot(t, s, func(c *socketmode.Client, evt socketmode.Event) {
		var err error
		switch evt.Type {
		case socketmode.EventTypeSlashCommand:
			cmd := evt.Data.(slack.SlashCommand)
			_ = c.Ack(*evt.Request)
			_, err = api.OpenView(cmd.TriggerID, simpleModal("First", "first"))
		case socketmode.EventTypeInteractive:
			cb := evt.Data.(slack.InteractionCallback)
			switch {
			case cb.Type == slack.InteractionTypeBlockActions:
				_ = c.Ack(*evt.Request)
				_, err = api.PushView(cb.TriggerID, simpleModal("Second", "second"))
			case cb.View.CallbackID == "second":
				_ = c.Ack(*evt.Request, slack.NewUpdateViewSubmissionResponse(ptr(simpleModal("Third", "third"))))
				return
			default:
				_ = c.Ack(*evt.Request, slack.NewClearViewSubmissionResponse())
				return
			}
		default:
			return
		}
		results <- err
	})
	ctx := testCtx(t)

	if _, err := s.SlashCommand(ctx, "U1", "DU1", "/apppass", ""); err != nil {
		t.Fatal(err)
	}
	if err := <-results; err != nil {
		t.Fatal(err)
	}
	first := s.OpenedViews()[0]

	resp, err := api.UpdateView(simpleModal("First v2", "first"), "", first.Hash, first.ID)
	if err != nil || resp.ID != first.ID || resp.Hash == first.Hash || resp.Title.Text != "First v2" {
		t.Fatalf("views.update = %+v, %v", resp, err)
	}
	if _, err := api.UpdateView(simpleModal("x", "first"), "", first.Hash, first.ID); slackErr(t, err) != "hash_conflict" {
		t.Fatalf("stale hash: %v", err)
	}

	if _, err := s.BlockAction(ctx, "U1", fakeslack.Action{ViewID: first.ID, ActionID: "more", BlockID: "b"}); err != nil {
		t.Fatal(err)
	}
	if err := <-results; err != nil {
		t.Fatalf("views.push: %v", err)
	}
	views := s.OpenedViews()
	if len(views) != 2 || views[1].RootViewID != first.ID || views[1].PreviousViewID != first.ID {
		t.Fatalf("views after push = %+v", views)
	}
	second := views[1]

	if _, err := s.ViewSubmission(ctx, "U1", second.ID, nil); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.View(second.ID); v.Closed || v.CallbackID != "third" {
		t.Fatalf("after response_action update: %+v", v)
	}
	if _, err := s.ViewSubmission(ctx, "U1", second.ID, nil); err != nil {
		t.Fatal(err)
	}
	for _, v := range s.OpenedViews() {
		if !v.Closed {
			t.Fatalf("view %s open after response_action clear", v.ID)
		}
	}
	if _, err := api.UpdateView(simpleModal("x", "first"), "", "", first.ID); slackErr(t, err) != "not_found" {
		t.Fatalf("update closed view: %v", err)
	}

	home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: simpleModal("Home", "").Blocks}
	r1, err := api.PublishView("U1", home, "")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := api.PublishView("U1", home, r1.Hash)
	if err != nil || r2.ID != r1.ID {
		t.Fatalf("republish = %+v, %v", r2, err)
	}
	if v, ok := s.HomeView("U1"); !ok || v.ID != r1.ID || v.Type != "home" {
		t.Fatalf("home view = %+v, %v", v, ok)
	}
}

func TestDeleteOriginal(t *testing.T) {
	s := fakeslack.New(t)
	s.AddChannel("C1")
	api := newAPI(s)
	startBot(t, s, func(c *socketmode.Client, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeInteractive {
			cb := evt.Data.(slack.InteractionCallback)
			_, _, _ = api.PostMessage("", slack.MsgOptionDeleteOriginal(cb.ResponseURL))
			_ = c.Ack(*evt.Request)
		}
	})
	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("menu", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.BlockAction(testCtx(t), "U1", fakeslack.Action{ChannelID: "C1", MessageTS: ts, ActionID: "close"}); err != nil {
		t.Fatal(err)
	}
	if m := s.MessagesIn("C1"); len(m) != 1 || !m[0].Deleted || !m[0].DeleteOriginal {
		t.Fatalf("messages = %+v", m)
	}
}

func ptr[T any](v T) *T { return &v }
