package bot

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/slack-go/slack/socketmode"
)

// connState tracks whether the socket-mode connection is up, for
// readiness: a replica whose socket is down gets no events, so it should
// not count as ready.
type connState struct{ up atomic.Bool }

// watch registers handlers that follow the connection's life.
//
// SocketmodeHandler runs each handler in a goroutine of its own, so
// handlers of events that follow each other closely may run in either
// order. "connecting" is therefore not taken as down: it precedes
// "connected" by no more than a loopback dial, and a late "connecting"
// handler would leave a live connection marked down for good. A dropped
// connection reports "disconnect" or "connection_error" first, a whole
// reconnect (dial and hello) before the next "connected".
func (c *connState) watch(h *socketmode.SocketmodeHandler) {
	up := func(*socketmode.Event, *socketmode.Client) { c.up.Store(true) }
	down := func(*socketmode.Event, *socketmode.Client) { c.up.Store(false) }
	h.Handle(socketmode.EventTypeConnected, up)
	h.Handle(socketmode.EventTypeHello, up)
	h.Handle(socketmode.EventTypeConnectionError, down)
	h.Handle(socketmode.EventTypeDisconnect, down)
}

// CheckConnected returns nil while the socket-mode connection is up.
func (b *Bot) CheckConnected(context.Context) error {
	if !b.conn.up.Load() {
		return errors.New("socket mode not connected")
	}
	return nil
}
