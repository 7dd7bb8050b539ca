package fakeslack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// VerificationToken is the deprecated verification token the fake puts in
// payloads' "token" field.
const VerificationToken = "fake-verification-token"

// ErrUnknownView is returned by ViewSubmission for a view the bot never
// opened, or one that is already closed.
var ErrUnknownView = errors.New("fakeslack: unknown or closed view")

// SlashCommand sends a slash_commands envelope as if userID typed command
// (e.g. "/apppass") with text in channelID. text is passed as given, so pass
// the escaped form Slack produces, e.g. "<@U123|alice> --all lost phone".
// If the ack payload carries text or blocks, it is stored as a Message with
// Via ViaAck, ephemeral unless response_type is "in_channel".
func (s *Server) SlashCommand(ctx context.Context, userID, channelID, command, text string) (*Interaction, error) {
	return s.slashCommand(ctx, Origin{}, userID, channelID, command, text)
}

// slashCommand delivers a slash command whose payload claims origin o.
func (s *Server) slashCommand(ctx context.Context, o Origin, userID, channelID, command, text string) (*Interaction, error) {
	return s.deliver(ctx, envelope{
		typ: "slash_commands", accepts: true, userID: userID, trigger: true,
		withURL: true, urlChannel: channelID,
		build: func(it *Interaction) (map[string]any, error) {
			s.markDMLocked(userID, channelID)
			org := s.originLocked(userID, o)
			// Real Slack sends every slash command field as a string.
			p := map[string]any{
				"token": VerificationToken, "team_id": org.TeamID, "team_domain": TeamDomain,
				"channel_id": channelID, "channel_name": channelName(channelID),
				"user_id": userID, "user_name": s.st.userName(userID),
				"command": command, "text": text, "api_app_id": AppID,
				"is_enterprise_install": "false",
				"response_url":          it.ResponseURL, "trigger_id": it.TriggerID,
			}
			if org.EnterpriseID != "" {
				p["enterprise_id"] = org.EnterpriseID
				p["enterprise_name"] = s.enterpriseNameLocked(org.EnterpriseID)
			}
			return p, nil
		},
		onAck: func(it *Interaction, payload json.RawMessage) {
			s.storeAckMessageLocked(it, channelID, userID, payload)
		},
	})
}

// Action describes a click on an interactive element.
type Action struct {
	ChannelID string // channel of the message (message container)
	MessageTS string // ts of the message holding the element
	ActionID  string
	BlockID   string
	Value     string
	Type      string // element type; default "button"
	ViewID    string // set when the element is inside a view (view container)
	Ephemeral bool   // container.is_ephemeral
}

// BlockAction sends a block_actions interaction for userID. For message
// containers the payload carries channel, response_url and, if the fake
// knows the (non-ephemeral) message, the message itself; a response URL post
// with replace_original/delete_original edits that message. For view
// containers it carries the view instead and has no response URL.
func (s *Server) BlockAction(ctx context.Context, userID string, a Action) (*Interaction, error) {
	if a.Type == "" {
		a.Type = "button"
	}
	inView := a.ViewID != ""
	e := envelope{
		typ: "interactive", userID: userID, trigger: true, viewID: a.ViewID,
		withURL: !inView, urlChannel: a.ChannelID, origChannel: a.ChannelID, origTS: a.MessageTS,
	}
	e.build = func(it *Interaction) (map[string]any, error) {
		now := s.nowLocked()
		p := s.basePayloadLocked("block_actions", userID, it)
		p["state"] = map[string]any{"values": map[string]any{}}
		p["actions"] = []map[string]any{{
			"action_id": a.ActionID, "block_id": a.BlockID, "value": a.Value, "type": a.Type,
			"action_ts": fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000),
		}}
		if inView {
			p["container"] = map[string]any{"type": "view", "view_id": a.ViewID}
			if v, ok := s.st.views[a.ViewID]; ok {
				p["view"] = v.Raw
			}
			return p, nil
		}
		s.markDMLocked(userID, a.ChannelID)
		p["container"] = map[string]any{
			"type": "message", "message_ts": a.MessageTS, "channel_id": a.ChannelID, "is_ephemeral": a.Ephemeral,
		}
		p["channel"] = map[string]any{"id": a.ChannelID, "name": channelName(a.ChannelID)}
		p["response_url"] = it.ResponseURL
		if m := s.findMessageLocked(a.ChannelID, a.MessageTS); m != nil && !m.Ephemeral {
			p["message"] = messageJSON(m)
		}
		return p, nil
	}
	return s.deliver(ctx, e)
}

