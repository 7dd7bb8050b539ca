package demo

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apppass/apppass/fakeslack"
)

// State is everything the page shows one person: what they would see in
// Slack, and the stand-in mailbox.
type State struct {
	Me            Person         `json:"me"`
	People        []Person       `json:"people"`
	Conversations []Conversation `json:"conversations"`
	// Modal is the person's open modal (the top of its stack), or nil.
	Modal *Modal `json:"modal"`
	// Home is the person's App Home tab.
	Home    Home         `json:"home"`
	Mailbox MailboxState `json:"mailbox"`
}

// Conversation is a channel or the person's DM with apppass.
type Conversation struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Kind     string    `json:"kind"` // "dm" or "channel"
	Messages []Message `json:"messages"`
}

// Message is a message the person can see. Ephemeral ones are visible to
// this person only.
type Message struct {
	TS        string `json:"ts"`
	Author    string `json:"author"`
	Ephemeral bool   `json:"ephemeral,omitempty"`
	Edited    bool   `json:"edited,omitempty"`
	// Command is set on the echo of a slash command the person typed,
	// which only the page shows.
	Command bool    `json:"command,omitempty"`
	Text    []Span  `json:"text,omitempty"`
	Blocks  []Block `json:"blocks,omitempty"`
}

// Modal is an open modal view.
type Modal struct {
	ID     string  `json:"id"`
	Title  string  `json:"title"`
	Submit string  `json:"submit,omitempty"` // empty: no submit button
	Close  string  `json:"close"`
	Blocks []Block `json:"blocks"`
	// Errors are the block errors of the last submission, by block id.
	Errors map[string]string `json:"errors,omitempty"`
	Depth  int               `json:"depth"` // views in its stack
}

// Home is the App Home tab as published for the person.
type Home struct {
	Published bool    `json:"published"`
	ID        string  `json:"id,omitempty"`
	Blocks    []Block `json:"blocks,omitempty"`
}

// MailboxState is the mailbox pane.
type MailboxState struct {
	Running bool   `json:"running"` // a mailbox source is attached
	Mail    []Mail `json:"mail"`
}

// typedCommand is a slash command typed on the page, echoed back to its
// typer in the conversation where it was typed.
type typedCommand struct {
	channel, text, ts string
}

// dmChannel is the ID of the bot's DM with user in the Slack stand-in.
func dmChannel(user string) string { return "D" + user }

// state builds what the page shows me, who must be a seeded person.
func (d *Demo) state(me Person) State {
	st := State{Me: me, People: d.People}
	convs := []Conversation{{ID: dmChannel(me.SlackID), Name: "apppass", Kind: "dm"}}
	for _, c := range seededChannels() {
		convs = append(convs, Conversation{ID: c.ID, Name: c.Name, Kind: "channel"})
	}
	index := map[string]int{}
	for i, c := range convs {
		index[c.ID] = i
		convs[i].Messages = []Message{}
	}
	for _, m := range d.Slack.Messages() {
		i, ok := index[m.Channel]
		if !ok || m.Deleted || (m.Ephemeral && m.User != me.SlackID) {
			continue
		}
		convs[i].Messages = append(convs[i].Messages, d.message(m))
	}
	d.mu.Lock()
	typed := slices.Clone(d.typed[me.SlackID])
	mailbox := d.mailbox
	d.mu.Unlock()
	for _, c := range typed {
		i := index[c.channel]
		convs[i].Messages = append(convs[i].Messages, Message{
			TS: c.ts, Author: me.Handle, Command: true, Text: []Span{{T: "text", S: c.text, Code: true}},
		})
	}
	for i := range convs {
		slices.SortStableFunc(convs[i].Messages, func(a, b Message) int { return compareTS(a.TS, b.TS) })
	}
	st.Conversations = convs
	st.Modal = d.modal(me.SlackID)
	if v, ok := d.Slack.HomeView(me.SlackID); ok {
		st.Home = Home{Published: true, ID: v.ID, Blocks: d.viewBlocks(v.Raw)}
	}
	st.Mailbox.Mail = []Mail{}
	if mailbox != nil {
		st.Mailbox.Running = true
		if mail := mailbox.SentMail(); mail != nil {
			st.Mailbox.Mail = mail
		}
	}
	return st
}

// message renders a stored Slack message.
func (d *Demo) message(m fakeslack.Message) Message {
	out := Message{TS: m.TS, Author: fakeslack.BotName, Ephemeral: m.Ephemeral, Edited: m.Edits > 0}
	out.Blocks = renderBlocks(m.Blocks, d.handle)
	if len(out.Blocks) == 0 {
		out.Text = renderMrkdwn(m.Text, d.handle)
	}
	return out
}

// modal is user's topmost open modal, or nil.
func (d *Demo) modal(user string) *Modal {
	var open []fakeslack.View
	for _, v := range d.Slack.OpenedViews() {
		if v.UserID == user && !v.Closed {
			open = append(open, v)
		}
	}
	if len(open) == 0 {
		return nil
	}
	top := open[len(open)-1]
	var raw struct {
		Title, Submit, Close *textObject
	}
	_ = json.Unmarshal(top.Raw, &raw)
	m := &Modal{ID: top.ID, Title: raw.Title.plain(), Submit: raw.Submit.plain(), Close: raw.Close.plain(), Blocks: d.viewBlocks(top.Raw)}
	if m.Close == "" {
		m.Close = "Close"
	}
	for _, v := range open {
		if v.RootViewID == top.RootViewID {
			m.Depth++
		}
	}
	d.mu.Lock()
	m.Errors = d.viewErrors[top.ID]
	d.mu.Unlock()
	return m
}

// viewBlocks renders the blocks of a view object.
func (d *Demo) viewBlocks(raw json.RawMessage) []Block {
	var v struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	_ = json.Unmarshal(raw, &v)
	return renderBlocks(v.Blocks, d.handle)
}

// slackTS formats t as a Slack message timestamp.
func slackTS(t time.Time) string {
	us := t.UnixMicro()
	return strconv.FormatInt(us/1e6, 10) + "." + leftPad(strconv.FormatInt(us%1e6, 10), 6)
}

func leftPad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return strings.Repeat("0", n-len(s)) + s
}

// compareTS orders Slack timestamps ("seconds.micros").
func compareTS(a, b string) int {
	as, af, _ := strings.Cut(a, ".")
	bs, bf, _ := strings.Cut(b, ".")
	if len(as) != len(bs) {
		return len(as) - len(bs)
	}
	if c := strings.Compare(as, bs); c != 0 {
		return c
	}
	return strings.Compare(af, bf)
}
