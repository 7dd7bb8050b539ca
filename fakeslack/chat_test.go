package fakeslack_test

import (
	"testing"

	"github.com/slack-go/slack"

	"github.com/apppass/apppass/fakeslack"
)

func TestChat(t *testing.T) {
	s := fakeslack.New(t)
	s.AddUser(fakeslack.User{ID: "U1", Name: "alice"})
	s.AddUser(fakeslack.User{ID: "U2", Name: "bob"})
	s.AddChannel("C1", "U1")
	s.AddChannelWithoutBot("C2", "U1")
	api := newAPI(s)

	// Ephemeral checks: unknown channel, bot not a member, user not a member, DM not opened.
	for _, tc := range []struct{ channel, user, want string }{
		{"C404", "U1", "channel_not_found"},
		{"C2", "U1", "channel_not_found"},
		{"C1", "U2", "user_not_in_channel"},
		{"DU1", "U1", "channel_not_found"},
	} {
		_, err := api.PostEphemeral(tc.channel, tc.user, slack.MsgOptionText("x", false))
		if got := slackErr(t, err); got != tc.want {
			t.Errorf("postEphemeral(%s, %s) = %q, want %q", tc.channel, tc.user, got, tc.want)
		}
	}
	if _, _, err := api.PostMessage("C2", slack.MsgOptionText("x", false)); slackErr(t, err) != "not_in_channel" {
		t.Errorf("postMessage to C2: %v", err)
	}
	if _, _, err := api.PostMessage("C1"); slackErr(t, err) != "no_text" {
		t.Errorf("empty postMessage: %v", err)
	}

	ts, err := api.PostEphemeral("C1", "U1", slack.MsgOptionText("only you", false))
	if err != nil || ts == "" {
		t.Fatalf("postEphemeral = %q, %v", ts, err)
	}

	ch, _, _, err := api.OpenConversation(&slack.OpenConversationParameters{Users: []string{"U2"}})
	if err != nil || ch.ID != "DU2" {
		t.Fatalf("conversations.open = %+v, %v", ch, err)
	}
	if _, err := api.PostEphemeral("DU2", "U2", slack.MsgOptionText("dm ephemeral", false)); err != nil {
		t.Fatalf("ephemeral in opened DM: %v", err)
	}
	blocks := slack.MsgOptionBlocks(slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "*hi*", false, false), nil, nil))
	channel, ts1, err := api.PostMessage("DU2", slack.MsgOptionText("hello bob", false), blocks)
	if err != nil || channel != "DU2" || ts1 == "" {
		t.Fatalf("postMessage = %q %q %v", channel, ts1, err)
	}
	_, ts2, err := api.PostMessage("U2", slack.MsgOptionText("again", false))
	if err != nil || ts2 == ts1 {
		t.Fatalf("second DM ts %q (first %q), %v", ts2, ts1, err)
	}

	dms := s.DMsTo("U2")
	if len(dms) != 3 || dms[1].Text != "hello bob" || dms[1].Blocks == nil || dms[1].User != fakeslack.BotUserID || dms[2].Channel != "DU2" {
		t.Fatalf("DMs = %+v", dms)
	}
	if !dms[0].Ephemeral || dms[0].User != "U2" || dms[0].Via != fakeslack.ViaPostEphemeral {
		t.Fatalf("ephemeral DM = %+v", dms[0])
	}

	if _, _, _, err := api.UpdateMessage("DU2", ts1, slack.MsgOptionText("edited", false)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessage("DU2", "1.000000", slack.MsgOptionText("x", false)); slackErr(t, err) != "message_not_found" {
		t.Fatalf("update unknown: %v", err)
	}
	if _, _, err := api.DeleteMessage("DU2", ts2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.DeleteMessage("DU2", ts2); slackErr(t, err) != "message_not_found" {
		t.Fatalf("second delete: %v", err)
	}
	dms = s.DMsTo("U2")
	if dms[1].Text != "edited" || dms[1].Edits != 1 || !dms[2].Deleted {
		t.Fatalf("after update/delete: %+v", dms)
	}
	if n := len(s.Messages()); n != 4 {
		t.Fatalf("%d messages in total, want 4", n)
	}
	s.ResetCalls()
	if n := len(s.Calls()); n != 0 {
		t.Fatalf("%d calls after reset", n)
	}
}
