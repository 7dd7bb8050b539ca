package fakeslack

import (
	"context"
	"regexp"
	"strings"
)

// typedToken finds, in what a person typed, what Slack turns into a link
// in a slash command's text when the command has should_escape: @handles
// and #channels, e-mail addresses, and URLs or bare domain names.
var typedToken = regexp.MustCompile(`@[A-Za-z0-9._-]+|#[A-Za-z0-9_-]+|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|(?:https?://)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:com|org|net|io|example|test)(?:/[^\s<>&]*)?`)

// SlashCommandTyped is SlashCommand with the text as the person typed it:
// the fake rewrites it as Slack does for a command with should_escape, so
// that a test need not. &, < and > become &amp;, &lt; and &gt;; a known
// @handle becomes <@U…|handle>; #name becomes <#C…|name> (channel ids
// of the fake are used as names too); an e-mail address becomes
// <mailto:a@b.c|a@b.c>; a URL or bare domain becomes <http://x|x>.
func (s *Server) SlashCommandTyped(ctx context.Context, userID, channelID, command, typed string) (*Interaction, error) {
	return s.SlashCommand(ctx, userID, channelID, command, s.slackEscape(typed))
}

// slackEscape rewrites typed text as Slack sends it with should_escape.
func (s *Server) slackEscape(typed string) string {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	last := 0
	for _, m := range typedToken.FindAllStringIndex(typed, -1) {
		tok := typed[m[0]:m[1]]
		if m[0] > 0 && !strings.ContainsAny(typed[m[0]-1:m[0]], " \t\n(") {
			continue // inside a word: Slack links whole words only
		}
		link := ""
		switch {
		case tok[0] == '@':
			for id, u := range s.st.users {
				if strings.EqualFold(u.Name, tok[1:]) {
					link = "<@" + id + "|" + u.Name + ">"
				}
			}
		case tok[0] == '#':
			for id := range s.st.channels {
				if strings.EqualFold(id, tok[1:]) || strings.EqualFold(channelName(id), tok[1:]) {
					link = "<#" + id + "|" + tok[1:] + ">"
				}
			}
		case strings.Contains(tok, "@") && !strings.Contains(tok, "://"):
			link = "<mailto:" + tok + "|" + tok + ">"
		case strings.HasPrefix(tok, "http://") || strings.HasPrefix(tok, "https://"):
			link = "<" + tok + ">"
		default:
			link = "<http://" + tok + "|" + tok + ">"
		}
		if link == "" {
			continue
		}
		b.WriteString(esc(typed[last:m[0]]))
		b.WriteString(link)
		last = m[1]
	}
	b.WriteString(esc(typed[last:]))
	return b.String()
}
