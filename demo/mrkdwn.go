package demo

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Span is one run of rendered mrkdwn: the page builds DOM nodes from spans
// with textContent, so no text the bot or a person wrote is ever parsed as
// HTML.
type Span struct {
	// T is the kind: "text", "link", "mention", "br" (a line break) or
	// "pre" (a preformatted block).
	T string `json:"t"`
	S string `json:"s,omitempty"`
	// Href is a link's target; only http, https and mailto URLs are kept.
	Href   string `json:"href,omitempty"`
	Bold   bool   `json:"b,omitempty"`
	Italic bool   `json:"i,omitempty"`
	Strike bool   `json:"x,omitempty"`
	Code   bool   `json:"c,omitempty"`
}

// nameFunc turns a Slack user or channel ID into the name to show, "" if
// unknown.
type nameFunc func(userID string) string

// renderMrkdwn turns Slack mrkdwn into spans: *bold*, _italic_, ~strike~,
// `code`, ```preformatted```, line breaks, <@U…> mentions, <#C…|name>
// channels, <!here>, <url|text> links, the &amp; &lt; &gt; entities and a
// few emoji shortcodes. Anything else stays literal text.
func renderMrkdwn(s string, names nameFunc) []Span {
	var out []Span
	parts := strings.Split(s, "```")
	if len(parts)%2 == 0 { // an unpaired fence stays literal
		parts[len(parts)-2] += "```" + parts[len(parts)-1]
		parts = parts[:len(parts)-1]
	}
	for i, part := range parts {
		if i%2 == 1 {
			out = append(out, Span{T: "pre", S: unescape(strings.Trim(part, "\n"))})
			continue
		}
		// A preformatted block is a block of its own: the line breaks
		// right around it are not shown again.
		if i > 0 {
			part = strings.TrimPrefix(part, "\n")
		}
		if i < len(parts)-1 {
			part = strings.TrimSuffix(part, "\n")
		}
		for j, line := range strings.Split(part, "\n") {
			if j > 0 {
				out = append(out, Span{T: "br"})
			}
			out = append(out, renderLine(line, names)...)
		}
	}
	return merge(out)
}

// renderPlain is a plain_text object: literal text with line breaks.
func renderPlain(s string) []Span {
	var out []Span
	for j, line := range strings.Split(s, "\n") {
		if j > 0 {
			out = append(out, Span{T: "br"})
		}
		if line != "" {
			out = append(out, Span{T: "text", S: line})
		}
	}
	return out
}

// renderLine renders one line outside preformatted blocks.
func renderLine(line string, names nameFunc) []Span {
	var out []Span
	// `code` first: nothing inside it is formatted.
	parts := strings.Split(line, "`")
	if len(parts)%2 == 0 { // an unpaired backtick stays literal
		parts[len(parts)-2] += "`" + parts[len(parts)-1]
		parts = parts[:len(parts)-1]
	}
	for i, p := range parts {
		if i%2 == 1 && p == "" { // `` is no code span
			out = append(out, Span{T: "text", S: "``"})
			continue
		}
		if i%2 == 1 {
			out = append(out, Span{T: "text", S: unescape(p), Code: true})
			continue
		}
		out = append(out, renderFormatted(p, names)...)
	}
	return out
}

// renderFormatted handles <…> tokens and the *, _ and ~ markers of a piece
// of a line.
func renderFormatted(p string, names nameFunc) []Span {
	marks := markers(p)
	var out []Span
	var bold, italic, strike bool
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			out = append(out, Span{T: "text", S: emoji(unescape(text.String())), Bold: bold, Italic: italic, Strike: strike})
			text.Reset()
		}
	}
	for i := 0; i < len(p); {
		c := p[i]
		if marks[i] {
			flush()
			switch c {
			case '*':
				bold = !bold
			case '_':
				italic = !italic
			case '~':
				strike = !strike
			}
			i++
			continue
		}
		if c == '<' {
			if end := strings.IndexByte(p[i:], '>'); end > 0 {
				if sp, ok := token(p[i+1:i+end], names); ok {
					flush()
					sp.Bold, sp.Italic, sp.Strike = bold, italic, strike
					out = append(out, sp)
					i += end + 1
					continue
				}
			}
		}
		text.WriteByte(c)
		i++
	}
	flush()
	return out
}

