package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/apppass/apppass/demo"
	"github.com/apppass/apppass/fakeslack"
)

// startDemo starts the demo on a free port, closed when the test ends.
func startDemo(t *testing.T) *demo.Demo {
	t.Helper()
	d, err := demo.Start(demo.Options{Addr: "127.0.0.1:0", Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	return d
}

// startResponder connects a tiny stand-in for apppass to the demo's Slack:
// a slash command gets an ephemeral reply with an "Open" button; the button
// opens a modal with one input; submitting it empty answers an error,
// otherwise the value is posted to the helpdesk channel; app_home_opened
// publishes a Home tab.
func startResponder(t *testing.T, d *demo.Demo) {
	t.Helper()
	api := slack.New(fakeslack.BotToken, slack.OptionAppLevelToken(fakeslack.AppToken), slack.OptionAPIURL(d.Slack.APIURL()))
	client := socketmode.New(api)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = client.RunContext(ctx)
	}()
	handled := make(chan struct{})
	go func() {
		defer close(handled)
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-client.Events:
				respond(t, api, client, evt)
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done; <-handled })
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := d.Slack.WaitConnections(wctx, 1); err != nil {
		t.Fatal(err)
	}
}

func respond(t *testing.T, api *slack.Client, c *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		cmd := evt.Data.(slack.SlashCommand)
		_ = c.Ack(*evt.Request)
		open := slack.NewButtonBlockElement("open", "v1", slack.NewTextBlockObject(slack.PlainTextType, "Open", false, false))
		open.Style = slack.StylePrimary
		msg := &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: "fallback", Blocks: &slack.Blocks{BlockSet: []slack.Block{
			slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "Reply", false, false)),
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "You said *"+cmd.Text+"*", false, false), nil, nil),
			slack.NewDividerBlock(),
			slack.NewActionBlock("acts", open),
			slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "for <@"+cmd.UserID+">", false, false)),
		}}}
		if err := slack.PostWebhook(cmd.ResponseURL, msg); err != nil {
			t.Errorf("responder: %v", err)
		}
	case socketmode.EventTypeInteractive:
		cb := evt.Data.(slack.InteractionCallback)
		switch cb.Type {
		case slack.InteractionTypeBlockActions:
			_ = c.Ack(*evt.Request)
			input := slack.NewPlainTextInputBlockElement(slack.NewTextBlockObject(slack.PlainTextType, "a name", false, false), "name")
			_, err := api.OpenView(cb.TriggerID, slack.ModalViewRequest{
				Type: slack.VTModal, CallbackID: "ask",
				Title:  slack.NewTextBlockObject(slack.PlainTextType, "Name it", false, false),
				Submit: slack.NewTextBlockObject(slack.PlainTextType, "Create", false, false),
				Close:  slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false),
				Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewInputBlock("name", slack.NewTextBlockObject(slack.PlainTextType, "Name", false, false), nil, input)}},
			})
			if err != nil {
				t.Errorf("responder: views.open for %s %s: %v", cb.User.ID, cb.ActionCallback.BlockActions[0].ActionID, err)
			}
		case slack.InteractionTypeViewSubmission:
			name := cb.View.State.Values["name"]["name"].Value
			if name == "" {
				_ = c.Ack(*evt.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{"name": "Give it a name."}))
				return
			}
			_ = c.Ack(*evt.Request)
			if _, _, err := api.PostMessage("CHELPDESK", slack.MsgOptionText("Created *"+name+"* for <@"+cb.User.ID+">", false)); err != nil {
				t.Errorf("responder: chat.postMessage: %v", err)
			}
		default:
			_ = c.Ack(*evt.Request)
		}
	case socketmode.EventTypeEventsAPI:
		_ = c.Ack(*evt.Request)
		ev := evt.Data.(slackevents.EventsAPIEvent)
		if home, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent); ok {
			b := slack.NewButtonBlockElement("home_create", "", slack.NewTextBlockObject(slack.PlainTextType, "Create", false, false))
			_, err := api.PublishView(home.User, slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{
				slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "Home of <@"+home.User+">", false, false), nil, slack.NewAccessory(b)),
			}}}, "")
			if err != nil {
				t.Errorf("responder: views.publish: %v", err)
			}
		}
	}
}

// page drives the demo page's HTTP API as the browser does.
type page struct {
	t   *testing.T
	url string
}

func (p page) post(path string, body any) (int, map[string]any) {
	p.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(p.url+path, "application/json", bytes.NewReader(b))
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (p page) mustPost(path string, body any) map[string]any {
	p.t.Helper()
	status, out := p.post(path, body)
	if status != http.StatusOK {
		p.t.Fatalf("POST %s: %d %v", path, status, out)
	}
	return out
}

func (p page) state(user string) demo.State {
	p.t.Helper()
	resp, err := http.Get(p.url + "api/state?user=" + user)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st demo.State
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		p.t.Fatal(err)
	}
	return st
}

