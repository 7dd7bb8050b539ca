package bot

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Block Kit's limits (SPEC §4), in characters of the text as sent
// (escapes such as &amp; count in full). Every message and view apppass
// renders keeps them by construction, whatever the input: long content is
// clipped with "…and N more", never rejected by Slack.
const (
	maxMessageBlocks = 50
	maxViewBlocks    = 100
	maxSectionText   = 3000
	maxFieldText     = 2000
	maxFields        = 10
	maxHeaderText    = 150
	maxButtonText    = 75
	maxContextItems  = 10
)

// clip shortens s to at most n characters, ending in "…" when cut. It
// never cuts an escape such as &amp; in half.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	for i := len(r) - 1; i >= 0 && i >= len(r)-5; i-- {
		if r[i] == ';' {
			break
		}
		if r[i] == '&' {
			r = r[:i]
			break
		}
	}
	return string(r) + "…"
}

// joinRows joins rows with newlines into at most budget characters. When
// they do not all fit, it stops early and ends with more(n), the note that
// n rows were left out; a single row longer than the budget is clipped.
func joinRows(rows []string, budget int, more func(n int) string) string {
	var b strings.Builder
	used := 0
	for i, row := range rows {
		sep := 0
		if i > 0 {
			sep = 1
		}
		rest := len(rows) - i - 1
		reserve := 0
		if rest > 0 {
			reserve = 1 + utf8.RuneCountInString(more(rest+1))
		}
		n := utf8.RuneCountInString(row)
		if used+sep+n+reserve > budget {
			if i == 0 {
				row = clip(row, max(1, budget-reserve))
				n = utf8.RuneCountInString(row)
			} else {
				b.WriteString("\n" + more(len(rows)-i))
				return b.String()
			}
		}
		if sep == 1 {
			b.WriteByte('\n')
		}
		b.WriteString(row)
		used += sep + n
	}
	return b.String()
}

// andMore is the usual note for rows left out.
func andMore(n int) string { return fmt.Sprintf("…and %d more", n) }

// fitBlocks keeps blocks within limit: when there are more, the last ones
// give way to a context block saying how many were left out.
func fitBlocks(blocks []slack.Block, limit int) []slack.Block {
	if len(blocks) <= limit {
		return blocks
	}
	out := append([]slack.Block(nil), blocks[:limit-1]...)
	return append(out, contextBlock(fmt.Sprintf("…and %d more not shown here.", len(blocks)-limit+1)))
}

// section is a section block of mrkdwn, clipped to Slack's limit.
func section(text string) slack.Block {
	return slack.NewSectionBlock(mrkdwn(clip(text, maxSectionText)), nil, nil)
}

// header is a header block, clipped to Slack's limit.
func header(text string) slack.Block {
	return slack.NewHeaderBlock(plain(clip(text, maxHeaderText)))
}

// contextBlock is a context block of one mrkdwn text, clipped.
func contextBlock(text string) slack.Block {
	return slack.NewContextBlock("", mrkdwn(clip(text, maxSectionText)))
}

// button is a button whose text is clipped to Slack's limit.
func button(actionID, value, text string) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(actionID, value, plain(clip(text, maxButtonText)))
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}
