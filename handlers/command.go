package handlers

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/apppass/apppass/domain"
)

// Verb is what a /apppass command asks for.
type Verb string

// The verbs of /apppass.
const (
	VerbHelp     Verb = "help"
	VerbCreate   Verb = "create"
	VerbList     Verb = "list"
	VerbDelete   Verb = "delete"
	VerbRevoke   Verb = "revoke"
	VerbRequests Verb = "requests"
	VerbShow     Verb = "show"
)

// Command is a parsed /apppass command.
type Command struct {
	Verb Verb
	// Unknown is the word that was not a verb, when help is shown
	// because of it.
	Unknown string
	// Name is the app password name for create and delete, and for revoke
	// when All is false.
	Name string
	// Target is the Slack user id a revoke or show is about.
	Target string
	All    bool
	Reason string
}

// mention matches an escaped Slack user mention, <@U123> or <@U123|name>.
var mention = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>`)

// ParseCommand parses the text after /apppass. It never fails on an
// unknown verb (the answer is the usage); it returns a KindInvalid error,
// with the expected form, when a known verb's arguments are wrong.
func ParseCommand(text string) (Command, error) {
	text = strings.TrimSpace(text)
	verb, rest := cutWord(text)
	switch v := Verb(strings.ToLower(verb)); v {
	case "", VerbHelp:
		return Command{Verb: VerbHelp}, nil
	case VerbList, VerbRequests:
		return Command{Verb: v}, nil
	case VerbCreate:
		// No name: the bot asks for one in a modal.
		return Command{Verb: v, Name: rest}, nil
	case VerbDelete:
		if rest == "" {
			return Command{}, domain.Errorf(domain.KindInvalid, "Which one? Use `/apppass delete NAME`; `/apppass list` shows your app passwords.")
		}
		return Command{Verb: v, Name: rest}, nil
	case VerbShow:
		m := mention.FindStringSubmatch(rest)
		if m == nil || strings.TrimSpace(rest[len(m[0]):]) != "" {
			return Command{}, domain.Errorf(domain.KindInvalid, "Use `/apppass show @person`.")
		}
		return Command{Verb: v, Target: m[1]}, nil
	case VerbRevoke:
		return parseRevoke(rest)
	default:
		return Command{Verb: VerbHelp, Unknown: verb}, nil
	}
}

// parseRevoke parses "@user NAME|--all REASON". A name with spaces is
// quoted: revoke @bob "iPhone Mail" lost the phone.
func parseRevoke(rest string) (Command, error) {
	usage := domain.Errorf(domain.KindInvalid, "Use `/apppass revoke @person NAME|--all REASON`, for example `/apppass revoke @bob \"iPhone Mail\" phone stolen`.")
	m := mention.FindStringSubmatch(rest)
	if m == nil {
		return Command{}, usage
	}
	c := Command{Verb: VerbRevoke, Target: m[1]}
	rest = strings.TrimSpace(rest[len(m[0]):])
	switch {
	case strings.HasPrefix(strings.ToLower(rest), "--all"):
		c.All = true
		rest = rest[len("--all"):]
		if rest != "" && !unicode.IsSpace(rune(rest[0])) {
			return Command{}, usage
		}
	case strings.HasPrefix(rest, `"`) || strings.HasPrefix(rest, "“"):
		open := `"`
		closeQ := `"`
		if strings.HasPrefix(rest, "“") {
			open, closeQ = "“", "”"
		}
		end := strings.Index(rest[len(open):], closeQ)
		if end < 0 {
			return Command{}, usage
		}
		c.Name = rest[len(open) : len(open)+end]
		rest = rest[len(open)+end+len(closeQ):]
	default:
		c.Name, rest = cutWord(rest)
	}
	c.Reason = strings.TrimSpace(rest)
	if (!c.All && strings.TrimSpace(c.Name) == "") || c.Reason == "" {
		return Command{}, domain.Errorf(domain.KindInvalid, "A revocation needs a reason, so the person knows why. %s", usage.Message)
	}
	return c, nil
}

// cutWord splits s at its first run of white space.
func cutWord(s string) (word, rest string) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}
