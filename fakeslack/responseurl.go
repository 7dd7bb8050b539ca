package fakeslack

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// Slack's response URL limits.
const (
	responseURLMaxUses = 5
	responseURLTTL     = 30 * time.Minute
)

// responseURL is an issued response URL.
type responseURL struct {
	issued  time.Time
	uses    int
	channel string // where new messages go
	userID  string // who interacted
	// The message replace_original/delete_original act on: the clicked
	// message for block actions, otherwise the first message posted through
	// this URL (or the slash command's ack message).
	origChannel, origTS string
}

// responseBody is the part of a response URL post the fake interprets.
type responseBody struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	ThreadTS        string          `json:"thread_ts"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal bool            `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
}

// handleResponseURL serves POST /response/{id}. Success answers
// {"ok":true}; failures answer a text body like real Slack: 404
// "expired_url"/"used_url"/"invalid_url", and 400 "invalid_blocks" for
// blocks beyond Block Kit's limits (the message is then not posted and the
// use is not counted).
func (s *Server) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, _ := io.ReadAll(r.Body)
	params, _ := jsonParams(body)

	s.mu.Lock()
	s.recordLocked(KindResponseURL, id, params, body)
	latency := s.st.apiLatency
	s.mu.Unlock()

	s.sleep(latency, r.Context().Done())

	s.mu.Lock()
	status, text := s.serveResponseLocked(id, body)
	s.mu.Unlock()

	if status != http.StatusOK {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, text)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = io.WriteString(w, `{"ok":true}`)
}

// serveResponseLocked applies faults and limits, then the post's effect.
func (s *Server) serveResponseLocked(id string, body []byte) (int, string) {
	if s.st.responseFault != 0 {
		return s.st.responseFault, "expired_url"
	}
	e, ok := s.st.responses[id]
	switch {
	case !ok:
		return http.StatusNotFound, "invalid_url"
	case s.nowLocked().Sub(e.issued) > responseURLTTL:
		return http.StatusNotFound, "expired_url"
	case e.uses >= responseURLMaxUses:
		return http.StatusNotFound, "used_url"
	}
	var msg responseBody
	if json.Unmarshal(body, &msg) != nil {
		return http.StatusBadRequest, "invalid_payload"
	}
	if e := blocksError(msg.Blocks); e != "" {
		return http.StatusBadRequest, e
	}
	e.uses++
	blocks := normBlocks(msg.Blocks)

	orig := s.findMessageLocked(e.origChannel, e.origTS)
	switch {
	case msg.DeleteOriginal && orig != nil:
		orig.Deleted, orig.DeleteOriginal, orig.ResponseURL, orig.Raw = true, true, id, body
	case msg.ReplaceOriginal && orig != nil:
		orig.Text, orig.Blocks, orig.Raw = msg.Text, blocks, body
		orig.ReplaceOriginal, orig.ResponseURL = true, id
		orig.Edits++
	default:
		m := &Message{
			Channel: e.channel, TS: s.st.nextTS(s.nowLocked()), ThreadTS: msg.ThreadTS,
			User: e.userID, Text: msg.Text, Blocks: blocks, Ephemeral: msg.ResponseType != "in_channel",
			ResponseURL: id, ReplaceOriginal: msg.ReplaceOriginal, DeleteOriginal: msg.DeleteOriginal,
			Via: ViaResponseURL, Raw: body,
		}
		s.st.messages = append(s.st.messages, m)
		if orig == nil {
			e.origChannel, e.origTS = m.Channel, m.TS
		}
	}
	return http.StatusOK, ""
}

// storeAckMessageLocked stores the message a slash command ack carries.
func (s *Server) storeAckMessageLocked(it *Interaction, channel, userID string, payload json.RawMessage) {
	var msg responseBody
	if payload == nil || json.Unmarshal(payload, &msg) != nil {
		return
	}
	if e := blocksError(msg.Blocks); e != "" {
		it.AckError = e
		return
	}
	blocks := normBlocks(msg.Blocks)
	if msg.Text == "" && blocks == nil {
		return
	}
	m := &Message{
		Channel: channel, TS: s.st.nextTS(s.nowLocked()), User: userID, Text: msg.Text,
		Blocks: blocks, Ephemeral: msg.ResponseType != "in_channel", Via: ViaAck, Raw: payload,
	}
	s.st.messages = append(s.st.messages, m)
	if e := s.st.responses[it.ResponseID]; e != nil && s.findMessageLocked(e.origChannel, e.origTS) == nil {
		e.origChannel, e.origTS = m.Channel, m.TS
	}
}

// blocksError checks the blocks of a response URL post or an ack payload
// like Slack: "invalid_blocks_format" when they are not an array,
// "invalid_blocks" beyond Block Kit's limits (a response URL then answers
// HTTP 400 with that text, as Slack's webhooks do), "" when valid or absent.
func blocksError(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var arr []json.RawMessage
	if json.Unmarshal(raw, &arr) != nil {
		return "invalid_blocks_format"
	}
	if validateBlocks(arr, "/blocks", maxMessageBlock) != nil {
		return "invalid_blocks"
	}
	return ""
}

// normBlocks returns raw unless it is absent, null or an empty array.
func normBlocks(raw json.RawMessage) json.RawMessage {
	var arr []json.RawMessage
	if raw == nil || json.Unmarshal(raw, &arr) != nil || len(arr) == 0 {
		return nil
	}
	return raw
}
