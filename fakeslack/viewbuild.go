package fakeslack

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Slack's documented view limits.
const (
	maxTitleLen    = 24
	maxViewBlocks  = 100
	maxPrivateMeta = 3000
	maxCallbackID  = 255
)

// buildViewLocked validates a view payload like Slack (type, title, submit
// and close length, Block Kit limits with at most 100 blocks,
// private_metadata and callback_id length) and renders the view
// object Slack returns. On invalid input it answers invalid_arguments with
// response_metadata.messages in Slack's format.
func (s *Server) buildViewLocked(raw json.RawMessage, wantType, id, userID, root, prev string) (*View, map[string]any, string) {
	fields := map[string]json.RawMessage{}
	var meta struct {
		Type            string `json:"type"`
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
		ExternalID      string `json:"external_id"`
		Title           *struct{ Text string }
		Submit          *struct{ Text string }
		Close           *struct{ Text string }
		Blocks          []json.RawMessage `json:"blocks"`
	}
	if raw == nil || json.Unmarshal(raw, &fields) != nil || json.Unmarshal(raw, &meta) != nil {
		return nil, invalidArgs("[ERROR] missing required field: view"), "invalid_arguments"
	}
	var msgs []string
	if meta.Type != wantType {
		msgs = append(msgs, fmt.Sprintf("[ERROR] must be %q [json-pointer:/view/type]", wantType))
	}
	if wantType == "modal" {
		switch {
		case meta.Title == nil:
			msgs = append(msgs, "[ERROR] missing required field: title [json-pointer:/view]")
		case utf8.RuneCountInString(meta.Title.Text) > maxTitleLen:
			msgs = append(msgs, fmt.Sprintf("[ERROR] must be less than %d characters [json-pointer:/view/title/text]", maxTitleLen+1))
		}
	}
	if wantType == "modal" {
		for _, b := range []struct {
			name string
			obj  *struct{ Text string }
		}{{"submit", meta.Submit}, {"close", meta.Close}} {
			if b.obj != nil && utf8.RuneCountInString(b.obj.Text) > maxViewButtonLength {
				msgs = append(msgs, fmt.Sprintf("[ERROR] must be less than %d characters [json-pointer:/view/%s/text]", maxViewButtonLength+1, b.name))
			}
		}
	}
	msgs = append(msgs, errorMessages(validateBlocks(meta.Blocks, "/view/blocks", maxViewBlocks))...)
	if utf8.RuneCountInString(meta.PrivateMetadata) > maxPrivateMeta {
		msgs = append(msgs, fmt.Sprintf("[ERROR] must be less than %d characters [json-pointer:/view/private_metadata]", maxPrivateMeta+1))
	}
	if utf8.RuneCountInString(meta.CallbackID) > maxCallbackID {
		msgs = append(msgs, fmt.Sprintf("[ERROR] must be less than %d characters [json-pointer:/view/callback_id]", maxCallbackID+1))
	}
	if len(msgs) > 0 {
		return nil, invalidArgs(msgs...), "invalid_arguments"
	}

	hash := fmt.Sprintf("%d.%s", s.nowLocked().Unix(), s.st.nextID("h"))
	set := func(k string, v any) {
		b, _ := json.Marshal(v)
		fields[k] = b
	}
	for _, k := range []string{"callback_id", "private_metadata", "external_id"} {
		if _, ok := fields[k]; !ok {
			set(k, "")
		}
	}
	for _, k := range []string{"clear_on_close", "notify_on_close"} {
		if _, ok := fields[k]; !ok {
			set(k, false)
		}
	}
	set("id", id)
	set("team_id", TeamID)
	set("app_id", AppID)
	set("bot_id", BotID)
	set("app_installed_team_id", TeamID)
	set("hash", hash)
	set("root_view_id", root)
	set("previous_view_id", nullable(prev))
	set("state", map[string]any{"values": map[string]any{}})
	out, _ := json.Marshal(fields)
	return &View{
		ID: id, Type: wantType, UserID: userID, CallbackID: meta.CallbackID,
		PrivateMetadata: meta.PrivateMetadata, ExternalID: meta.ExternalID, Hash: hash,
		RootViewID: root, PreviousViewID: prev, Raw: out,
	}, nil, ""
}

func invalidArgs(msgs ...string) map[string]any {
	return map[string]any{"response_metadata": map[string]any{"messages": msgs}}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// applyViewAckLocked applies a view_submission ack to the submitted view:
// no response_action closes it, "clear" closes its whole stack, "update"
// replaces it in place, "push" stacks a new view, "errors" keeps it open.
// An invalid "update"/"push" view changes nothing and sets it.AckError to
// "invalid_arguments" (Slack shows the person an error instead).
func (s *Server) applyViewAckLocked(it *Interaction, viewID string, payload json.RawMessage) {
	v, ok := s.st.views[viewID]
	if !ok {
		return
	}
	var resp struct {
		ResponseAction string          `json:"response_action"`
		View           json.RawMessage `json:"view"`
	}
	_ = json.Unmarshal(payload, &resp)
	switch resp.ResponseAction {
	case "errors":
	case "update":
		nv, _, e := s.buildViewLocked(resp.View, "modal", v.ID, v.UserID, v.RootViewID, v.PreviousViewID)
		if e != "" {
			it.AckError = e
			return
		}
		*v = *nv
	case "push":
		id := s.st.nextID("V")
		nv, _, e := s.buildViewLocked(resp.View, "modal", id, v.UserID, v.RootViewID, v.ID)
		if e != "" {
			it.AckError = e
			return
		}
		s.storeViewLocked(nv)
	case "clear":
		for _, other := range s.st.views {
			if other.RootViewID == v.RootViewID && other.Type == "modal" {
				other.Closed = true
			}
		}
	default:
		v.Closed = true
	}
}