// ViewSubmission submits the open modal viewID as userID. values maps
// block_id -> action_id -> plain text value. The ack decides the view's
// fate like in Slack: no response_action closes it, "errors" keeps it open
// (the ack payload is in AckPayload), "update"/"push"/"clear" act on the
// stack.
func (s *Server) ViewSubmission(ctx context.Context, userID, viewID string, values map[string]map[string]string) (*Interaction, error) {
	return s.deliver(ctx, envelope{
		typ: "interactive", accepts: true, userID: userID, trigger: true, viewID: viewID,
		build: func(it *Interaction) (map[string]any, error) {
			v, ok := s.st.views[viewID]
			if !ok || v.Closed {
				return nil, ErrUnknownView
			}
			state := map[string]map[string]any{}
			for block, actions := range values {
				state[block] = map[string]any{}
				for action, value := range actions {
					state[block][action] = map[string]any{"type": "plain_text_input", "value": value}
				}
			}
			view := map[string]json.RawMessage{}
			_ = json.Unmarshal(v.Raw, &view)
			view["state"], _ = json.Marshal(map[string]any{"values": state})
			p := s.basePayloadLocked("view_submission", userID, it)
			p["view"] = view
			p["response_urls"] = []any{}
			return p, nil
		},
		onAck: func(it *Interaction, payload json.RawMessage) {
			s.applyViewAckLocked(it, viewID, payload)
		},
	})
}

// EventCallback sends an events_api envelope wrapping event (any value that
// marshals to a Slack event object with a "type") in an event_callback. The
// outer payload carries team_id (the fake workspace), and inside Enterprise
// Grid (see [Server.SetEnterprise]) enterprise_id, like real Slack; both
// also appear in authorizations and as context_team_id /
// context_enterprise_id.
func (s *Server) EventCallback(ctx context.Context, event any) (*Interaction, error) {
	return s.deliver(ctx, envelope{
		typ: "events_api",
		build: func(*Interaction) (map[string]any, error) {
			return s.eventPayloadLocked(event), nil
		},
	})
}

// eventPayloadLocked wraps event in an event_callback payload.
func (s *Server) eventPayloadLocked(event any) map[string]any {
	now := s.nowLocked()
	ent := s.st.enterpriseID
	auth := map[string]any{
		"enterprise_id": nullable(ent), "team_id": TeamID, "user_id": BotUserID,
		"is_bot": true, "is_enterprise_install": false,
	}
	p := map[string]any{
		"token": VerificationToken, "team_id": TeamID, "api_app_id": AppID,
		"event": event, "type": "event_callback",
		"event_id": s.st.nextID("Ev"), "event_time": now.Unix(),
		"authorizations":        []map[string]any{auth},
		"is_ext_shared_channel": false,
		"context_team_id":       TeamID, "context_enterprise_id": nullable(ent),
	}
	if ent != "" {
		p["enterprise_id"] = ent
	}
	return p
}

// basePayloadLocked is the common part of interactive payloads: user (with
// the user's own team_id), team and enterprise (null outside Grid) from the
// payload's origin.
func (s *Server) basePayloadLocked(typ, userID string, it *Interaction) map[string]any {
	org := s.originLocked(userID, Origin{})
	name := s.st.userName(userID)
	team := map[string]any{"id": org.TeamID, "domain": TeamDomain}
	if org.EnterpriseID != "" {
		team["enterprise_id"] = org.EnterpriseID
		team["enterprise_name"] = s.enterpriseNameLocked(org.EnterpriseID)
	}
	return map[string]any{
		"type":  typ,
		"user":  map[string]any{"id": userID, "username": name, "name": name, "team_id": s.st.teamOf(userID)},
		"team":  team,
		"token": VerificationToken, "api_app_id": AppID, "trigger_id": it.TriggerID,
		"is_enterprise_install": false, "enterprise": s.enterpriseObjLocked(org.EnterpriseID),
	}
}

// markDMLocked treats the bot's DM with userID as open when the user
// interacts from it.
func (s *Server) markDMLocked(userID, channelID string) {
	if channelID == dmChannelID(userID) {
		s.st.dms[channelID] = true
	}
}
