package gateway

import (
	"errors"
)

// A device's login on the reading side, shared by the IMAP and POP3
// listeners: the password checked, Exchange logged in to as the owner,
// then bytes spliced. Each protocol gives it its own words.

// refusalCodes are a protocol's response codes for a refused login, each
// with its trailing space: IMAP's (RFC 5530) or POP3's (RFC 3206).
type refusalCodes struct {
	denied         string // the password may not do this here, or the mailbox is not enabled
	badCredentials string
	temporary      string // try again later
}

// authRefusal is the text for a login apppass refused, with the
// attempt's reference where there is one.
func (rc refusalCodes) authRefusal(err error) string {
	var ae *AuthError
	if !errors.As(err, &ae) {
		return rc.temporary + "Temporary authentication failure; try again later."
	}
	ref := ""
	if ae.Ref != "" {
		ref = " (ref " + ae.Ref + ")"
	}
	switch ae.Kind {
	case AuthOutOfScope:
		return rc.denied + ae.Detail
	case AuthBadCredentials:
		return rc.badCredentials + "Authentication failed." + ref
	case AuthTooManyFailures:
		return rc.temporary + "Too many failed logins; try again later." + ref
	}
	return rc.temporary + "Temporary authentication failure; try again later." + ref
}

// upstreamRefusal is the text for a login Exchange refused apppass.
func (rc refusalCodes) upstreamRefusal(r upstreamRefusal) string {
	switch r {
	case upstreamNotEnabled:
		return rc.denied + "reading mail is not enabled for this mailbox; the helpdesk has been told how to enable it."
	case upstreamNoRole:
		return rc.temporary + "reading mail through apppass is not set up in this organisation yet; please tell the helpdesk."
	case upstreamTooManyConns:
		return rc.temporary + "Exchange Online has too many sessions for this mailbox; try again later."
	}
	return rc.temporary + "Exchange Online did not answer; try again later."
}
