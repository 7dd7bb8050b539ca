package demo

import (
	"bytes"
	"mime"
	"net/mail"

	"github.com/apppass/apppass/fakeentra"
)

// entraMailbox reads the mail the gateway sent through the Entra
// stand-in's Graph, for the page's Mailbox pane.
type entraMailbox struct{ entra *fakeentra.Server }

// SentMail lists the messages the Entra stand-in accepted, oldest first,
// with the sender's and subject headers read from each message.
func (m entraMailbox) SentMail() []Mail {
	var out []Mail
	for _, s := range m.entra.SentMessages() {
		sent := Mail{To: s.Recipients, Size: len(s.MIME), Time: s.At}
		if msg, err := readMessage(s.MIME); err == nil {
			sent.From = msg.Header.Get("From")
			dec := new(mime.WordDecoder)
			if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
				sent.Subject = subj
			}
		}
		out = append(out, sent)
	}
	return out
}

// UseEntraMailbox shows, in the Mailbox pane, the mail sent through the
// Entra stand-in: what apppass's mail gateway relayed.
func (d *Demo) UseEntraMailbox() { d.SetMailbox(entraMailbox{d.Entra}) }

func readMessage(b []byte) (*mail.Message, error) { return mail.ReadMessage(bytes.NewReader(b)) }
