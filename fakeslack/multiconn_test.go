package fakeslack_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack/socketmode"

	"github.com/apppass/apppass/fakeslack"
)

// rawConn is a hand-driven Socket Mode connection, for tests that need to
// withhold or misroute acks.
type rawConn struct {
	t  *testing.T
	ws *websocket.Conn
}

// dialRaw opens a Socket Mode connection through apps.connections.open and
// reads its hello.
func dialRaw(t *testing.T, s *fakeslack.Server) *rawConn {
	t.Helper()
	u, err := openURL(s)
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	c := &rawConn{t: t, ws: ws}
	if hello := c.read(); hello["type"] != "hello" {
		t.Fatalf("first frame %v", hello)
	}
	return c
}

func openURL(s *fakeslack.Server) (string, error) {
	_, u, err := newAPI(s).StartSocketModeContext(context.Background())
	return u, err
}

// read returns the next frame as a JSON object.
func (c *rawConn) read() map[string]any {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m map[string]any
	if err := c.ws.ReadJSON(&m); err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// ack acknowledges envelope id on this connection.
func (c *rawConn) ack(id string) {
	c.t.Helper()
	if err := c.ws.WriteJSON(map[string]any{"envelope_id": id}); err != nil {
		c.t.Fatalf("ack: %v", err)
	}
}

// async runs fn in a goroutine and returns its results on a channel.
func async(fn func() (*fakeslack.Interaction, error)) <-chan result {
	ch := make(chan result, 1)
	go func() {
		it, err := fn()
		ch <- result{it, err}
	}()
	return ch
}

type result struct {
	it  *fakeslack.Interaction
	err error
}

func TestEnvelopesSpreadOverConnections(t *testing.T) {
	s := fakeslack.New(t)
	s.AddUser(fakeslack.User{ID: "U1", Name: "alice"})
	var mu sync.Mutex
	seen := map[string]int{} // envelope ID -> how many bots got it
	perBot := make([]int, 3)
	for i := range perBot {
		startBot(t, s, func(c *socketmode.Client, evt socketmode.Event) {
			if evt.Request != nil && evt.Request.EnvelopeID != "" {
				mu.Lock()
				seen[evt.Request.EnvelopeID]++
				perBot[i]++
				mu.Unlock()
			}
			ackAll(c, evt)
		})
	}
	ctx := testCtx(t)
	if err := s.WaitLiveConnections(ctx, 3); err != nil {
		t.Fatal(err)
	}
	perConn := map[int]int{}
	for range 9 {
		it, err := s.SlashCommand(ctx, "U1", "C1", "/apppass", "list")
		if err != nil {
			t.Fatal(err)
		}
		if len(it.Conns) != 1 || it.Conn != it.Conns[0] || it.RetryAttempt != 0 {
			t.Fatalf("interaction conns %v, conn %d, retry %d", it.Conns, it.Conn, it.RetryAttempt)
		}
		perConn[it.Conn]++
	}
	if len(perConn) != 3 {
		t.Fatalf("envelopes per connection %v, want 3 connections used", perConn)
	}
	for conn, n := range perConn {
		if n != 3 {
			t.Errorf("connection %d got %d envelopes, want 3 (round robin)", conn, n)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 9 {
		t.Errorf("bots saw %d distinct envelopes, want 9", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("envelope %s delivered to %d bots, want exactly 1", id, n)
		}
	}
	for i, n := range perBot {
		if n != 3 {
			t.Errorf("bot %d handled %d envelopes, want 3", i, n)
		}
	}
	for _, c := range s.Calls() {
		if c.Kind == fakeslack.KindAck && c.Conn == 0 {
			t.Errorf("ack %s recorded without its connection", c.Method)
		}
	}
}

func TestAckCountsOnlyOnItsConnection(t *testing.T) {
	s := fakeslack.New(t)
	a, b := dialRaw(t, s), dialRaw(t, s)
	ctx := testCtx(t)
	done := async(func() (*fakeslack.Interaction, error) {
		return s.SlashCommand(ctx, "U1", "C1", "/apppass", "")
	})
	env := a.read() // round robin starts with the oldest connection
	id := env["envelope_id"].(string)
	b.ack(id) // wrong connection: ignored
	select {
	case r := <-done:
		t.Fatalf("ack on the other connection resolved the envelope: %+v", r.it)
	case <-time.After(100 * time.Millisecond):
	}
	a.ack(id)
	r := <-done
	if r.err != nil || r.it.Conn != 1 {
		t.Fatalf("interaction %+v, %v; want acked on connection 1", r.it, r.err)
	}
	acks := s.CallsTo(id)
	if len(acks) != 2 || acks[0].Conn != 2 || acks[1].Conn != 1 {
		t.Fatalf("recorded acks %+v", acks)
	}
}

func TestDroppedConnectionRedeliversElsewhere(t *testing.T) {
	s := fakeslack.New(t)
	a, b := dialRaw(t, s), dialRaw(t, s)
	ctx := testCtx(t)
	done := async(func() (*fakeslack.Interaction, error) {
		return s.EventCallback(ctx, map[string]any{"type": "app_mention", "user": "U1"})
	})
	first := a.read()
	if first["retry_attempt"] != 0.0 || first["retry_reason"] != "" {
		t.Fatalf("first delivery %v", first)
	}
	if !s.DropConnection(1) {
		t.Fatal("connection 1 not live")
	}
	again := b.read()
	if again["envelope_id"] != first["envelope_id"] || again["retry_attempt"] != 1.0 || again["retry_reason"] != "timeout" {
		t.Fatalf("redelivery %v, first %v", again, first)
	}
	b.ack(again["envelope_id"].(string))
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.it.Conn != 2 || r.it.RetryAttempt != 1 || len(r.it.Conns) != 2 || r.it.Conns[0] != 1 {
		t.Fatalf("interaction conn %d retry %d conns %v", r.it.Conn, r.it.RetryAttempt, r.it.Conns)
	}
	if got := s.LiveConnectionIDs(); len(got) != 1 || got[0] != 2 {
		t.Fatalf("live connections %v", got)
	}
}

func TestRedeliveryGivesUp(t *testing.T) {
	s := fakeslack.New(t)
	ctx := testCtx(t)
	done := async(func() (*fakeslack.Interaction, error) {
		return s.EventCallback(ctx, map[string]any{"type": "app_mention"})
	})
	for i := 0; i <= fakeslack.MaxRedeliveries; i++ {
		c := dialRaw(t, s)
		env := c.read()
		if env["retry_attempt"] != float64(i) {
			t.Fatalf("delivery %d: %v", i, env)
		}
		s.DropSockets()
	}
	if r := <-done; r.err != fakeslack.ErrNotAcked {
		t.Fatalf("err %v, want ErrNotAcked", r.err)
	}
}

func TestConnectionLimit(t *testing.T) {
	s := fakeslack.New(t)
	for range fakeslack.MaxConnections {
		dialRaw(t, s)
	}
	u, err := openURL(s)
	if err != nil {
		t.Fatal(err)
	}
	_, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("11th connection: resp %v, err %v", resp, err)
	}
	if got := len(s.LiveConnectionIDs()); got != fakeslack.MaxConnections {
		t.Fatalf("%d live connections", got)
	}
}

func TestDisconnectOneConnection(t *testing.T) {
	s := fakeslack.New(t)
	startBot(t, s, ackAll)
	startBot(t, s, ackAll)
	ctx := testCtx(t)
	if err := s.WaitLiveConnections(ctx, 2); err != nil {
		t.Fatal(err)
	}
	ids := s.LiveConnectionIDs()
	if !s.SendDisconnectTo(ids[0], "refresh_requested") {
		t.Fatal("SendDisconnectTo: no such connection")
	}
	if err := s.WaitConnections(ctx, 3); err != nil {
		t.Fatalf("no reconnect: %v", err)
	}
	for {
		live := s.LiveConnectionIDs()
		if len(live) == 2 && live[0] == ids[1] && live[1] == 3 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("live connections %v, want [%d 3]", live, ids[1])
		case <-time.After(10 * time.Millisecond):
		}
	}
}
