package gateway

import (
	"context"
	"fmt"
	"io"

	"github.com/emersion/go-smtp"

	"github.com/apppass/apppass/domain"
)

// Envelope is a message's envelope as the device gave it, with the owner
// it signed in as.
type Envelope struct {
	// From is MAIL FROM, already checked to be one of Owner's addresses.
	From string
	// To are the RCPT TO addresses, in order: who receives the message.
	To []string
	// Owner is the signed-in owner, whose mailbox sends the message.
	Owner domain.Mailbox
}

// Delivery is how an upstream took a message.
type Delivery struct {
	// Unconfirmed is true when the upstream's answer was lost after the
	// message went out, and it is not known not to have been sent: the
	// device gets 250 (sending again could send it twice) and the audit
	// trail says "unconfirmed".
	Unconfirmed bool
	// Ref is the upstream's own reference (Graph's request id, Exchange's
	// queue id), for the logs; "" when none.
	Ref string
}

// Upstream delivers messages as their owner: Exchange Online's SMTP with
// OAuth (SMTPUpstream) or Graph (GraphUpstream), SPEC §14.
type Upstream interface {
	// Deliver sends msg, the message byte for byte as the device sent it,
	// to env.To as env.Owner. It reads msg to its end (or until it fails)
	// and must not keep it after returning. Errors: an *ExchangeError
	// for Exchange's own refusal (handed on to the device with its code);
	// an *smtp.SMTPError for the gateway's own answer; a domain error
	// otherwise (KindUpstream: try again later; any other kind: never).
	// A failure to read msg is returned as it is (wrapped), so that the
	// gateway can tell a device's oversized message from an upstream's
	// trouble.
	Deliver(ctx context.Context, env Envelope, msg io.Reader) (Delivery, error)
}

// ExchangeError is Exchange Online's answer refusing a message, at the
// stage of the SMTP session where it came.
type ExchangeError struct {
	// Stage is "connect", "auth", "mail", "rcpt" or "data".
	Stage string
	Reply *smtp.SMTPError
}

func (e *ExchangeError) Error() string {
	return fmt.Sprintf("exchange smtp %s: %d %d.%d.%d %s", e.Stage, e.Reply.Code,
		e.Reply.EnhancedCode[0], e.Reply.EnhancedCode[1], e.Reply.EnhancedCode[2], clip(e.Reply.Message, 300))
}

func (e *ExchangeError) Unwrap() error { return e.Reply }

// Temporary reports whether Exchange said to try again later (4xx).
func (e *ExchangeError) Temporary() bool { return e.Reply.Code/100 == 4 }

// deviceReadError marks a failure to read the device's message (too
// large, connection lost) as opposed to an upstream's failure.
type deviceReadError struct{ err error }

func (e *deviceReadError) Error() string { return "reading the device's message: " + e.err.Error() }
func (e *deviceReadError) Unwrap() error { return e.err }

// deviceReader wraps the device's message so that its failures stay
// recognisable through an upstream, and counts its bytes.
type deviceReader struct {
	r io.Reader
	n int64
}

func (d *deviceReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.n += int64(n)
	if err != nil && err != io.EOF {
		err = &deviceReadError{err}
	}
	return n, err
}