// waitState polls user's state until cond holds.
func (p page) waitState(user, what string, cond func(demo.State) bool) demo.State {
	p.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := p.state(user)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(st, "", " ")
			p.t.Fatalf("timed out waiting for %s; state:\n%s", what, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func conv(st demo.State, id string) demo.Conversation {
	for _, c := range st.Conversations {
		if c.ID == id {
			return c
		}
	}
	return demo.Conversation{}
}

// botMessages are a conversation's messages from the bot, without the
// echoes of typed commands.
func botMessages(c demo.Conversation) []demo.Message {
	var out []demo.Message
	for _, m := range c.Messages {
		if !m.Command {
			out = append(out, m)
		}
	}
	return out
}

// plain flattens spans to text.
func plain(spans []demo.Span) string {
	var b strings.Builder
	for _, s := range spans {
		b.WriteString(s.S)
	}
	return b.String()
}

func TestPageEndToEnd(t *testing.T) {
	d := startDemo(t)
	startResponder(t, d)
	p := page{t, d.URL()}
	const alice, adam, dm = demo.Employee, demo.Admin, "D" + demo.Employee

	// A command: typed text arrives escaped like Slack's, the reply's
	// Block Kit is rendered, and it is visible to its typer only.
	p.mustPost("api/command", map[string]string{"user": alice, "channel": dm, "text": "/apppass hi <b>&"})
	st := p.waitState(alice, "the reply", func(st demo.State) bool { return len(botMessages(conv(st, dm))) == 1 })
	msgs := conv(st, dm).Messages
	if len(msgs) != 2 || !msgs[0].Command || plain(msgs[0].Text) != "/apppass hi <b>&" {
		t.Errorf("the typed command is not echoed first: %+v", msgs)
	}
	reply := msgs[1]
	if !reply.Ephemeral {
		t.Error("the reply is not shown as ephemeral")
	}
	var types []string
	for _, b := range reply.Blocks {
		types = append(types, b.Type)
	}
	if got, want := strings.Join(types, ","), "header,section,divider,actions,context"; got != want {
		t.Fatalf("blocks %s, want %s", got, want)
	}
	if got, want := plain(reply.Blocks[1].Text), "You said hi <b>&"; got != want {
		t.Errorf("section text %q, want %q (entities decoded once, shown as text)", got, want)
	}
	if s := reply.Blocks[1].Text[1]; !s.Bold || s.T != "text" {
		t.Errorf("the *bold* part renders as %+v", s)
	}
	if got, want := plain(reply.Blocks[4].Elements[0].Text), "for @alice"; got != want {
		t.Errorf("context %q, want %q", got, want)
	}
	open := reply.Blocks[3].Elements[0]
	if open.Type != "button" || open.Style != "primary" || plain(open.Text) != "Open" || open.ActionID != "open" || open.Value != "v1" {
		t.Errorf("button: %+v", open)
	}
	if got := botMessages(conv(p.state(adam), "D"+adam)); len(got) != 0 {
		t.Errorf("someone else sees alice's ephemeral reply: %+v", got)
	}

	// A forged button is refused; the real one opens the modal.
	click := map[string]string{"user": alice, "channel": dm, "ts": reply.TS, "action_id": "open", "block_id": "acts", "value": "v1"}
	forged := map[string]string{"user": alice, "channel": dm, "ts": reply.TS, "action_id": "open", "block_id": "acts", "value": "v2"}
	if status, _ := p.post("api/click", forged); status != http.StatusBadRequest {
		t.Errorf("a click on a button that is not there answered %d", status)
	}
	if status, _ := p.post("api/click", map[string]string{"user": adam, "channel": dm, "ts": reply.TS, "action_id": "open", "block_id": "acts", "value": "v1"}); status != http.StatusBadRequest {
		t.Errorf("a click on someone else's message answered %d", status)
	}
	p.mustPost("api/click", click)
	st = p.waitState(alice, "the modal", func(st demo.State) bool { return st.Modal != nil })
	m := st.Modal
	if m.Title != "Name it" || m.Submit != "Create" || m.Close != "Cancel" || len(m.Blocks) != 1 || m.Blocks[0].Input == nil || m.Blocks[0].Input.Placeholder != "a name" {
		t.Fatalf("modal: %+v", m)
	}
	if p.state(adam).Modal != nil {
		t.Error("someone else sees alice's modal")
	}

	// Submitting empty keeps it open with the error; then it goes through.
	out := p.mustPost("api/submit", map[string]any{"user": alice, "view_id": m.ID, "values": map[string]any{"name": map[string]string{"name": ""}}})
	if out["ok"] != false {
		t.Errorf("an empty submission answered %v", out)
	}
	if st := p.state(alice); st.Modal == nil || st.Modal.Errors["name"] != "Give it a name." {
		t.Errorf("the modal does not show the error: %+v", st.Modal)
	}
	p.mustPost("api/submit", map[string]any{"user": alice, "view_id": m.ID, "values": map[string]any{"name": map[string]string{"name": "Laptop"}}})
	st = p.waitState(alice, "the helpdesk post", func(st demo.State) bool { return len(conv(st, demo.HelpdeskChannel).Messages) == 1 })
	if st.Modal != nil {
		t.Errorf("the modal is still open: %+v", st.Modal)
	}
	if got, want := plain(conv(st, demo.HelpdeskChannel).Messages[0].Text), "Created Laptop for @alice"; got != want {
		t.Errorf("helpdesk message %q, want %q", got, want)
	}
	if got := conv(p.state(adam), demo.HelpdeskChannel).Messages; len(got) != 1 {
		t.Errorf("the channel message is not visible to others: %+v", got)
	}

	// Closing a modal.
	p.mustPost("api/click", click)
	st = p.waitState(alice, "the modal again", func(st demo.State) bool { return st.Modal != nil })
	p.mustPost("api/close", map[string]string{"user": alice, "view_id": st.Modal.ID})
	if st := p.state(alice); st.Modal != nil {
		t.Errorf("the modal is still open after close: %+v", st.Modal)
	}

	// App Home: nothing until apppass publishes.
	if st := p.state(alice); st.Home.Published {
		t.Error("a home tab before anyone opened it")
	}
	p.mustPost("api/home", map[string]string{"user": alice})
	st = p.waitState(alice, "the home tab", func(st demo.State) bool { return st.Home.Published })
	if len(st.Home.Blocks) != 1 || plain(st.Home.Blocks[0].Text) != "Home of @alice" || st.Home.Blocks[0].Accessory == nil {
		t.Errorf("home: %+v", st.Home)
	}
	if p.state(adam).Home.Published {
		t.Error("adam sees alice's home tab")
	}
	p.mustPost("api/click", map[string]string{"user": alice, "view_id": st.Home.ID, "action_id": "home_create", "block_id": "", "value": ""})
	p.waitState(alice, "the modal from home", func(st demo.State) bool { return st.Modal != nil })
}

func TestCommandErrors(t *testing.T) {
	d := startDemo(t)
	p := page{t, d.URL()}
	for _, tc := range []struct {
		name string
		body map[string]string
	}{
		{"unknown user", map[string]string{"user": "UNOBODY", "channel": "DUNOBODY", "text": "help"}},
		{"someone else's DM", map[string]string{"user": demo.Employee, "channel": "D" + demo.Admin, "text": "help"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := page{t, p.url}.post("api/command", tc.body)
			if status != http.StatusBadRequest || out["error"] == "" {
				t.Errorf("got %d %v, want 400 with an error", status, out)
			}
		})
	}
	// Text that is no /apppass command is answered as Slack would, to the
	// typist, and reaches nobody.
	for text, want := range map[string]string{"hello": "`hello` is not a command", "/giphy cats": "`/giphy` is not a valid command"} {
		status, out := p.post("api/command", map[string]string{"user": demo.Employee, "channel": "D" + demo.Employee, "text": text})
		if status != http.StatusOK || !strings.Contains(fmt.Sprint(out["notice"]), want) {
			t.Errorf("%q answered %d %v, want a notice %q", text, status, out, want)
		}
	}
	if status, _ := p.post("api/command", map[string]any{"user": demo.Employee, "nonsense": 1}); status != http.StatusBadRequest {
		t.Errorf("an unknown field answered %d", status)
	}
	// A form post, which any web page can make cross-origin, is refused.
	resp, err := http.Post(p.url+"api/command", "text/plain", strings.NewReader(`{"user":"UALICE","channel":"DUALICE","text":"help"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("a text/plain post answered %d, want %d", resp.StatusCode, http.StatusUnsupportedMediaType)
	}
}

type fakeMailbox []demo.Mail

func (m fakeMailbox) SentMail() []demo.Mail { return m }

func TestMailbox(t *testing.T) {
	d := startDemo(t)
	p := page{t, d.URL()}
	if st := p.state(demo.Employee); st.Mailbox.Running || len(st.Mailbox.Mail) != 0 {
		t.Errorf("mailbox without a gateway: %+v", st.Mailbox)
	}
	sent := demo.Mail{From: "alice@contoso.test", To: []string{"bob@example.test"}, Subject: "Scan <1>", Size: 1234, Time: time.Unix(1700000000, 0).UTC()}
	d.SetMailbox(fakeMailbox{sent})
	st := p.state(demo.Employee)
	if !st.Mailbox.Running || len(st.Mailbox.Mail) != 1 || st.Mailbox.Mail[0].Subject != "Scan <1>" {
		t.Errorf("mailbox: %+v", st.Mailbox)
	}
}

func TestPageAndEvents(t *testing.T) {
	d := startDemo(t)
	for _, path := range []string{"", "app.js", "style.css"} {
		resp, err := http.Get(d.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET /%s: %d", path, resp.StatusCode)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET /%s: Content-Security-Policy %q", path, csp)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.URL()+"api/events?user="+demo.Admin, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	buf := make([]byte, 64<<10)
	n, _ := io.ReadAtLeast(resp.Body, buf, 10)
	line, _, _ := strings.Cut(string(buf[:n]), "\n")
	var st demo.State
	if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &st); err != nil {
		t.Fatalf("first event %q: %v", line, err)
	}
	if st.Me.SlackID != demo.Admin || st.Me.Role != demo.RoleAdmin {
		t.Errorf("first event is for %+v", st.Me)
	}
}
