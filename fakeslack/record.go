package fakeslack

import (
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// Kinds of recorded calls.
const (
	KindAPI         = "api"          // a Web API call; Method is e.g. "chat.postMessage"
	KindResponseURL = "response_url" // a POST to a response URL; Method is the response ID
	KindAck         = "ack"          // a Socket Mode ack; Method is the envelope ID
)

// Call is one recorded request from the bot: a Web API call, a response URL
// post or a Socket Mode ack. Calls are recorded when they arrive, before
// faults, latency or validation apply, so rejected calls are recorded too.
type Call struct {
	Kind   string            // KindAPI, KindResponseURL or KindAck
	Method string            // API method, response ID or envelope ID
	Params map[string]string // form fields (first value), or top-level JSON fields stringified
	Body   []byte            // raw body as received
	At     time.Time         // arrival time on the fake's clock (Server.Now)
	Conn   int               // KindAck only: sequence number of the connection it came on
}

// Sources of messages (Message.Via).
const (
	ViaPostMessage   = "chat.postMessage"
	ViaPostEphemeral = "chat.postEphemeral"
	ViaResponseURL   = "response_url"
	ViaAck           = "ack" // the text/blocks of a slash command ack payload
)

// Message is the fake's model of a message the bot made visible. The list
// is a current-state model: chat.update and replace_original edit the
// message in place (Edits counts them), chat.delete and delete_original mark
// it Deleted but keep it.
type Message struct {
	Channel  string
	TS       string
	ThreadTS string
	// User is the author for channel messages (BotUserID) and the recipient
	// for ephemeral messages and responses to an interaction.
	User      string
	Text      string
	Blocks    json.RawMessage // nil when the message has no blocks
	Ephemeral bool
	// ResponseURL is the response ID when the message was (last) written
	// through a response URL.
	ResponseURL     string
	ReplaceOriginal bool
	DeleteOriginal  bool
	Deleted         bool
	Edits           int    // number of chat.update / replace_original edits
	Via             string // ViaPostMessage, ViaPostEphemeral, ViaResponseURL or ViaAck
	Raw             []byte // raw body of the request that last wrote the message
}

// Calls returns a copy of every recorded call, in arrival order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyCalls(s.st.calls, func(Call) bool { return true })
}

// CallsTo returns the recorded calls whose Method equals method (an API
// method name, response ID or envelope ID), in arrival order.
func (s *Server) CallsTo(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyCalls(s.st.calls, func(c Call) bool { return c.Method == method })
}

// ResetCalls forgets every recorded call. Messages and views are kept.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.calls = nil
}

func copyCalls(calls []Call, keep func(Call) bool) []Call {
	var out []Call
	for _, c := range calls {
		if keep(c) {
			c.Params = maps.Clone(c.Params)
			c.Body = slices.Clone(c.Body)
			out = append(out, c)
		}
	}
	return out
}

// recordLocked appends a call. The caller must hold s.mu.
func (s *Server) recordLocked(kind, method string, params map[string]string, body []byte) {
	s.st.calls = append(s.st.calls, Call{
		Kind: kind, Method: method, Params: params, Body: body, At: s.nowLocked(),
	})
}

// Messages returns a copy of every message, in posting order.
func (s *Server) Messages() []Message {
	return s.messagesWhere(func(*Message) bool { return true })
}

// MessagesIn returns the messages in channel, in posting order.
func (s *Server) MessagesIn(channel string) []Message {
	return s.messagesWhere(func(m *Message) bool { return m.Channel == channel })
}

// DMsTo returns the messages posted to the DM channel between the bot and
// userID (whether addressed as "D"+userID or as the user ID itself).
func (s *Server) DMsTo(userID string) []Message {
	return s.MessagesIn(dmChannelID(userID))
}

func (s *Server) messagesWhere(keep func(*Message) bool) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.st.messages {
		if keep(m) {
			c := *m
			c.Blocks = slices.Clone(m.Blocks)
			c.Raw = slices.Clone(m.Raw)
			out = append(out, c)
		}
	}
	return out
}

// findMessageLocked returns the live message channel/ts, or nil.
func (s *Server) findMessageLocked(channel, ts string) *Message {
	for _, m := range s.st.messages {
		if m.Channel == channel && m.TS == ts && !m.Deleted {
			return m
		}
	}
	return nil
}
