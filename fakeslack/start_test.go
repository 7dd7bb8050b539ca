package fakeslack_test

import (
	"context"
	"errors"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/apppass/apppass/fakeslack"
)

func TestStartWithoutTest(t *testing.T) {
	s, err := fakeslack.Start()
	if err != nil {
		t.Fatal(err)
	}
	api := slack.New(fakeslack.BotToken, slack.OptionAPIURL(s.APIURL()))
	resp, err := api.AuthTestContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if resp.UserID != fakeslack.BotUserID {
		t.Errorf("auth.test user %q, want %q", resp.UserID, fakeslack.BotUserID)
	}
	s.Close()
	if _, err := api.AuthTestContext(context.Background()); err == nil {
		t.Error("auth.test succeeded after Close")
	}
}

func TestCloseView(t *testing.T) {
	s := fakeslack.New(t)
	s.AddUser(fakeslack.User{ID: "U1", Name: "alice"})
	api := newAPI(s)
	opened := make(chan error, 1)
	closed := make(chan string, 1)
	startBot(t, s, func(c *socketmode.Client, evt socketmode.Event) {
		switch evt.Type {
		case socketmode.EventTypeSlashCommand:
			cmd := evt.Data.(slack.SlashCommand)
			_ = c.Ack(*evt.Request)
			m := simpleModal("First", "first")
			m.NotifyOnClose = cmd.Text == "notify"
			_, err := api.OpenView(cmd.TriggerID, m)
			opened <- err
		case socketmode.EventTypeInteractive:
			cb := evt.Data.(slack.InteractionCallback)
			_ = c.Ack(*evt.Request)
			closed <- string(cb.Type) + " " + cb.View.CallbackID
		}
	})
	ctx := testCtx(t)
	for _, tc := range []struct {
		name, text string
		want       string // the interaction the bot hears, "" for none
	}{
		{"silent", "", ""},
		{"notify on close", "notify", "view_closed first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.SlashCommand(ctx, "U1", "DU1", "/apppass", tc.text); err != nil {
				t.Fatal(err)
			}
			if err := <-opened; err != nil {
				t.Fatal(err)
			}
			views := s.OpenedViews()
			v := views[len(views)-1]
			if _, err := s.CloseView(ctx, "U2", v.ID); !errors.Is(err, fakeslack.ErrUnknownView) {
				t.Errorf("closing someone else's view: %v, want ErrUnknownView", err)
			}
			ix, err := s.CloseView(ctx, "U1", v.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := s.View(v.ID); !got.Closed {
				t.Error("the view is still open")
			}
			got := ""
			if ix != nil {
				got = <-closed
			}
			if got != tc.want {
				t.Errorf("the bot heard %q, want %q", got, tc.want)
			}
			if _, err := s.CloseView(ctx, "U1", v.ID); !errors.Is(err, fakeslack.ErrUnknownView) {
				t.Errorf("closing it twice: %v, want ErrUnknownView", err)
			}
		})
	}
}
