package fakeslack

import (
	"context"
	"encoding/json"
)

// CloseView closes the open modal viewID as userID would with its Close
// button: the view closes and the one below it in the stack, if any, shows
// again. When the view was opened with notify_on_close, a view_closed
// interaction is delivered and CloseView waits for its ack; otherwise the
// bot hears nothing, as in Slack, and the returned Interaction is nil. It
// returns [ErrUnknownView] for a view that is not an open modal of userID.
func (s *Server) CloseView(ctx context.Context, userID, viewID string) (*Interaction, error) {
	s.mu.Lock()
	v, ok := s.st.views[viewID]
	if !ok || v.Closed || v.Type != "modal" || v.UserID != userID {
		s.mu.Unlock()
		return nil, ErrUnknownView
	}
	v.Closed = true
	var flags struct {
		NotifyOnClose bool `json:"notify_on_close"`
	}
	_ = json.Unmarshal(v.Raw, &flags)
	raw := v.clone().Raw
	s.mu.Unlock()
	if !flags.NotifyOnClose {
		return nil, nil
	}
	return s.deliver(ctx, envelope{
		typ: "interactive", userID: userID,
		build: func(it *Interaction) (map[string]any, error) {
			p := s.basePayloadLocked("view_closed", userID, it)
			p["view"] = json.RawMessage(raw)
			p["is_cleared"] = false
			return p, nil
		},
	})
}
