package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/slack-go/slack"
)

// maxAlertUserName bounds how much of a typed user name an alert quotes.
const maxAlertUserName = 100

// AlertGatewayGuessing tells the helpdesk channel that the mail gateway
// stopped asking Entra about userName (an owner's principal name, or ""
// for a client address's failures over all names) from clientAddr after
// failures failed logins within window. It is shown inert (no mention, link or formatting, no control characters,
// clipped). It returns an error when no helpdesk channel is set or Slack
// did not take the message.
func (s *Slack) AlertGatewayGuessing(ctx context.Context, userName, clientAddr string, failures int, window time.Duration) error {
	if s.helpdeskChannel == "" {
		return errors.New("APPPASS_HELPDESK_CHANNEL is not set")
	}
	text := fmt.Sprintf(":rotating_light: *Mail gateway: password guessing?* %d failed sign-ins for %s from %s within %s. "+
		"Further attempts from that address for that person are refused without asking Entra until the window passes. "+
		"Check their devices; `/apppass show` lists their app passwords.",
		failures, inert(userName), inert(clientAddr), window.Round(time.Minute))
	if userName == "" { // the gateway names only real owners; this is the address's total
		text = fmt.Sprintf(":rotating_light: *Mail gateway: password guessing?* %d failed sign-ins from %s within %s, whatever the user names. "+
			"Further attempts from that address are refused without asking Entra until the window passes.",
			failures, inert(clientAddr), window.Round(time.Minute))
	}
	if _, err := s.post(ctx, s.helpdeskChannel, text, []slack.Block{section(text)}); err != nil {
		return fmt.Errorf("gateway guessing alert: %w", err)
	}
	return nil
}

// inert renders attacker-typed text as a code span that Slack shows as
// typed: control and format characters become spaces, backticks quotes,
// &, < and > entities; long text is clipped.
func inert(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
			return ' '
		case r == '`':
			return '\''
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > maxAlertUserName {
		s = string(r[:maxAlertUserName]) + "…"
	}
	if s == "" {
		return "(empty)"
	}
	return "`" + escape(s) + "`"
}

// AlertReadingDisabled tells the helpdesk channel that Exchange Online
// refused apppass a mailbox for reading mail (IMAP or POP3), with the
// PowerShell lines that enable it. The gateway sends it at most once a
// day per mailbox. The mailbox is a real owner's primary address; it is
// shown inert all the same.
func (s *Slack) AlertReadingDisabled(ctx context.Context, mailbox, protocol string, commands []string) error {
	if s.helpdeskChannel == "" {
		return errors.New("APPPASS_HELPDESK_CHANNEL is not set")
	}
	text := fmt.Sprintf(":envelope_with_arrow: *Reading mail is not enabled for %s.* A device signed in to apppass's %s with a good app password, "+
		"but Exchange Online refused apppass that mailbox (no FullAccess for apppass, or %s turned off for it). "+
		"To enable it, run in Exchange Online PowerShell:\n```%s```",
		inert(mailbox), inert(protocol), inert(protocol), escape(strings.Join(commands, "\n")))
	if _, err := s.post(ctx, s.helpdeskChannel, text, []slack.Block{section(text)}); err != nil {
		return fmt.Errorf("reading alert: %w", err)
	}
	return nil
}
