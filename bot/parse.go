package bot

import (
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/apppass/apppass/domain"
)

// verb is what a /apppass command asks for.
type verb string

// The verbs of /apppass.
const (
	verbHelp     verb = "help"
	verbCreate   verb = "create"
	verbList     verb = "list"
	verbDelete   verb = "delete"
	verbRevoke   verb = "revoke"
	verbRequests verb = "requests"
	verbShow     verb = "show"
)

// verbs is apppass's whole command vocabulary: the one list the parser
// and the metrics' labels (verbOf) read.
var verbs = []verb{verbHelp, verbCreate, verbList, verbDelete, verbRevoke, verbRequests, verbShow}

// command is a parsed /apppass command: plain text, Slack user ids and
// email addresses, with none of Slack's markup left. It is what the bot
// hands to the handlers, field by field.
type command struct {
	Verb verb
	// Unknown is the word that was not a verb, when help is shown
	// because of it.
	Unknown string
	// Name is the app password name for create and delete, and for revoke
	// when All is false.
	Name string
	// People are whom a revoke (one or more) or show (one) is about, in
	// the order named.
	People []personRef
	All    bool
	Reason string
	// Scope is what a created password may be used for: send-only unless
	// --read (and --from CIDR,…) follow the name (SPEC §16).
	Scope domain.Scope
}

// personRef is how a command names a person: by mention (their Slack
// user id) or by address (the lower-cased email address: a leaver whose
// Slack account is gone). Exactly one is set.
type personRef struct {
	Slack string
	Email string
}

// mention matches an escaped Slack user mention, <@U123> or <@U123|name>.
var mention = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>`)

// mailto matches the link Slack makes of a typed email address,
// <mailto:a@b.c|a@b.c>.
var mailto = regexp.MustCompile(`^<mailto:([^|>\s]+)(?:\|[^>]*)?>`)

// address matches a plain email address as a whole word.
var address = regexp.MustCompile(`^[^\s<>@"]+@[^\s<>@"]+\.[^\s<>@"]+`)

// slackMarkup matches one of the <…> entities Slack writes into a slash
// command's text. Slack escapes a typed < or > (&lt;, &gt;), so every
// < in the text starts one.
var slackMarkup = regexp.MustCompile(`<[^<>]*>`)

// unescapeSlack undoes, once, Slack's escaping of &, < and > in a slash
// command's text, so `/apppass create Mail & Calendar` (which arrives as
// "Mail &amp; Calendar") names the same password as the modal's
// "Mail & Calendar".
var unescapeSlack = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">").Replace

// plainText turns a slash command's text as Slack sends it (with
// should_escape) back into what the person typed (SPEC §4): each link
// Slack made of a URL, an email address or a #channel becomes its text
// again, then &, < and > are unescaped once. Mentions (<@U1|bob>,
// <!channel>) stay as Slack sent them, as the names they make have
// always been kept; a person is named only by a mention or address
// matched on the raw text before it (parseTarget).
func plainText(s string) string {
	return unescapeSlack(slackMarkup.ReplaceAllStringFunc(s, func(m string) string { return typed(m[1 : len(m)-1]) }))
}

// typed is the text a person typed that Slack made into the entity
// <link>: <http://a.example|a.example> was "a.example",
// <mailto:b@c.example|b@c.example> "b@c.example", <#C1|general>
// "#general". A mention is returned as it came, escaped so that the
// unescaping after it gives it back unchanged.
func typed(link string) string {
	target, label, _ := strings.Cut(link, "|")
	switch {
	case strings.HasPrefix(target, "@") || strings.HasPrefix(target, "!"):
		return "&lt;" + link + "&gt;"
	case strings.HasPrefix(target, "#"):
		if label != "" {
			return "#" + strings.TrimPrefix(label, "#")
		}
		return target
	case label != "":
		return label
	default:
		return strings.TrimPrefix(target, "mailto:")
	}
}

