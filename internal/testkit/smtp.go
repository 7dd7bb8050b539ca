package testkit

import "net/smtp"

// SendMail carries out one mail transaction on c, a session already past
// TLS and AUTH (MailTransaction), then QUIT. It returns the first error, a
// *textproto.Error when the server refuses.
func SendMail(c *smtp.Client, from string, to []string, msg []byte) error {
	if err := MailTransaction(c, from, to, msg); err != nil {
		return err
	}
	return c.Quit()
}

// MailTransaction carries out MAIL FROM from, RCPT TO each of to and DATA
// msg on c, leaving the session open for another.
func MailTransaction(c *smtp.Client, from string, to []string, msg []byte) error {
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	return w.Close()
}
