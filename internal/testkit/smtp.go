package testkit

import "net/smtp"

// SendMail carries out one mail transaction on c, a session already past
// TLS and AUTH: MAIL FROM from, RCPT TO each of to, DATA msg, then QUIT.
// It returns the first error, a *textproto.Error when the server refuses.
func SendMail(c *smtp.Client, from string, to []string, msg []byte) error {
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
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
