package domain

import (
	"strings"
	"unicode"
)

// CleanReason makes free text that people type as a reason (for a
// revocation, a denial) safe to quote in one line of a Slack post: control
// characters (line breaks, tabs), line and paragraph separators become a
// space, format characters (bidi overrides and isolates, zero-width
// characters) are removed, runs of white space become one space, and the
// ends are trimmed. So nobody can forge a line such as "Approved by CISO"
// in the helpdesk's request message, or reorder what it shows. Invalid
// UTF-8 is replaced. An empty result means no reason was given.
func CleanReason(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cf, r):
			continue
		case unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' || unicode.In(r, unicode.Zl, unicode.Zp):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}
