package fakeslack_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/apppass/apppass/fakeslack"
)

func txt(typ string, n int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(typ, strings.Repeat("x", n), false, false)
}

func dividers(n int) []slack.Block {
	out := make([]slack.Block, n)
	for i := range out {
		out[i] = slack.NewDividerBlock()
	}
	return out
}

func button(text, value, actionID int) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(strings.Repeat("a", actionID), strings.Repeat("v", value), txt("plain_text", text))
}

// blockCases are message blocks at and just past Block Kit's limits, with
// the JSON pointer Slack's error names ("" for valid blocks).
var blockCases = []struct {
	name   string
	blocks []slack.Block
	ptr    string
}{
	{"50 blocks", dividers(50), ""},
	{"51 blocks", dividers(51), "/blocks]"},
	{"section text 3000", []slack.Block{slack.NewSectionBlock(txt("mrkdwn", 3000), nil, nil)}, ""},
	{"section text 3001", []slack.Block{slack.NewSectionBlock(txt("mrkdwn", 3001), nil, nil)}, "/blocks/0/text/text]"},
	{"10 fields of 2000", []slack.Block{slack.NewSectionBlock(nil, fields(10, 2000), nil)}, ""},
	{"11 fields", []slack.Block{slack.NewSectionBlock(nil, fields(11, 10), nil)}, "/blocks/0/fields]"},
	{"field 2001", []slack.Block{slack.NewSectionBlock(nil, fields(1, 2001), nil)}, "/blocks/0/fields/0/text]"},
	{"header 150", []slack.Block{slack.NewHeaderBlock(txt("plain_text", 150))}, ""},
	{"header 151", []slack.Block{slack.NewHeaderBlock(txt("plain_text", 151))}, "/blocks/0/text/text]"},
	{"header mrkdwn", []slack.Block{slack.NewHeaderBlock(txt("mrkdwn", 5))}, "/blocks/0/text/type]"},
	{"button at limits", []slack.Block{slack.NewActionBlock("", button(75, 2000, 255))}, ""},
	{"button text 76", []slack.Block{slack.NewActionBlock("", button(76, 1, 1))}, "/blocks/0/elements/0/text/text]"},
	{"button value 2001", []slack.Block{slack.NewActionBlock("", button(1, 2001, 1))}, "/blocks/0/elements/0/value]"},
	{"action_id 256", []slack.Block{slack.NewActionBlock("", button(1, 1, 256))}, "/blocks/0/elements/0/action_id]"},
	{"accessory button text 76", []slack.Block{slack.NewSectionBlock(txt("mrkdwn", 1), nil, slack.NewAccessory(button(76, 1, 1)))}, "/blocks/0/accessory/text/text]"},
	{"context 10 elements", []slack.Block{contextOf(10)}, ""},
	{"context 11 elements", []slack.Block{contextOf(11)}, "/blocks/0/elements]"},
	{"block_id 256", []slack.Block{&slack.DividerBlock{Type: slack.MBTDivider, BlockID: strings.Repeat("b", 256)}}, "/blocks/0/block_id]"},
}

func fields(n, size int) []*slack.TextBlockObject {
	out := make([]*slack.TextBlockObject, n)
	for i := range out {
		out[i] = txt("mrkdwn", size)
	}
	return out
}

func contextOf(n int) *slack.ContextBlock {
	els := make([]slack.MixedElement, n)
	for i := range els {
		els[i] = txt("mrkdwn", 5)
	}
	return slack.NewContextBlock("", els...)
}

// wantBlocksErr checks err against a case: nil for valid blocks, Slack's
// invalid_blocks with the pointer in response_metadata.messages otherwise.
func wantBlocksErr(t *testing.T, err error, ptr string) {
	t.Helper()
	if ptr == "" {
		if err != nil {
			t.Fatalf("valid blocks refused: %v", err)
		}
		return
	}
	var e slack.SlackErrorResponse
	if !errors.As(err, &e) || e.Err != "invalid_blocks" {
		t.Fatalf("got %v, want invalid_blocks", err)
	}
	msgs := strings.Join(e.ResponseMetadata.Messages, "\n")
	if !strings.HasPrefix(msgs, "[ERROR] ") || !strings.Contains(msgs, "[json-pointer:"+ptr) {
		t.Fatalf("messages %q do not name %s", msgs, ptr)
	}
	if len(e.Errors) == 0 {
		t.Fatalf("no errors array in %+v", e)
	}
}

