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
func (c *connState) watch(h *socketmode.SocketmodeHandler) {
	up := func(*socketmode.Event, *socketmode.Client) { c.up.Store(true) }
	down := func(*socketmode.Event, *socketmode.Client) { c.up.Store(false) }
	h.Handle(socketmode.EventTypeConnected, up)
	h.Handle(socketmode.EventTypeHello, up)
	h.Handle(socketmode.EventTypeConnecting, down)
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
