package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/mail"
	"strings"

	"github.com/emersion/go-smtp"
)

// errHeaderRecipient refuses, for the graph upstream, a message whose
// header names someone the envelope does not: Graph delivers to the
// header's recipients, so sending it would reach people the device did
// not ask for (SPEC §10).
var errHeaderRecipient = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
	Message: "The message's To, Cc or Bcc names a recipient not given in RCPT TO"}

// GraphUpstream delivers through Microsoft Graph (SPEC §3): sendMail with
// the MIME, or a draft with its attachments for a larger message. Graph
// takes a whole message per request, so it holds the message in memory,
// up to MaxBytes.
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
	inEnvelope := map[string]bool{}
	for _, r := range env.To {
		inEnvelope[strings.ToLower(r)] = true
	}
	for _, k := range []string{"To", "Cc", "Bcc"} {
		if m.Header.Get(k) == "" {
			continue
		}
		list, err := m.Header.AddressList(k)
		if err != nil {
			return Delivery{}, &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "The message's " + k + " header is not readable"}
		}
		for _, a := range list {
			if !inEnvelope[strings.ToLower(a.Address)] {
				return Delivery{}, errHeaderRecipient
			}
		}
	}
	sent, err := g.Sender.SendMail(ctx, env.Owner.ID, withEnvelopeRecipients(data, m.Header, env.To))
	if err != nil {
		return Delivery{}, fmt.Errorf("graph upstream: %w", err)
	}
	return Delivery{Unconfirmed: sent.Unconfirmed, Ref: sent.Ref}, nil
}
