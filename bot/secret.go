package bot

import (
	"fmt"
	"net"
	"strings"

	"github.com/slack-go/slack"

	"github.com/apppass/apppass/domain"
)

// Gateway is what a device needs to know of apppass's mail gateway, when
// one runs: the name it connects to and the listeners' addresses (their
// ports are the ones shown).
type Gateway struct {
	Hostname       string // APPPASS_SMTP_HOSTNAME
	SubmissionAddr string // APPPASS_SMTP_ADDR: STARTTLS, e.g. :587
	TLSAddr        string // APPPASS_SMTPS_ADDR: implicit TLS, e.g. :465
	// The reading listeners (SPEC §15), shown for a password that reads.
	IMAPAddr, IMAPSAddr string // APPPASS_IMAP_ADDR (STARTTLS), APPPASS_IMAPS_ADDR (SSL/TLS)
	POP3Addr, POP3SAddr string // APPPASS_POP3_ADDR (STLS), APPPASS_POP3S_ADDR (SSL/TLS)
}

// readSetup is how a device reads mail through gw with a password of
// scope sc, or "" when it does not read or no reading listener runs.
func (gw Gateway) readSetup(address string, sc domain.Scope) string {
	if !sc.Read || gw.Hostname == "" {
		return ""
	}
	var lines []string
	for _, l := range []struct{ proto, starttls, implicit, word string }{
		{"IMAP", gw.IMAPAddr, gw.IMAPSAddr, "STARTTLS"}, {"POP3", gw.POP3Addr, gw.POP3SAddr, "STARTTLS (STLS)"},
	} {
		var ports []string
		if p := portOf(l.starttls); p != "" {
			ports = append(ports, fmt.Sprintf("`%s` with *%s*", p, l.word))
		}
		if p := portOf(l.implicit); p != "" {
			ports = append(ports, fmt.Sprintf("`%s` with *SSL/TLS*", p))
		}
		if len(ports) > 0 {
			lines = append(lines, fmt.Sprintf("• %s: `%s`, port %s", l.proto, escape(gw.Hostname), strings.Join(ports, " or ")))
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return fmt.Sprintf("*Reading mail* (this password may read your mailbox):\n%s\n• User name: `%s`\n• Password: the app password above\n"+
		"• Sign-in: normal password. Your mail app reconnects about once an hour, when Exchange Online renews apppass's access; that is expected.",
		strings.Join(lines, "\n"), escape(address))
}

// scopeNote says what a new password may be used for.
func scopeNote(sc domain.Scope) string {
	s := "This password *" + scopeWords(sc) + "*"
	if !sc.Read {
		s += "; it cannot read mail (create another with `--read` for that)"
	}
	return s + "."
}

// setup is how a device uses gw with a new password, or "" without a
// gateway. A read-password variant joins sendSetup here.
func (gw Gateway) setup(address string) string {
	return gw.sendSetup(address)
}

// sendSetup is the device settings for sending mail through the
// gateway's SMTP listeners: server, ports with their security, user name,
// password and sign-in method, as a device's settings screen asks for
// them. "" when no SMTP listener runs.
func (gw Gateway) sendSetup(address string) string {
	if gw.Hostname == "" || (gw.SubmissionAddr == "" && gw.TLSAddr == "") {
		return ""
	}
	var ports []string
	if p := portOf(gw.SubmissionAddr); p != "" {
		ports = append(ports, fmt.Sprintf("`%s` with *STARTTLS*", p))
	}
	if p := portOf(gw.TLSAddr); p != "" {
		ports = append(ports, fmt.Sprintf("`%s` with *SSL/TLS*", p))
	}
	return fmt.Sprintf("*Set up the device to send mail* (outgoing mail, SMTP):\n• Server: `%s`\n• Port and security: %s\n"+
		"• User name: `%s`\n• Password: the app password above\n• Authentication: normal password (PLAIN or LOGIN)",
		escape(gw.Hostname), strings.Join(ports, " or "), escape(address))
}

// portOf is the port of a listener address such as :587.
func portOf(addr string) string {
	if addr == "" {
		return ""
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return port
}

// secretReply is the one place a secret is revealed: the single ephemeral
// message that shows a new app password to the person who created it,
// with how to set up a device through the mail gateway (when one runs,
// for address), and the client and tenant ID with what they do not do.
func secretReply(c domain.Created, gw Gateway, address string) reply {
	intro := fmt.Sprintf(":key: Your new app password *%s* is below. *It is shown only this once*: copy it into the device now. "+
		"apppass does not keep it and cannot show it again; if you lose it, delete it and create another.", verbatim(c.Password.Name))
	creds := fmt.Sprintf("*Password*\n```%s```\n*Client (application) ID*\n`%s`\n*Tenant ID*\n`%s`\n_%s_",
		c.Secret.Reveal(), c.ClientID, c.TenantID, expiry(c.Password.Expires))
	scope := c.Scope
	if !scope.Send && !scope.Read {
		scope = domain.SendOnly // no scope given: what every password was before scopes
	}
	blocks := []slack.Block{section(intro), section(creds), section(scopeNote(scope))}
	if s := gw.setup(address); s != "" && scope.Send {
		blocks = append(blocks, section(s))
	}
	if s := gw.readSetup(address, scope); s != "" {
		blocks = append(blocks, section(s))
	}
	// The employee's application holds no permission of its own: the
	// password opens the gateway and nothing else, and the small print
	// must not suggest otherwise (issue 19).
	how := "This password works at apppass's mail gateway only; Outlook, Microsoft 365 and Microsoft's own SMTP, IMAP and POP servers do not accept it. " +
		"The client and tenant ID are for a program that signs in with client credentials, which can do only what your administrators have granted (nothing, unless they did). " +
		"Delete the password with `/apppass delete` when the device is gone."
	return reply{
		Text:   "Your new app password " + verbatim(c.Password.Name) + " (shown once)",
		Blocks: append(blocks, contextBlock(how)),
	}
}