// markers finds the formatting markers of p that have a partner: an opener
// at the start or after a non-word character, followed by a non-space,
// and a closer after a non-space, at the end or before a non-word
// character. Markers inside <…> tokens are ignored.
func markers(p string) []bool {
	marks := make([]bool, len(p))
	inToken := make([]bool, len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '<' {
			if end := strings.IndexByte(p[i:], '>'); end > 0 {
				for k := i; k <= i+end; k++ {
					inToken[k] = true
				}
				i += end
			}
		}
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if (c != '*' && c != '_' && c != '~') || inToken[i] || marks[i] {
			continue
		}
		if i > 0 && isWord(lastRune(p[:i])) || i+1 >= len(p) || p[i+1] == ' ' || p[i+1] == c {
			continue
		}
		for j := i + 2; j < len(p); j++ {
			if p[j] != c || inToken[j] || p[j-1] == ' ' {
				continue
			}
			if j+1 < len(p) && isWord(firstRune(p[j+1:])) {
				continue
			}
			marks[i], marks[j] = true, true
			break
		}
	}
	return marks
}

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func lastRune(s string) rune  { r, _ := utf8.DecodeLastRuneInString(s); return r }
func firstRune(s string) rune { r, _ := utf8.DecodeRuneInString(s); return r }

// token renders the inside of a <…> token, or reports that it is none.
func token(t string, names nameFunc) (Span, bool) {
	target, label, _ := strings.Cut(t, "|")
	switch {
	case strings.HasPrefix(target, "@U") || strings.HasPrefix(target, "@W"):
		name := names(target[1:])
		if name == "" {
			name = label
		}
		if name == "" {
			name = target[1:]
		}
		return Span{T: "mention", S: "@" + unescape(name)}, true
	case strings.HasPrefix(target, "#C"):
		if label == "" {
			label = names(target[1:])
		}
		if label == "" {
			label = target[1:]
		}
		return Span{T: "mention", S: "#" + unescape(label)}, true
	case strings.HasPrefix(target, "!"):
		name := strings.TrimPrefix(target, "!")
		if label != "" {
			name = strings.TrimPrefix(label, "@")
		}
		return Span{T: "mention", S: "@" + unescape(name)}, true
	case strings.HasPrefix(target, "http://"), strings.HasPrefix(target, "https://"), strings.HasPrefix(target, "mailto:"):
		if label == "" {
			label = strings.TrimPrefix(target, "mailto:")
		}
		return Span{T: "link", S: unescape(label), Href: unescape(target)}, true
	}
	return Span{}, false
}

// unescape undoes Slack's three entities, &amp; last.
func unescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// emojiTable holds every shortcode apppass's messages use (a test reads
// bot/, jobs/ and handlers/ and fails on one missing here), and a few
// more that people type.
var emojiTable = map[string]string{
	"broom": "🧹", "envelope_with_arrow": "📩", "hourglass": "⌛", "hourglass_flowing_sand": "⏳", "key": "🔑", "lock": "🔒",
	"no_entry_sign": "🚫", "rotating_light": "🚨", "warning": "⚠️", "wastebasket": "🗑️", "white_check_mark": "✅",
	"wave": "👋", "bar_chart": "📊", "x": "❌", "heavy_check_mark": "✔️", "information_source": "ℹ️",
	"email": "📧", "calendar": "📅", "bell": "🔔", "tada": "🎉", "thumbsup": "👍", "+1": "👍", "eyes": "👀",
}

// shortcode is an emoji's :name: as Slack writes it.
var shortcode = regexp.MustCompile(`:[a-z0-9_+-]+:`)

// emoji replaces the shortcodes it knows; others stay as typed, as in
// Slack for a custom emoji it does not have.
func emoji(s string) string {
	if !strings.Contains(s, ":") {
		return s
	}
	return shortcode.ReplaceAllStringFunc(s, func(code string) string {
		if e, ok := emojiTable[strings.Trim(code, ":")]; ok {
			return e
		}
		return code
	})
}

// merge joins neighbouring text spans of the same style.
func merge(in []Span) []Span {
	var out []Span
	for _, s := range in {
		if n := len(out); n > 0 && s.T == "text" && out[n-1].T == "text" &&
			out[n-1].Bold == s.Bold && out[n-1].Italic == s.Italic && out[n-1].Strike == s.Strike && out[n-1].Code == s.Code {
			out[n-1].S += s.S
			continue
		}
		if s.T == "text" && s.S == "" {
			continue
		}
		out = append(out, s)
	}
	return out
}
