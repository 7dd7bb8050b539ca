package fakeslack

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"
)

// Interaction is one envelope the fake delivered over Socket Mode, and its
// ack. It is returned once the client acked (or with an error when the
// context ended first, in which case Acked is zero).
type Interaction struct {
	Type        string // envelope type: "slash_commands", "interactive" or "events_api"
	EnvelopeID  string
	ResponseURL string // URL on the fake; empty when the interaction has none
	ResponseID  string // the ID used in Message.ResponseURL and Call.Method
	TriggerID   string // valid for views.open/views.push for 3 s after Sent
	Payload     json.RawMessage
	Sent        time.Time       // when the envelope was last written (wall clock)
	Acked       time.Time       // when the ack arrived (wall clock)
	AckPayload  json.RawMessage // the ack's payload, or nil
	// Conn is the sequence number of the connection that acked the envelope
	// (1 for the first connection ever made, 2 for the next...).
	Conn int
	// Conns lists, in order, the connections the envelope was written to:
	// more than one when a connection dropped before acking and the fake
	// redelivered the envelope elsewhere, as Slack retries.
	Conns []int
	// RetryAttempt is the retry_attempt of the delivery that was acked: 0
	// for the first delivery, 1 for the first redelivery...
	RetryAttempt int
	// AckError is set when the ack's payload was refused as Slack refuses
	// it (e.g. "invalid_blocks" for a message beyond Block Kit's limits, or
	// a view_submission "update"/"push" whose view is invalid); the message
	// or view change is then not applied.
	AckError string
}

// AckLatency is the time between sending the envelope and receiving the
// ack. Slack shows the user an error when it exceeds 3 seconds.
func (i *Interaction) AckLatency() time.Duration { return i.Acked.Sub(i.Sent) }

// MaxRedeliveries is how many times the fake redelivers an envelope whose
// connection closed before the ack arrived (Slack retries an unacknowledged
// event up to 3 times, with retry_attempt 1, 2, 3 and retry_reason
// "timeout"). Each redelivery goes to the next live connection, waiting for
// one if none is open.
const MaxRedeliveries = 3

// ErrNotAcked is returned by interaction methods when every delivery of the
// envelope was lost with its connection (see [MaxRedeliveries]).
var ErrNotAcked = errors.New("fakeslack: envelope not acknowledged on any connection")

// envelope describes an interaction to deliver.
type envelope struct {
	typ         string
	accepts     bool   // accepts_response_payload
	userID      string // the acting user
	trigger     bool   // issue a trigger_id
	viewID      string // the view the trigger belongs to
	withURL     bool   // issue a response URL
	urlChannel  string // channel of the response URL's messages
	origChannel string // message replaced/deleted through the response URL
	origTS      string
	// build renders the payload; it runs with s.mu held.
	build func(it *Interaction) (map[string]any, error)
	// onAck applies the ack's effects; it runs with s.mu held.
	onAck func(it *Interaction, payload json.RawMessage)
}

// deliver issues IDs, sends the envelope to one live connection (round
// robin, waiting for one), and waits for that connection's ack. When the
// connection closes before acking, the envelope is redelivered to another
// live connection with retry_attempt incremented, like Slack's retries.
func (s *Server) deliver(ctx context.Context, e envelope) (*Interaction, error) {
	it := &Interaction{Type: e.typ}
	pending := &pendingAck{ch: make(chan ackResult, 1)}

	s.mu.Lock()
	now := s.nowLocked()
	it.EnvelopeID = s.st.nextID("env-")
	var trig *trigger
	if e.trigger {
		it.TriggerID = s.st.nextID("trigger.")
		trig = &trigger{issued: now, userID: e.userID, viewID: e.viewID}
		s.st.triggers[it.TriggerID] = trig
	}
	var resp *responseURL
	if e.withURL {
		it.ResponseID = s.st.nextID("R")
		it.ResponseURL = s.srv.URL + "/response/" + it.ResponseID
		resp = &responseURL{
			issued: now, channel: e.urlChannel, userID: e.userID,
			origChannel: e.origChannel, origTS: e.origTS,
		}
		s.st.responses[it.ResponseID] = resp
	}
	payload, err := e.build(it)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	it.Payload, _ = json.Marshal(payload)
	if e.onAck != nil {
		pending.onAck = func(p json.RawMessage) { e.onAck(it, p) }
	}
	s.st.pending[it.EnvelopeID] = pending
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.st.pending, it.EnvelopeID)
		s.mu.Unlock()
	}()

	for attempt := 0; ; {
		reason := ""
		if attempt > 0 {
			reason = "timeout"
		}
		frame, _ := json.Marshal(map[string]any{
			"envelope_id": it.EnvelopeID, "type": e.typ, "payload": it.Payload,
			"accepts_response_payload": e.accepts, "retry_attempt": attempt, "retry_reason": reason,
		})
		c, err := s.pickConn(ctx)
		if err != nil {
			return it, err
		}
		s.mu.Lock() // the clock for triggers and response URLs starts now
		now := s.nowLocked()
		if trig != nil {
			trig.issued = now
		}
		if resp != nil {
			resp.issued = now
		}
		pending.conn = c
		s.mu.Unlock()
		it.Sent = time.Now()
		if c.write(frame) != nil {
			s.dropConn(c) // dead connection: the envelope never left, try another
			continue
		}
		it.Conns = append(it.Conns, c.seq)
		select {
		case res := <-pending.ch:
			it.Acked = res.at
			it.AckPayload = slices.Clone(res.payload)
			it.Conn, it.RetryAttempt = c.seq, attempt
			return it, nil
		case <-c.done:
			select { // an ack that raced with the close still counts
			case res := <-pending.ch:
				it.Acked = res.at
				it.AckPayload = slices.Clone(res.payload)
				it.Conn, it.RetryAttempt = c.seq, attempt
				return it, nil
			default:
			}
			if attempt == MaxRedeliveries {
				return it, ErrNotAcked
			}
			attempt++
		case <-ctx.Done():
			return it, ctx.Err()
		case <-s.closed:
			return it, ErrClosed
		}
	}
}

// dropConn closes c and unregisters it at once (its reader also would).
func (s *Server) dropConn(c *wsConn) {
	_ = c.ws.Close()
	s.mu.Lock()
	if s.st.conns[c] {
		delete(s.st.conns, c)
		s.st.notifyConnsLocked()
	}
	s.mu.Unlock()
}
