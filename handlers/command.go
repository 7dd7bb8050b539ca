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
	// Target is the Slack user id a revoke or show is about, when the
	// person was named by a mention.
	Target string
	// TargetEmail is the lower-cased email address a revoke or show is
	// about, when the person was named by address (a leaver whose Slack
	// account is gone).
	TargetEmail string
	All         bool
	Reason      string
	// Scope is what a created password may be used for: send-only unless
	// --read (and --from CIDR,…) follow the name.
	Scope domain.Scope
}

// mention matches an escaped Slack user mention, <@U123> or <@U123|name>.
var mention = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>`)

// mailto matches the link Slack makes of a typed email address,
// <mailto:a@b.c|a@b.c>.
var mailto = regexp.MustCompile(`^<mailto:([^|>\s]+)(?:\|[^>]*)?>`)

// address matches a plain email address as a whole word.
var address = regexp.MustCompile(`^[^\s<>@"]+@[^\s<>@"]+\.[^\s<>@"]+`)

// unescapeSlack undoes, once, Slack's escaping of &, < and > in a slash
// command's text, so `/apppass create Mail & Calendar` (which arrives as
// "Mail &amp; Calendar") names the same password as the modal's
// "Mail & Calendar". Mentions are matched before it, on the raw text:
// only a real mention (which Slack does not escape) names a person.
var unescapeSlack = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">").Replace

// ParseCommand parses the text after /apppass, as Slack sends it (with
// &, < and > escaped). It never fails on an unknown verb (the answer is
// the usage); it returns a KindInvalid error, with the expected form, when
// a known verb's arguments are wrong.
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
		name, scope, err := parseCreateOptions(unescapeSlack(rest))
		if err != nil {
			return Command{}, err
		}
		return Command{Verb: v, Name: name, Scope: scope}, nil
	case VerbDelete:
		if rest == "" {
			return Command{}, domain.Errorf(domain.KindInvalid, "Which one? Use `/apppass delete NAME`; `/apppass list` shows your app passwords.")
		}
		return Command{Verb: v, Name: unescapeSlack(rest)}, nil
	case VerbShow:
		c, after, ok := parseTarget(rest)
		if !ok || strings.TrimSpace(after) != "" {
			return Command{}, domain.Errorf(domain.KindInvalid, "Use `/apppass show @person` or `/apppass show person@example.com`.")
		}
		c.Verb = v
		return c, nil
	case VerbRevoke:
		return parseRevoke(rest)
	default:
		return Command{Verb: VerbHelp, Unknown: unescapeSlack(verb)}, nil
	}
}

// parseTarget reads the person a revoke or show is about: a mention, or
// an email address (plain or as Slack's mailto link). It returns the rest
// of the text after it.
func parseTarget(s string) (Command, string, bool) {
	if m := mention.FindStringSubmatch(s); m != nil {
		return Command{Target: m[1]}, s[len(m[0]):], true
	}
	if m := mailto.FindStringSubmatch(s); m != nil && address.MatchString(m[1]) {
		return Command{TargetEmail: strings.ToLower(m[1])}, s[len(m[0]):], true
	}
	word, rest := cutWord(s)
	if m := address.FindString(word); m != "" && m == word {
		return Command{TargetEmail: strings.ToLower(word)}, rest, true
	}
	return Command{}, s, false
}

// parseRevoke parses "@user NAME|--all REASON". A name with spaces is
// quoted: revoke @bob "iPhone Mail" lost the phone. The person may also be
// named by email address.
func parseRevoke(rest string) (Command, error) {
	usage := domain.Errorf(domain.KindInvalid, "Use `/apppass revoke @person NAME|--all REASON` (or the person's email address instead of @person), for example `/apppass revoke @bob \"iPhone Mail\" phone stolen`.")
	c, after, ok := parseTarget(rest)
	if !ok {
		return Command{}, usage
	}
	c.Verb = VerbRevoke
	rest = strings.TrimSpace(after)
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
	c.Name = unescapeSlack(c.Name)
	c.Reason = domain.CleanReason(unescapeSlack(rest))
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

// parseCreateOptions takes --read and --from CIDR[,CIDR] off the end of
// create's text (SPEC §16) and returns the name before them.
func parseCreateOptions(text string) (string, domain.Scope, error) {
	scope := domain.SendOnly
	for {
		trimmed := strings.TrimRight(text, " ")
		i := strings.LastIndexByte(trimmed, ' ')
		last := trimmed[i+1:]
		switch {
		case strings.EqualFold(last, "--read"):
			scope.Read = true
			text = trimmed[:max(i, 0)]
			continue
		case strings.HasPrefix(strings.ToLower(last), "--from="):
			nets, err := domain.ParseNetworks(last[len("--from="):])
			if err != nil {
				return "", domain.Scope{}, err
			}
			scope.Networks, text = nets, trimmed[:max(i, 0)]
			continue
		}
		if j := strings.LastIndexByte(strings.TrimRight(trimmed[:max(i, 0)], " "), ' '); i > 0 && strings.EqualFold(strings.TrimSpace(trimmed[j+1:i]), "--from") {
			nets, err := domain.ParseNetworks(last)
			if err != nil {
				return "", domain.Scope{}, err
			}
			scope.Networks, text = nets, trimmed[:max(j, 0)]
			continue
		}
		if strings.HasPrefix(last, "--") {
			return "", domain.Scope{}, domain.Errorf(domain.KindInvalid,
				"I don't know the option `%s`. Use `/apppass create NAME [--read] [--from 192.0.2.0/24,…]`.", domain.Clip(last, 40))
		}
		return strings.TrimSpace(text), scope, nil
	}
}
