package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/mail"
)

// GraphUpstream delivers through Microsoft Graph (SPEC §3): sendMail with
// the MIME, or a draft with its attachments for a larger message. Graph
// takes a whole message per request, so it holds the message in memory,
// up to MaxBytes. Graph delivers to the header's recipients: the session
// has refused a header naming anyone outside the envelope (headers.go),
// and envelope-only recipients are added as Bcc here.
type GraphUpstream struct {
	Sender Sender
	// MaxBytes bounds the message held; 0: 35 MiB.
	MaxBytes int64
}

// Deliver implements Upstream.
func (g *GraphUpstream) Deliver(ctx context.Context, env Envelope, msg io.Reader) (Delivery, error) {
	limit := g.MaxBytes
	if limit <= 0 {
		limit = 35 << 20
	}
	data, err := io.ReadAll(io.LimitReader(msg, limit+1))
	if err != nil {
		return Delivery{}, err
	}
	if int64(len(data)) > limit {
		return Delivery{}, errTooBig
	}
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return Delivery{}, errBadHeader
	}
	sent, err := g.Sender.SendMail(ctx, env.Owner.ID, withEnvelopeRecipients(data, m.Header, env.To))
	if err != nil {
		return Delivery{}, fmt.Errorf("graph upstream: %w", err)
	}
	return Delivery{Unconfirmed: sent.Unconfirmed, Ref: sent.Ref}, nil
}
