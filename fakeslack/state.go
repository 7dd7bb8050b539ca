package fakeslack

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// state is everything the fake knows. It is only touched with Server.mu held.
type state struct {
	seq    int64 // source of unique IDs
	lastTS int64 // last message timestamp handed out, in microseconds

	enterpriseID   string // Enterprise Grid organisation, "" outside Grid
	enterpriseName string

	users     map[string]*User
	userOrder []string
	channels  map[string]*channel
	dms       map[string]bool // DM channel IDs opened via conversations.open

	calls    []Call
	messages []*Message

	views     map[string]*View
	viewOrder []string
	homeViews map[string]string // user ID -> home tab view ID
	triggers  map[string]*trigger
	responses map[string]*responseURL

	// socket mode
	tickets      map[string]bool // one-time apps.connections.open tickets
	conns        map[*wsConn]bool
	connChanged  chan struct{} // closed and replaced whenever conns changes
	connections  int           // successful connections so far
	rr           int           // round-robin cursor over live connections
	pongs        int
	pingInterval time.Duration
	pingsPaused  bool
	pending      map[string]*pendingAck

	// faults
	failures      map[string]*fault
	rateLimits    map[string]*fault
	responseFault int
	apiLatency    time.Duration
}

func newState() state {
	return state{
		users:        map[string]*User{},
		channels:     map[string]*channel{},
		dms:          map[string]bool{},
		views:        map[string]*View{},
		homeViews:    map[string]string{},
		triggers:     map[string]*trigger{},
		responses:    map[string]*responseURL{},
		tickets:      map[string]bool{},
		conns:        map[*wsConn]bool{},
		connChanged:  make(chan struct{}),
		pingInterval: time.Second,
		pending:      map[string]*pendingAck{},
		failures:     map[string]*fault{},
		rateLimits:   map[string]*fault{},
	}
}

// channel is a conversation registered with AddChannel.
type channel struct {
	id        string
	botMember bool
	members   map[string]bool
}

// trigger is an issued trigger_id.
type trigger struct {
	issued time.Time
	used   bool
	userID string // the user who caused the interaction
	viewID string // the view the interaction happened in, if any
}

// nextID returns prefix followed by a fresh zero-padded number.
func (st *state) nextID(prefix string) string {
	st.seq++
	return fmt.Sprintf("%s%08d", prefix, st.seq)
}

// nextTS returns a unique Slack message timestamp ("seconds.micros") that is
// never lower than now.
func (st *state) nextTS(now time.Time) string {
	us := now.UnixMicro()
	if us <= st.lastTS {
		us = st.lastTS + 1
	}
	st.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// dmChannelID is the deterministic DM channel ID between the bot and userID.
func dmChannelID(userID string) string { return "D" + userID }

// channelName is the channel_name sent in interaction payloads.
func channelName(id string) string {
	if strings.HasPrefix(id, "D") {
		return "directmessage"
	}
	return "channel-" + strings.ToLower(id)
}

// userName is the handle of userID, or a made-up one for unknown users.
func (st *state) userName(userID string) string {
	if u, ok := st.users[userID]; ok && u.Name != "" {
		return u.Name
	}
	return "user-" + strings.ToLower(userID)
}

// teamOf is the team of userID, defaulting to the fake workspace.
func (st *state) teamOf(userID string) string {
	if u, ok := st.users[userID]; ok {
		return u.TeamID
	}
	return TeamID
}

// notifyConnsLocked wakes everybody waiting for a change of the live set.
func (st *state) notifyConnsLocked() {
	close(st.connChanged)
	st.connChanged = make(chan struct{})
}

// liveConnsLocked returns the live connections ordered by sequence number.
func (st *state) liveConnsLocked() []*wsConn {
	out := make([]*wsConn, 0, len(st.conns))
	for c := range st.conns {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *wsConn) int { return a.seq - b.seq })
	return out
}

// takeConns removes and returns every live connection.
func (st *state) takeConns() []*wsConn {
	out := make([]*wsConn, 0, len(st.conns))
	for c := range st.conns {
		out = append(out, c)
	}
	clear(st.conns)
	st.notifyConnsLocked()
	return out
}

// stringify renders a JSON value as a Call.Params value: strings unquoted,
// null as "", anything else as its JSON text.
func stringify(raw json.RawMessage) string {
	var s *string
	if json.Unmarshal(raw, &s) == nil {
		if s == nil {
			return ""
		}
		return *s
	}
	return string(raw)
}

// jsonParams turns the top-level fields of a JSON object into Params.
func jsonParams(body []byte) (map[string]string, map[string]json.RawMessage) {
	fields := map[string]json.RawMessage{}
	if err := json.Unmarshal(body, &fields); err != nil {
		return map[string]string{}, fields
	}
	params := make(map[string]string, len(fields))
	for k, v := range fields {
		params[k] = stringify(v)
	}
	return params, fields
}
