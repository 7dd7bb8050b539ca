package fakeslack

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// pendingAck is an envelope waiting for the client's ack.
type pendingAck struct {
	ch    chan ackResult                // buffered, receives exactly one result
	onAck func(payload json.RawMessage) // runs with Server.mu held, may be nil
	acked bool
	conn  *wsConn // the connection the envelope was last written to
}

type ackResult struct {
	at      time.Time
	payload json.RawMessage
}

// handleAck records a frame from the client on connection c and resolves
// its envelope. Like Slack, only an ack on the connection that carried the
// envelope counts; an ack on another connection is recorded and ignored.
func (s *Server) handleAck(c *wsConn, data []byte) {
	params, fields := jsonParams(data)
	env := params["envelope_id"]
	payload := fields["payload"]
	if string(payload) == "null" {
		payload = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordLocked(KindAck, env, params, data)
	s.st.calls[len(s.st.calls)-1].Conn = c.seq
	p, ok := s.st.pending[env]
	if !ok || p.acked || p.conn != c {
		return
	}
	p.acked = true
	if p.onAck != nil {
		p.onAck(payload)
	}
	p.ch <- ackResult{at: time.Now(), payload: slices.Clone(payload)}
}

// SetPingInterval sets how often the fake pings each socket (default 1s).
// It applies to connections made afterwards. A connection that sends
// neither a pong nor a frame for 3 intervals (at least 2s) is closed by the
// fake.
// d <= 0 restores the default.
func (s *Server) SetPingInterval(d time.Duration) {
	if d <= 0 {
		d = time.Second
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.pingInterval = d
}

// PausePings stops (true) or resumes (false) pinging every connection, to
// exercise the client's ping timeout (slack-go's socketmode reconnects when
// no ping arrives for its OptionPingInterval, default 30s).
func (s *Server) PausePings(paused bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.pingsPaused = paused
}

// DropSockets abruptly closes every live WebSocket connection, without a
// close frame. slack-go's socketmode client reconnects through
// apps.connections.open right away.
func (s *Server) DropSockets() {
	s.mu.Lock()
	conns := s.st.takeConns()
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.Close()
	}
}

// SendDisconnect sends a {"type":"disconnect","reason":reason} message on
// every live connection, as Slack does before rotating connections
// (reason "refresh_requested", "warning", "link_disabled"...). slack-go's
// client closes the connection and reconnects.
func (s *Server) SendDisconnect(reason string) {
	msg, _ := json.Marshal(map[string]any{
		"type": "disconnect", "reason": reason,
		"debug_info": map[string]any{"host": "fake"},
	})
	s.mu.Lock()
	conns := make([]*wsConn, 0, len(s.st.conns))
	for c := range s.st.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.write(msg)
	}
}

// Connections returns the number of successful socket connections so far
// (upgraded and greeted with hello), including ones that have since closed.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.connections
}

// LiveConnections returns the number of currently open socket connections.
func (s *Server) LiveConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.conns)
}

// Pongs returns how many pong frames the clients have sent so far.
func (s *Server) Pongs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.pongs
}

// WaitConnections blocks until at least n successful connections were made
// (see [Server.Connections]) and one is live, or ctx ends.
func (s *Server) WaitConnections(ctx context.Context, n int) error {
	return s.waitConns(ctx, func() bool { return s.st.connections >= n && len(s.st.conns) > 0 })
}

// waitConns blocks until done, called with the lock held, reports true
// (checked again at every connection change), or ctx ends.
func (s *Server) waitConns(ctx context.Context, done func() bool) error {
	for {
		s.mu.Lock()
		ok := done()
		changed := s.st.connChanged
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closed:
			return ErrClosed
		case <-changed:
		}
	}
}

// LiveConnectionIDs returns the sequence numbers of the open socket
// connections, in ascending order (see [Interaction.Conn]).
func (s *Server) LiveConnectionIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for _, c := range s.st.liveConnsLocked() {
		out = append(out, c.seq)
	}
	return out
}

// DropConnection abruptly closes the live connection with sequence number
// seq (see [Interaction.Conn]), without a close frame, leaving the others
// open. An envelope it carried but had not acked is redelivered to another
// live connection. It reports whether such a connection was open.
func (s *Server) DropConnection(seq int) bool {
	s.mu.Lock()
	var found *wsConn
	for c := range s.st.conns {
		if c.seq == seq {
			found = c
		}
	}
	s.mu.Unlock()
	if found == nil {
		return false
	}
	s.dropConn(found)
	return true
}

// SendDisconnectTo sends a {"type":"disconnect"} message like
// [Server.SendDisconnect], on the live connection with sequence number seq
// only. It reports whether such a connection was open.
func (s *Server) SendDisconnectTo(seq int, reason string) bool {
	msg, _ := json.Marshal(map[string]any{
		"type": "disconnect", "reason": reason,
		"debug_info": map[string]any{"host": "fake"},
	})
	s.mu.Lock()
	var found *wsConn
	for c := range s.st.conns {
		if c.seq == seq {
			found = c
		}
	}
	s.mu.Unlock()
	if found == nil {
		return false
	}
	_ = found.write(msg)
	return true
}

// WaitLiveConnections blocks until at least n socket connections are open
// at once, or ctx ends.
func (s *Server) WaitLiveConnections(ctx context.Context, n int) error {
	return s.waitConns(ctx, func() bool { return len(s.st.conns) >= n })
}