func TestBlockKitLimitsOnChatMethods(t *testing.T) {
	s := fakeslack.New(t)
	s.AddUser(fakeslack.User{ID: "U1", Name: "alice"})
	s.AddChannel("C1")
	api := newAPI(s)
	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("original", false))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range blockCases {
		t.Run(tc.name, func(t *testing.T) {
			opt := slack.MsgOptionBlocks(tc.blocks...)
			_, _, err := api.PostMessage("C1", opt)
			wantBlocksErr(t, err, tc.ptr)
			_, err = api.PostEphemeral("C1", "U1", opt)
			wantBlocksErr(t, err, tc.ptr)
			_, _, _, err = api.UpdateMessage("C1", ts, opt)
			wantBlocksErr(t, err, tc.ptr)
		})
	}
	// Rejected posts leave nothing behind.
	for _, m := range s.MessagesIn("C1") {
		if strings.Contains(string(m.Blocks), strings.Repeat("x", 3001)) {
			t.Fatalf("invalid blocks stored: %.80s", m.Blocks)
		}
	}
}

func TestBlockKitLimitsOnResponseURLAndAck(t *testing.T) {
	s := fakeslack.New(t)
	tooMany := slack.Blocks{BlockSet: dividers(51)}
	startBot(t, s, func(c *socketmode.Client, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand && evt.Data.(slack.SlashCommand).Text == "ack" {
			_ = c.Ack(*evt.Request, map[string]any{"blocks": tooMany})
			return
		}
		ackAll(c, evt)
	})
	ctx := testCtx(t)
	it, err := s.SlashCommand(ctx, "U1", "C1", "/apppass", "")
	if err != nil {
		t.Fatal(err)
	}
	// Like Slack's webhooks, a response URL answers HTTP 400 "invalid_blocks".
	err = slack.PostWebhookContext(ctx, it.ResponseURL, &slack.WebhookMessage{Blocks: &tooMany})
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != 400 {
		t.Fatalf("response URL with 51 blocks: %v, want HTTP 400", err)
	}
	ok := slack.Blocks{BlockSet: dividers(50)}
	if err := slack.PostWebhookContext(ctx, it.ResponseURL, &slack.WebhookMessage{Blocks: &ok}); err != nil {
		t.Fatalf("response URL with 50 blocks: %v", err)
	}
	if n := len(s.MessagesIn("C1")); n != 1 {
		t.Fatalf("%d messages, want only the valid one", n)
	}

	it, err = s.SlashCommand(ctx, "U1", "C1", "/apppass", "ack")
	if err != nil {
		t.Fatal(err)
	}
	if it.AckError != "invalid_blocks" {
		t.Fatalf("AckError = %q, want invalid_blocks", it.AckError)
	}
	if n := len(s.MessagesIn("C1")); n != 1 {
		t.Fatalf("%d messages after an invalid ack, want 1", n)
	}
}

func TestBlockKitLimitsOnViews(t *testing.T) {
	s := fakeslack.New(t)
	s.AddUser(fakeslack.User{ID: "U1", Name: "alice"})
	api := newAPI(s)
	modal := func(blocks ...slack.Block) slack.ModalViewRequest {
		m := simpleModal("Title", "cb")
		m.Blocks.BlockSet = blocks
		return m
	}
	input := func(label int) slack.Block {
		return slack.NewInputBlock("b", txt("plain_text", label), nil,
			slack.NewPlainTextInputBlockElement(txt("plain_text", 10), "a"))
	}
	cases := []struct {
		name string
		view slack.ModalViewRequest
		ptr  string
	}{
		{"100 blocks", modal(dividers(100)...), ""},
		{"101 blocks", modal(dividers(101)...), "/view/blocks]"},
		{"input label 2000", modal(input(2000)), ""},
		{"input label 2001", modal(input(2001)), "/view/blocks/0/label/text]"},
		{"section 3001", modal(slack.NewSectionBlock(txt("mrkdwn", 3001), nil, nil)), "/view/blocks/0/text/text]"},
	}
	ctx := testCtx(t)
	startBot(t, s, ackAll)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			it, err := s.SlashCommand(ctx, "U1", "C1", "/apppass", "")
			if err != nil {
				t.Fatal(err)
			}
			_, err = api.OpenView(it.TriggerID, tc.view)
			wantViewErr(t, err, tc.ptr)

			home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: tc.view.Blocks}
			_, err = api.PublishView("U1", home, "")
			wantViewErr(t, err, tc.ptr)
		})
	}
}

// wantViewErr checks a views.* error: Slack answers invalid_arguments with
// the offending pointer in response_metadata.messages.
func wantViewErr(t *testing.T, err error, ptr string) {
	t.Helper()
	if ptr == "" {
		if err != nil {
			t.Fatalf("valid view refused: %v", err)
		}
		return
	}
	var e slack.SlackErrorResponse
	if !errors.As(err, &e) || e.Err != "invalid_arguments" {
		t.Fatalf("got %v, want invalid_arguments", err)
	}
	if msgs := strings.Join(e.ResponseMetadata.Messages, "\n"); !strings.Contains(msgs, "[json-pointer:"+ptr) {
		t.Fatalf("messages %q do not name %s", msgs, ptr)
	}
}
