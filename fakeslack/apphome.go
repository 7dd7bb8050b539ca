package fakeslack

import (
	"context"
	"encoding/json"
	"fmt"
)

// AppHomeOpened sends the app_home_opened event Slack sends when userID
// opens the app's Home tab, wrapped in an event_callback like
// [Server.EventCallback]:
//
//	{"type":"app_home_opened","user":"U…","channel":"D…","tab":"home",
//	 "event_ts":"…","view":{…}}
//
// channel is the bot's DM with the user; view is the Home view the bot last
// published for the user and is absent when there is none, as in Slack.
// The bot answers with views.publish (type "home", at most 100 blocks and
// Block Kit's limits; see [Server.HomeView]).
func (s *Server) AppHomeOpened(ctx context.Context, userID string) (*Interaction, error) {
	return s.deliver(ctx, envelope{
		typ: "events_api", userID: userID,
		build: func(*Interaction) (map[string]any, error) {
			now := s.nowLocked()
			ev := map[string]any{
				"type": "app_home_opened", "user": userID, "channel": dmChannelID(userID),
				"tab": "home", "event_ts": fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000),
			}
			if id, ok := s.st.homeViews[userID]; ok {
				ev["view"] = json.RawMessage(s.st.views[id].Raw)
			}
			return s.eventPayloadLocked(ev), nil
		},
	})
}
