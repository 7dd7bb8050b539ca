package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"unicode"

	"github.com/emersion/go-smtp"

	"github.com/apppass/apppass/domain"
)

// deliver hands a message whose header block hdr passed the session's
// checks on to the upstream, with the rest of it, body, as a stream. It
// returns nil (250) once the upstream accepted it (or sent it and lost the
// answer: "unconfirmed"), 451 with a reference when the upstream stayed
// busy (the device retries), and a 5xx with a reference for a permanent
// refusal: Exchange's own code, or 554 5.0.0. readErr maps a failure to
// read the device's message.
func (g *Gateway) deliver(ctx context.Context, l Login, addr, from string, rcpts []string, hdr []byte, body io.Reader, readErr func(error) error) error {
	now := g.now()
	ref := refOf(ctx)
	msgID := ""
	if m, err := mail.ReadMessage(bytes.NewReader(hdr)); err == nil {
		msgID = clip(m.Header.Get("Message-Id"), 200)
	}
	event := domain.AuditEvent{ActorID: l.Mailbox.ID, SubjectID: l.Mailbox.ID, Action: "smtp-send", KeyID: l.KeyID, Ref: ref, At: now}
	// Delivery outlives a hang-up (an unknown outcome is worse than a
	// late one) but keeps the session's correlation id.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.opts.DeliveryTimeout)
	defer cancel()
	msg := &deviceReader{r: io.MultiReader(bytes.NewReader(hdr), body)}
	d, err := g.upstream.Deliver(ctx, Envelope{From: from, To: rcpts, Owner: l.Mailbox}, msg)
	event.Name = fmt.Sprintf("from %s, %d recipients, %d bytes, Message-ID %s", addr, len(rcpts), msg.n, msgID)
	return g.answer(ctx, l, event, msg.n, d, err, readErr)
}

// holdsMessages reports whether the upstream takes messages whole (Graph),
// so that their bytes count against the memory budget.
func (g *Gateway) holdsMessages() bool {
	_, streams := g.upstream.(*SMTPUpstream)
	return !streams
}

// answer records the outcome of a delivery and turns it into the
// device's answer.
func (g *Gateway) answer(ctx context.Context, l Login, event domain.AuditEvent, size int64, d Delivery, err error, readErr func(error) error) error {
	ref := event.Ref
	var ee *ExchangeError
	var se *smtp.SMTPError
	var de *deviceReadError
	switch {
	case err == nil:
		g.metrics.messages.Add(1)
		g.metrics.messageBytes.Add(size)
		event.Outcome = "ok"
		if d.Unconfirmed {
			event.Outcome = "unconfirmed: sent, but the answer was lost"
			g.log.WarnContext(ctx, "gateway: delivery unconfirmed", "owner", l.Mailbox.ID, "upstream_ref", d.Ref)
		}
		g.audit(ctx, event)
		return nil
	case errors.As(err, &de):
		event.Outcome = "aborted: the device's message did not arrive whole"
		if errors.Is(err, smtp.ErrDataTooLarge) {
			event.Outcome = "refused: too big"
		}
		g.audit(ctx, event)
		return readErr(de.err)
	case errors.As(err, &ee):
		return g.exchangeAnswer(ctx, l, event, ee)
	case errors.As(err, &se):
		event.Outcome = "refused: " + clip(se.Message, 200)
		g.audit(ctx, event)
		return withRef(se, ref)
	case domain.KindOf(err) == domain.KindUpstream:
		g.metrics.deliveryTemporary.Add(1)
		g.log.WarnContext(ctx, "gateway: delivery failed for now", "owner", l.Mailbox.ID, "upstream_ref", domain.RefOf(err), "err", err)
		event.Outcome = "temporary failure"
		g.audit(ctx, event)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Microsoft 365 is busy; try again later (ref " + ref + ")"}
	default:
		g.metrics.deliveryFailed.Add(1)
		g.log.ErrorContext(ctx, "gateway: delivery refused", "owner", l.Mailbox.ID, "upstream_ref", domain.RefOf(err), "err", err)
		event.Outcome = "refused: " + domain.MessageOf(err)
		g.audit(ctx, event)
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 0, 0}, Message: "Microsoft 365 refused the message (ref " + ref + ")"}
	}
}

