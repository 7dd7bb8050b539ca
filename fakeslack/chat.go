package fakeslack

import (
	"encoding/json"
	"strings"
)

// Slack's documented message limits (Block Kit's are in blockkit.go).
const (
	maxTextLen      = 40000
	maxMessageBlock = 50
)

// resolveChannelLocked maps the channel argument of a chat method to a
// channel ID the bot may write to. A user ID addresses the bot's DM with
// that user, as in real Slack. notMember is the error when the channel
// exists but the bot is not in it.
func (s *Server) resolveChannelLocked(id, notMember string) (string, string) {
	if u, ok := s.st.users[id]; ok && strings.HasPrefix(id, "U") && !u.Deleted {
		id = dmChannelID(id)
		s.st.dms[id] = true
	}
	if s.st.dms[id] {
		return id, ""
	}
	ch, ok := s.st.channels[id]
	switch {
	case !ok:
		return "", "channel_not_found"
	case !ch.botMember:
		return "", notMember
	}
	return id, ""
}

// messageContent validates and extracts text and blocks of a chat call.
// Blocks beyond Block Kit's limits (see blockkit.go) answer invalid_blocks
// with Slack's errors and response_metadata.messages, which extra carries.
func messageContent(r *apiRequest) (text string, blocks json.RawMessage, extra map[string]any, slackErr string) {
	text = r.params["text"]
	if r.has("blocks") {
		raw := r.raw("blocks")
		var arr []json.RawMessage
		if raw == nil || json.Unmarshal(raw, &arr) != nil {
			return "", nil, nil, "invalid_blocks_format"
		}
		if msgs := validateBlocks(arr, "/blocks", maxMessageBlock); msgs != nil {
			return "", nil, invalidBlocks(msgs), "invalid_blocks"
		}
		if len(arr) > 0 {
			blocks = raw
		}
	}
	if len(text) > maxTextLen {
		return "", nil, nil, "msg_too_long"
	}
	return text, blocks, nil, ""
}

// apiChatPostMessage serves chat.postMessage.
func (s *Server) apiChatPostMessage(r *apiRequest) (map[string]any, string) {
	ch, e := s.resolveChannelLocked(r.params["channel"], "not_in_channel")
	if e != "" {
		return nil, e
	}
	text, blocks, extra, e := messageContent(r)
	if e != "" {
		return extra, e
	}
	if text == "" && blocks == nil && !r.has("attachments") {
		return nil, "no_text"
	}
	m := &Message{
		Channel: ch, TS: s.st.nextTS(s.nowLocked()), ThreadTS: r.params["thread_ts"],
		User: BotUserID, Text: text, Blocks: blocks, Via: ViaPostMessage, Raw: r.body,
	}
	s.st.messages = append(s.st.messages, m)
	return map[string]any{"channel": ch, "ts": m.TS, "message": messageJSON(m)}, ""
}

// apiChatPostEphemeral serves chat.postEphemeral.
func (s *Server) apiChatPostEphemeral(r *apiRequest) (map[string]any, string) {
	user := r.params["user"]
	if u, ok := s.st.users[user]; !ok || u.Deleted {
		return nil, "user_not_found"
	}
	ch, e := s.resolveChannelLocked(r.params["channel"], "channel_not_found")
	if e != "" {
		return nil, e
	}
	if c, ok := s.st.channels[ch]; ok && len(c.members) > 0 && !c.members[user] {
		return nil, "user_not_in_channel"
	}
	if s.st.dms[ch] && ch != dmChannelID(user) {
		return nil, "user_not_in_channel"
	}
	text, blocks, extra, e := messageContent(r)
	if e != "" {
		return extra, e
	}
	if text == "" && blocks == nil && !r.has("attachments") {
		return nil, "no_text"
	}
	m := &Message{
		Channel: ch, TS: s.st.nextTS(s.nowLocked()), ThreadTS: r.params["thread_ts"],
		User: user, Text: text, Blocks: blocks, Ephemeral: true, Via: ViaPostEphemeral, Raw: r.body,
	}
	s.st.messages = append(s.st.messages, m)
	return map[string]any{"message_ts": m.TS}, ""
}

// apiChatUpdate serves chat.update. Ephemeral messages cannot be updated
// through the Web API (use the response URL), so they are not found.
func (s *Server) apiChatUpdate(r *apiRequest) (map[string]any, string) {
	m := s.findMessageLocked(r.params["channel"], r.params["ts"])
	if m == nil || m.Ephemeral {
		return nil, "message_not_found"
	}
	text, blocks, extra, e := messageContent(r)
	if e != "" {
		return extra, e
	}
	if r.has("text") {
		m.Text = text
	}
	if r.has("blocks") {
		m.Blocks = blocks
	}
	m.Edits++
	m.Raw = r.body
	return map[string]any{"channel": m.Channel, "ts": m.TS, "text": m.Text, "message": messageJSON(m)}, ""
}

// apiChatDelete serves chat.delete; the message stays in the model with
// Deleted set.
func (s *Server) apiChatDelete(r *apiRequest) (map[string]any, string) {
	m := s.findMessageLocked(r.params["channel"], r.params["ts"])
	if m == nil || m.Ephemeral {
		return nil, "message_not_found"
	}
	m.Deleted = true
	return map[string]any{"channel": m.Channel, "ts": m.TS}, ""
}

// messageJSON renders m like Slack's message object.
func messageJSON(m *Message) map[string]any {
	out := map[string]any{
		"type": "message", "user": m.User, "text": m.Text, "ts": m.TS, "team": TeamID,
	}
	if m.User == BotUserID {
		out["bot_id"] = BotID
		out["app_id"] = AppID
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if m.Blocks != nil {
		out["blocks"] = m.Blocks
	}
	return out
}
