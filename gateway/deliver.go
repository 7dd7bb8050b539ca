package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/mail"
	"strings"
	"unicode"

	"github.com/emersion/go-smtp"

	"github.com/apppass/apppass/domain"
)

// deliver checks the message's From against the owner and sends it as
// them. It returns nil (250) once Graph accepted it, 550 5.7.1 for a From
// that is not the owner's, 451 4.3.0 when Graph stayed busy (the device
// retries) and 554 5.0.0 with a reference for a permanent refusal.
func (g *Gateway) deliver(l login, addr, from string, rcpts []string, msg []byte) error {
	now := g.now()
	ref := newRef()
	hdr, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message header is not valid (ref " + ref + ")"}
	}
	// The owner acts (ActorID) with the password KeyID; the Message-ID is
	// what finds the message again in Exchange's message trace.
	msgID := clip(strings.TrimSpace(hdr.Header.Get("Message-Id")), 200)
	if msgID == "" {
		msgID = "none (the device set no Message-ID)"
	}
	event := domain.AuditEvent{ActorID: l.mailbox.ID, SubjectID: l.mailbox.ID, Action: "smtp-send", KeyID: l.keyID, Ref: ref, At: now,
		Name: fmt.Sprintf("from %s, %s, %d bytes, Message-ID %s", addr, domain.Count(len(rcpts), "recipient", "recipients"), len(msg), msgID)}
	ctx, cancel := context.WithTimeout(context.Background(), g.opts.DeliveryTimeout)
	defer cancel()
	for _, h := range []string{"From", "Sender"} {
		if hdr.Header.Get(h) == "" {
			if h == "From" {
				event.Outcome = "refused: no From"
				g.audit(ctx, event)
				return errNotYourAddr
			}
			continue
		}
		list, err := hdr.Header.AddressList(h)
		if err != nil || len(list) == 0 {
			event.Outcome = "refused: unreadable " + h
			g.audit(ctx, event)
			return errNotYourAddr
		}
		for _, a := range list {
			if !l.mailbox.Owns(a.Address) {
				event.Outcome = "refused: " + h + " is not the owner's"
				g.audit(ctx, event)
				return errNotYourAddr
			}
		}
	}
	out := withEnvelopeRecipients(msg, hdr.Header, rcpts)
	err = g.sender.SendMail(ctx, l.mailbox.ID, out)
	switch {
	case err == nil:
		g.metrics.messages.Add(1)
		g.metrics.messageBytes.Add(int64(len(msg)))
		event.Outcome = "ok"
		g.audit(ctx, event)
		return nil
	case domain.KindOf(err) == domain.KindUpstream:
		g.metrics.deliveryTemporary.Add(1)
		g.log.Warn("gateway: delivery failed for now", "owner", l.mailbox.ID, "ref", ref, "graph_ref", domain.RefOf(err), "err", err)
		event.Outcome = "temporary failure"
		g.audit(ctx, event)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Microsoft 365 is busy; try again later (ref " + ref + ")"}
	default:
		g.metrics.deliveryFailed.Add(1)
		g.log.Error("gateway: delivery refused", "owner", l.mailbox.ID, "ref", ref, "graph_ref", domain.RefOf(err), "err", err)
		event.Outcome = "refused: " + domain.MessageOf(err)
		g.audit(ctx, event)
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 0, 0}, Message: "Microsoft 365 refused the message (ref " + ref + ")"}
	}
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

// newRef returns a short reference for the device's error message, the
// audit trail and the logs.
func newRef() string {
	return "gw-" + strings.ToLower(rand.Text()[:10])
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