// parseCommand parses the text after /apppass, as Slack sends it (with
// should_escape: links for mentions, URLs, addresses and #channels; &, <
// and > escaped). It never fails on an unknown verb (the answer is the
// usage); it returns a KindInvalid error, with the expected form, when a
// known verb's arguments are wrong.
func parseCommand(text string) (command, error) {
	word, rest := cutWord(text)
	v := verb(strings.ToLower(word))
	if word == "" {
		v = verbHelp
	}
	if !slices.Contains(verbs, v) {
		return command{Verb: verbHelp, Unknown: plainText(word)}, nil
	}
	switch v {
	case verbCreate:
		// No name: the bot asks for one in a modal.
		name, scope, err := parseCreateOptions(plainText(rest))
		if err != nil {
			return command{}, err
		}
		return command{Verb: v, Name: name, Scope: scope}, nil
	case verbDelete:
		name := strings.TrimSpace(plainText(rest))
		if name == "" {
			return command{}, domain.Errorf(domain.KindInvalid, "Which one? Use `/apppass delete NAME`; `/apppass list` shows your app passwords.")
		}
		return command{Verb: v, Name: name}, nil
	case verbShow:
		c, after, ok := parseTarget(rest)
		if !ok || strings.TrimSpace(after) != "" {
			return command{}, domain.Errorf(domain.KindInvalid, "Use `/apppass show @person` or `/apppass show person@example.com`.")
		}
		c.Verb = v
		return c, nil
	case verbRevoke:
		return parseRevoke(rest)
	default: // help, list, requests take no arguments
		return command{Verb: v}, nil
	}
}

// parseTarget reads the person a revoke or show is about from the start
// of the raw text: a mention, or an email address (plain or as Slack's
// mailto link). It returns the rest of the raw text after it, its
// leading white space trimmed.
func parseTarget(s string) (command, string, bool) {
	s = strings.TrimSpace(s)
	if m := mention.FindStringSubmatch(s); m != nil {
		return command{People: []personRef{{Slack: m[1]}}}, strings.TrimSpace(s[len(m[0]):]), true
	}
	if m := mailto.FindStringSubmatch(s); m != nil && address.MatchString(m[1]) {
		return command{People: []personRef{{Email: strings.ToLower(m[1])}}}, strings.TrimSpace(s[len(m[0]):]), true
	}
	word, rest := cutWord(s)
	if m := address.FindString(word); m != "" && m == word {
		return command{People: []personRef{{Email: strings.ToLower(word)}}}, rest, true
	}
	return command{}, s, false
}

// parseRevoke parses "@a [@b carol@example.com …] NAME|--all REASON":
// one or more people (up to domain.MaxRevocationTargets, by mention or
// email address), then a password name (quoted when it has spaces:
// revoke @bob "iPhone Mail" lost the phone) or --all, then the reason. A
// name that is itself an email address must be quoted, or it is read as
// one more person.
func parseRevoke(rest string) (command, error) {
	usage := domain.Errorf(domain.KindInvalid, "Use `/apppass revoke @person NAME|--all REASON` (or the person's email address instead of @person, and several people for `--all`), for example `/apppass revoke @bob \"iPhone Mail\" phone stolen` or `/apppass revoke @bob @carol dave@example.com --all scanner compromised`.")
	c := command{Verb: verbRevoke}
	for {
		p, after, ok := parseTarget(rest)
		if !ok {
			break
		}
		c.People = append(c.People, p.People...)
		rest = after
	}
	if len(c.People) == 0 {
		return command{}, usage
	}
	if len(c.People) > domain.MaxRevocationTargets {
		// Refused before anyone is looked up in Slack or Entra.
		return command{}, domain.Errorf(domain.KindInvalid, "One request can name at most %d people, and this one names %d. Please split it.",
			domain.MaxRevocationTargets, len(c.People))
	}
	rest = strings.TrimSpace(plainText(rest))
	switch {
	case strings.HasPrefix(strings.ToLower(rest), "--all"):
		c.All = true
		rest = rest[len("--all"):]
		if rest != "" && !unicode.IsSpace(rune(rest[0])) {
			return command{}, usage
		}
	case strings.HasPrefix(rest, `"`) || strings.HasPrefix(rest, "“"):
		open := `"`
		closeQ := `"`
		if strings.HasPrefix(rest, "“") {
			open, closeQ = "“", "”"
		}
		end := strings.Index(rest[len(open):], closeQ)
		if end < 0 {
			return command{}, usage
		}
		c.Name = rest[len(open) : len(open)+end]
		rest = rest[len(open)+end+len(closeQ):]
	default:
		c.Name, rest = cutWord(rest)
	}
	c.Reason = domain.CleanReason(rest)
	if (!c.All && strings.TrimSpace(c.Name) == "") || c.Reason == "" {
		return command{}, domain.Errorf(domain.KindInvalid, "A revocation needs a reason, so the person knows why. %s", usage.Message)
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
