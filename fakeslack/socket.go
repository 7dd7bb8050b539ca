package fakeslack

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// MaxConnections is how many Socket Mode connections one app may hold open
// at once; Slack documents a limit of 10. The fake refuses the upgrade of an
// 11th concurrent connection with HTTP 429 "too_many_websockets" (Slack does
// not document the exact refusal; slack-go's client retries the connection
// with backoff either way).
const MaxConnections = 10

// minPongWait is the least time the fake waits for a pong (or any frame)
// before it considers a connection dead and closes it.
const minPongWait = 2 * time.Second

// wsConn is one live Socket Mode connection.
type wsConn struct {
	ws      *websocket.Conn
	seq     int           // 1 for the first successful connection, 2 for the next...
	done    chan struct{} // closed when the read loop exits
	writeMu sync.Mutex    // gorilla allows one concurrent writer
}

// write sends one text frame.
func (c *wsConn) write(data []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.writeLocked(data)
}

// writeLocked sends one text frame; the caller holds writeMu.
func (c *wsConn) writeLocked(data []byte) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, data)
}

// apiConnectionsOpen serves apps.connections.open: it issues a one-time
// ticket and returns the WebSocket URL carrying it.
func (s *Server) apiConnectionsOpen(*apiRequest) (map[string]any, string) {
	ticket := s.st.nextID("ticket-")
	s.st.tickets[ticket] = true
	u := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/socket?ticket=" + ticket + "&app_id=" + AppID
	return map[string]any{"url": u}, ""
}

// handleSocket upgrades /socket, sends hello, then pings and reads acks.
func (s *Server) handleSocket(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	ok := s.st.tickets[ticket]
	delete(s.st.tickets, ticket)
	interval := s.st.pingInterval
	full := len(s.st.conns) >= MaxConnections
	s.mu.Unlock()
	if !ok {
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}
	if full {
		http.Error(w, "too_many_websockets", http.StatusTooManyRequests)
		return
	}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &wsConn{ws: ws, done: make(chan struct{})}

	// Register the connection and send hello while holding the connection's
	// write lock, so that hello precedes any envelope and Connections()
	// already counts the connection when the client sees hello. If the
	// write fails, the read loop notices and unregisters the connection.
	c.writeMu.Lock()
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		c.writeMu.Unlock()
		_ = ws.Close()
		return
	default:
	}
	s.st.connections++
	c.seq = s.st.connections
	s.st.conns[c] = true
	s.st.notifyConnsLocked()
	s.wg.Add(2)
	hello, _ := json.Marshal(map[string]any{
		"type":            "hello",
		"num_connections": len(s.st.conns),
		"debug_info": map[string]any{
			"host": "fake", "started": s.nowLocked().UTC().Format("2006-01-02 15:04:05.000"),
			"build_number": 1, "approximate_connection_time": 18060,
		},
		"connection_info": map[string]any{"app_id": AppID},
	})
	s.mu.Unlock()
	_ = c.writeLocked(hello)
	c.writeMu.Unlock()

	pongWait := max(3*interval, minPongWait)
	go s.pingLoop(c, interval, pongWait)
	s.readLoop(c, pongWait)
}

// pingLoop sends a ping control frame every interval unless pings are
// paused; while paused it keeps the read deadline from expiring.
func (s *Server) pingLoop(c *wsConn, interval, pongWait time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-s.closed:
			return
		case <-t.C:
		}
		s.mu.Lock()
		paused := s.st.pingsPaused
		s.mu.Unlock()
		if paused {
			_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
			continue
		}
		c.writeMu.Lock()
		err := c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(5*time.Second))
		c.writeMu.Unlock()
		if err != nil {
			return
		}
	}
}

// readLoop reads client frames (acks) until the connection fails or no
// pong/frame arrives within pongWait, then unregisters the connection.
func (s *Server) readLoop(c *wsConn, pongWait time.Duration) {
	defer s.wg.Done()
	defer func() {
		close(c.done)
		_ = c.ws.Close()
		s.mu.Lock()
		if s.st.conns[c] {
			delete(s.st.conns, c)
			s.st.notifyConnsLocked()
		}
		s.mu.Unlock()
	}()
	_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
	c.ws.SetPongHandler(func(string) error {
		s.mu.Lock()
		s.st.pongs++
		s.mu.Unlock()
		return c.ws.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
		s.handleAck(c, data)
	}
}

// pickConn returns the next live connection in round-robin order (by
// connection sequence number), waiting for one if there is none. Real Slack
// spreads envelopes over an app's open connections the same way: each
// envelope goes to exactly one of them.
func (s *Server) pickConn(ctx context.Context) (*wsConn, error) {
	for {
		s.mu.Lock()
		live := s.st.liveConnsLocked()
		changed := s.st.connChanged
		var c *wsConn
		if len(live) > 0 {
			c = live[s.st.rr%len(live)]
			s.st.rr++
		}
		s.mu.Unlock()
		if c != nil {
			return c, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.closed:
			return nil, ErrClosed
		case <-changed:
		}
	}
}
