package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"unicode"

	"github.com/emersion/go-smtp"

	"github.com/apppass/apppass/domain"
)

// maxHeaderBytes bounds the header block read before delivery begins
// (Exchange Online's own limit is 256 KB).
const maxHeaderBytes = 256 << 10

var errHeaderTooLarge = errors.New("header block too large")

var errBadHeader = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message header is not valid"}

// deliver reads the message's header block, checks its From and Sender
// against the owner and hands the message on to the upstream, streaming
// the rest. It returns nil (250) once the upstream accepted it (or sent it
// and lost the answer: "unconfirmed"), 550 5.7.1 for a From that is not
// the owner's, 451 with a reference when the upstream stayed busy (the
// device retries), and a 5xx with a reference for a permanent refusal:
// Exchange's own code and text, or 554 5.0.0.
func (g *Gateway) deliver(l login, addr, from string, rcpts []string, r io.Reader) error {
	now := g.now()
	ref := newRef()
	ctx, cancel := context.WithTimeout(context.Background(), g.opts.DeliveryTimeout)
	defer cancel()
	br := bufio.NewReaderSize(r, 32<<10)
	head, err := readHeaderBlock(br, maxHeaderBytes)
	event := domain.AuditEvent{ActorID: l.mailbox.ID, SubjectID: l.mailbox.ID, Action: "smtp-send", KeyID: l.keyID, Ref: ref, At: now}
	describe := func(size int64, msgID string) {
		event.Name = fmt.Sprintf("from %s, %d recipients, %d bytes, Message-ID %s", addr, len(rcpts), size, msgID)
	}
	if err != nil {
		if errors.Is(err, smtp.ErrDataTooLarge) {
			return errTooBig
		}
		if errors.Is(err, errHeaderTooLarge) {
			return withRef(errBadHeader, ref)
		}
		return fmt.Errorf("reading the message: %w", err) // go-smtp answers 554 5.0.0
	}
	hdr, err := mail.ReadMessage(bytes.NewReader(head))
	if err != nil {
		return withRef(errBadHeader, ref)
	}
	msgID := clip(hdr.Header.Get("Message-Id"), 200)
	describe(int64(len(head)), msgID)
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
	msg := &deviceReader{r: io.MultiReader(bytes.NewReader(head), br)}
	d, err := g.upstream.Deliver(ctx, Envelope{From: from, To: rcpts, Owner: l.mailbox}, msg)
	describe(msg.n, msgID)
	return g.answer(ctx, l, event, msg.n, d, err)
}

// answer records the outcome of a delivery and turns it into the
// device's answer.
func (g *Gateway) answer(ctx context.Context, l login, event domain.AuditEvent, size int64, d Delivery, err error) error {
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
			g.log.Warn("gateway: delivery unconfirmed", "owner", l.mailbox.ID, "ref", ref, "upstream_ref", d.Ref)
		}
		g.audit(ctx, event)
		return nil
	case errors.As(err, &de):
		if errors.Is(err, smtp.ErrDataTooLarge) {
			event.Outcome = "refused: too big"
			g.audit(ctx, event)
			return errTooBig
		}
		event.Outcome = "aborted: the device's message did not arrive whole"
		g.audit(ctx, event)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "The message did not arrive whole (ref " + ref + ")"}
	case errors.As(err, &ee):
		return g.exchangeAnswer(ctx, l, event, ee)
	case errors.As(err, &se):
		event.Outcome = "refused: " + clip(se.Message, 200)
		g.audit(ctx, event)
		return withRef(se, ref)
	case domain.KindOf(err) == domain.KindUpstream:
		g.metrics.deliveryTemporary.Add(1)
		g.log.Warn("gateway: delivery failed for now", "owner", l.mailbox.ID, "ref", ref, "upstream_ref", domain.RefOf(err), "err", err)
		event.Outcome = "temporary failure"
		g.audit(ctx, event)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Microsoft 365 is busy; try again later (ref " + ref + ")"}
	default:
		g.metrics.deliveryFailed.Add(1)
		g.log.Error("gateway: delivery refused", "owner", l.mailbox.ID, "ref", ref, "upstream_ref", domain.RefOf(err), "err", err)
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
func (g *Gateway) exchangeAnswer(ctx context.Context, l login, event domain.AuditEvent, ee *ExchangeError) error {
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
		g.log.Warn("gateway: exchange answered try again later", "owner", l.mailbox.ID, "ref", ref, "stage", ee.Stage, "exchange", said)
		return &smtp.SMTPError{Code: 451, EnhancedCode: enh, Message: "Exchange Online: " + said + "; try again later (ref " + ref + ")"}
	}
	g.metrics.deliveryFailed.Add(1)
	g.log.Error("gateway: exchange refused", "owner", l.mailbox.ID, "ref", ref, "stage", ee.Stage, "exchange", said)
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

// withRef copies an answer with the reference added.
func withRef(e *smtp.SMTPError, ref string) *smtp.SMTPError {
	c := *e
	c.Message += " (ref " + ref + ")"
	return &c
}

// readHeaderBlock reads the header block, up to and including the empty
// line that ends it (or to the end of a message with no body), at most
// max bytes.
func readHeaderBlock(br *bufio.Reader, max int) ([]byte, error) {
	var head []byte
	for {
		line, err := br.ReadSlice('\n')
		if len(head)+len(line) > max {
			return nil, errHeaderTooLarge
		}
		head = append(head, line...)
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			return head, nil
		case err != nil:
			return nil, err
		}
		if string(line) == "\r\n" || string(line) == "\n" {
			return head, nil
		}
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