// exchangeAnswer hands Exchange Online's refusal on: 4xx as 451 with
// Exchange's enhanced code (a 421 or 432 of Exchange's is about apppass's
// connection, not the device's), 5xx with Exchange's code. A refused AUTH
// is apppass's grant, not the device's password: it becomes 554 with the
// fix named, so that no device takes it for a wrong password.
func (g *Gateway) exchangeAnswer(ctx context.Context, l Login, event domain.AuditEvent, ee *ExchangeError) error {
	ref := event.Ref
	said := clip(fmt.Sprintf("%d %d.%d.%d %s", ee.Reply.Code, ee.Reply.EnhancedCode[0], ee.Reply.EnhancedCode[1], ee.Reply.EnhancedCode[2], ee.Reply.Message), 200)
	event.Outcome = "exchange " + ee.Stage + ": " + said
	g.audit(ctx, event)
	code, enh := ee.Reply.Code, ee.Reply.EnhancedCode
	if enh == smtp.NoEnhancedCode || enh == smtp.EnhancedCodeNotSet {
		enh = smtp.EnhancedCode{code / 100, 0, 0}
	}
	if ee.Temporary() {
		g.metrics.deliveryTemporary.Add(1)
		g.log.WarnContext(ctx, "gateway: exchange answered try again later", "owner", l.Mailbox.ID, "stage", ee.Stage, "exchange", said)
		return &smtp.SMTPError{Code: 451, EnhancedCode: enh, Message: "Exchange Online: " + said + "; try again later (ref " + ref + ")"}
	}
	g.metrics.deliveryFailed.Add(1)
	g.log.ErrorContext(ctx, "gateway: exchange refused", "owner", l.Mailbox.ID, "stage", ee.Stage, "exchange", said)
	msg := "Exchange Online refused the message: " + said
	if ee.Stage == "auth" || ee.Stage == "connect" {
		code = 554
		switch enh {
		case smtp.EnhancedCode{5, 7, 139}:
			msg = "Exchange Online does not allow SMTP AUTH for this mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $false)"
		default:
			msg = "apppass may not send as this mailbox through Exchange Online (Application SMTP.SendAsApp on a management scope holding it): " + said
		}
	}
	return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg + " (ref " + ref + ")"}
}

// withEnvelopeRecipients returns msg unchanged when every envelope
// recipient is in its To, Cc or Bcc header; otherwise it prepends a Bcc
// header with the missing ones. Graph delivers to the MIME headers'
// recipients, and SMTP clients put blind copies only in the envelope;
// Exchange removes Bcc before the message leaves.
func withEnvelopeRecipients(msg []byte, h mail.Header, rcpts []string) []byte {
	have := map[string]bool{}
	for _, k := range []string{"To", "Cc", "Bcc"} {
		list, _ := h.AddressList(k) // an unreadable header adds nothing
		for _, a := range list {
			have[strings.ToLower(a.Address)] = true
		}
	}
	var missing []string
	for _, r := range rcpts {
		if !have[strings.ToLower(r)] {
			have[strings.ToLower(r)] = true
			missing = append(missing, (&mail.Address{Address: r}).String())
		}
	}
	if len(missing) == 0 {
		return msg
	}
	nl := "\r\n"
	if i := bytes.IndexByte(msg, '\n'); i > 0 && msg[i-1] != '\r' {
		nl = "\n"
	}
	return append([]byte("Bcc: "+strings.Join(missing, ","+nl+" ")+nl), msg...)
}

// clip removes control characters from a device-supplied header and cuts
// it to n bytes, for the audit trail.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) > n {
		s = s[:n]
	}
	return s
}
