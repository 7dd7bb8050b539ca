package bot

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apppass/apppass/domain"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want command
		bad  bool
	}{
		{"bare", "", command{Verb: verbHelp}, false},
		{"help", "help", command{Verb: verbHelp}, false},
		{"unknown", "frobnicate now", command{Verb: verbHelp, Unknown: "frobnicate"}, false},
		{"list", "list", command{Verb: verbList}, false},
		{"list upper", "LIST", command{Verb: verbList}, false},
		{"create with spaces", "create  iPhone Mail ", command{Verb: verbCreate, Name: "iPhone Mail"}, false},
		{"create without name", "create", command{Verb: verbCreate}, false},
		{"delete", "delete iPhone Mail", command{Verb: verbDelete, Name: "iPhone Mail"}, false},
		{"delete without name", "delete", command{}, true},
		{"revoke one", `revoke <@U123|bob> Outlook lost laptop`, command{Verb: verbRevoke, People: []personRef{{Slack: "U123"}}, Name: "Outlook", Reason: "lost laptop"}, false},
		{"revoke quoted", `revoke <@U123|bob> "iPhone Mail" stolen`, command{Verb: verbRevoke, People: []personRef{{Slack: "U123"}}, Name: "iPhone Mail", Reason: "stolen"}, false},
		{"revoke all", `revoke <@W9AB> --all left the company`, command{Verb: verbRevoke, People: []personRef{{Slack: "W9AB"}}, All: true, Reason: "left the company"}, false},
		{"revoke no reason", `revoke <@U123|bob> --all`, command{}, true},
		{"revoke no target", `revoke bob --all gone`, command{}, true},
		{"revoke --allx", `revoke <@U1> --allx why`, command{}, true},
		{"show", "show <@U42|carol>", command{Verb: verbShow, People: []personRef{{Slack: "U42"}}}, false},
		{"show trailing", "show <@U42|carol> more", command{}, true},
		{"requests", "requests", command{Verb: verbRequests}, false},
		// Slack escapes &, < and > in the text; apppass unescapes once.
		{"create escaped ampersand", "create Mail &amp; Calendar", command{Verb: verbCreate, Name: "Mail & Calendar"}, false},
		{"create escaped angles", "create &lt;b&gt; &amp;lt;", command{Verb: verbCreate, Name: "<b> &lt;"}, false},
		{"delete escaped", "delete Mail &amp; Calendar", command{Verb: verbDelete, Name: "Mail & Calendar"}, false},
		{"revoke escaped name", `revoke <@U123|bob> "Mail &amp; Calendar" lost &lt;laptop&gt;`, command{Verb: verbRevoke, People: []personRef{{Slack: "U123"}}, Name: "Mail & Calendar", Reason: "lost <laptop>"}, false},
		// An escaped mention is text, never a person.
		{"revoke escaped mention is no target", `revoke &lt;@U123&gt; --all left`, command{}, true},
		{"revoke by email", `revoke alice@contoso.com --all left`, command{Verb: verbRevoke, People: []personRef{{Email: "alice@contoso.com"}}, All: true, Reason: "left"}, false},
		{"revoke by mailto link", `revoke <mailto:alice@contoso.com|alice@contoso.com> --all left`, command{Verb: verbRevoke, People: []personRef{{Email: "alice@contoso.com"}}, All: true, Reason: "left"}, false},
		{"show by email", "show Alice@Contoso.com", command{Verb: verbShow, People: []personRef{{Email: "alice@contoso.com"}}}, false},
		{"show by mailto link", "show <mailto:Alice@Contoso.com|Alice@Contoso.com>", command{Verb: verbShow, People: []personRef{{Email: "alice@contoso.com"}}}, false},
		{"show not an email", "show alice", command{}, true},
		// With should_escape Slack rewrites URLs, addresses and #channels
		// into links; names are what the person typed (SPEC §4).
		{"create with a host name", "create printer <http://office.example.com|office.example.com>", command{Verb: verbCreate, Name: "printer office.example.com"}, false},
		{"create with a URL", "create <https://mail.example.com/owa|https://mail.example.com/owa> sync", command{Verb: verbCreate, Name: "https://mail.example.com/owa sync"}, false},
		{"create with an unlabelled URL", "create <https://example.com/a?b=1&amp;c=2>", command{Verb: verbCreate, Name: "https://example.com/a?b=1&c=2"}, false},
		{"create with an address", "create scanner <mailto:scan@example.com|scan@example.com>", command{Verb: verbCreate, Name: "scanner scan@example.com"}, false},
		{"create with a channel", "create bot for <#C024BE7LR|general>", command{Verb: verbCreate, Name: "bot for #general"}, false},
		// Mentions stay as Slack sent them (the names they made always did).
		{"create with a mention", "create phone of <@U123|bob>", command{Verb: verbCreate, Name: "phone of <@U123|bob>"}, false},
		{"create with a special mention", "create <!here> &amp; <!subteam^S1|@ops>", command{Verb: verbCreate, Name: "<!here> & <!subteam^S1|@ops>"}, false},
		{"create with a link label escaped", "create <http://a.example/?x=1&amp;y=2|a.example/?x=1&amp;y=2>", command{Verb: verbCreate, Name: "a.example/?x=1&y=2"}, false},
		{"delete with a host name", "delete printer <http://office.example.com|office.example.com>", command{Verb: verbDelete, Name: "printer office.example.com"}, false},
		{"revoke host name", `revoke <@U1|bob> <http://office.example.com|office.example.com> printer gone`, command{Verb: verbRevoke, People: []personRef{{Slack: "U1"}}, Name: "office.example.com", Reason: "printer gone"}, false},
		{"revoke quoted host name", `revoke <@U1|bob> "printer <http://office.example.com|office.example.com>" gone`, command{Verb: verbRevoke, People: []personRef{{Slack: "U1"}}, Name: "printer office.example.com", Reason: "gone"}, false},
		{"revoke reason with links", `revoke <mailto:a@example.com|a@example.com> --all see <#C1|it-tickets> and <https://t.example/1|t.example/1>`, command{Verb: verbRevoke, People: []personRef{{Email: "a@example.com"}}, All: true, Reason: "see #it-tickets and t.example/1"}, false},
		{"unknown verb as link", "<http://x.example|x.example>", command{Verb: verbHelp, Unknown: "x.example"}, false},
		// A reason may not forge lines or reorder text in the helpdesk post.
		{"revoke reason bidi and zero width", "revoke <@U1> --all left\u202e the\u200b company", command{Verb: verbRevoke, People: []personRef{{Slack: "U1"}}, All: true, Reason: "left the company"}, false},
		{"revoke reason line separator", "revoke <@U1> --all left\u2028Approved by CISO", command{Verb: verbRevoke, People: []personRef{{Slack: "U1"}}, All: true, Reason: "left Approved by CISO"}, false},
		{"revoke reason newline", "revoke <@U1> --all left\nApproved by CISO", command{Verb: verbRevoke, People: []personRef{{Slack: "U1"}}, All: true, Reason: "left Approved by CISO"}, false},
		{"revoke reason only format chars", "revoke <@U1> --all \u200b\u202e", command{}, true},
		{"revoke several", "revoke <@U1|a> <@W2>  <mailto:Carol@Contoso.com|Carol@Contoso.com> dave@contoso.com --all scanner compromised",
			command{Verb: verbRevoke, People: []personRef{{Slack: "U1"}, {Slack: "W2"}, {Email: "carol@contoso.com"}, {Email: "dave@contoso.com"}},
				All: true, Reason: "scanner compromised"}, false},
		{"revoke one name of several", `revoke <@U1> <@U2> "Scan to mail" compromised`,
			command{Verb: verbRevoke, People: []personRef{{Slack: "U1"}, {Slack: "U2"}}, Name: "Scan to mail", Reason: "compromised"}, false},
		{"revoke a quoted address as name", `revoke <@U1> "scan@office.example" compromised`,
			command{Verb: verbRevoke, People: []personRef{{Slack: "U1"}}, Name: "scan@office.example", Reason: "compromised"}, false},
		{"revoke several without name or --all", "revoke <@U1> <@U2>", command{}, true},
		{"revoke 51 people", "revoke " + strings.Repeat("<@U1> ", 51) + "--all x", command{}, true},
		{"revoke 50 people", "revoke " + strings.Repeat("a@b.example ", 50) + "--all x",
			command{Verb: verbRevoke, People: slices.Repeat([]personRef{{Email: "a@b.example"}}, 50), All: true, Reason: "x"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCommand(tt.in)
			if tt.bad {
				if err == nil || domain.KindOf(err) != domain.KindInvalid {
					t.Fatalf("parseCommand(%q) = %+v, %v; want an invalid error", tt.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseCommand(%q): %v", tt.in, err)
			}
			// Scopes have their own test (TestParseCreateOptions).
			if got.Verb == verbCreate && got.Scope.String() != "send" {
				t.Errorf("parseCommand(%q) scope %s, want send-only", tt.in, got.Scope)
			}
			got.Scope = domain.Scope{}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseCommand(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestPlainText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "iPhone Mail", "iPhone Mail"},
		{"unescaped once", "&amp;lt; &amp; &lt;&gt;", "&lt; & <>"},
		{"labelled URL", "<http://office.example.com|office.example.com>", "office.example.com"},
		{"unlabelled URL", "<https://example.com>", "https://example.com"},
		{"mailto", "<mailto:a@b.example|a@b.example>", "a@b.example"},
		{"unlabelled mailto", "<mailto:a@b.example>", "a@b.example"},
		{"channel", "<#C024BE7LR|general>", "#general"},
		{"unlabelled channel", "<#C024BE7LR>", "#C024BE7LR"},
		{"mention kept", "<@U123|bob>", "<@U123|bob>"},
		{"broadcast kept", "<!channel>", "<!channel>"},
		{"mention label escaped", "<@U1|a&amp;b>", "<@U1|a&b>"},
		{"several", "a <#C1|x> b <http://y.example|y.example> c", "a #x b y.example c"},
		{"escaped angle is not a link", "&lt;http://x&gt;", "<http://x>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := plainText(tt.in); got != tt.want {
				t.Errorf("plainText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestVerbOf(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"known", "revoke nobody", "revoke"},
		{"upper", "DELETE", "delete"},
		{"unknown", "frobnicate", "command"},
		{"empty", "  ", "command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := verbOf(tt.in); got != tt.want {
				t.Errorf("verbOf(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"create iPhone Mail", "revoke <@U1|a> --all x", `revoke <@U1> "a b" c`, "show <@U1>", "delete x", "\x00", "revoke <@U1> “x”",
		"create <http://a.example|a.example>", "revoke <mailto:a@b.example|a@b.example> --all <#C1|x>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := parseCommand(in)
		if err != nil {
			if domain.KindOf(err) != domain.KindInvalid || domain.MessageOf(err) == "" {
				t.Fatalf("parseCommand(%q): unexpected error %v", in, err)
			}
			return
		}
		switch c.Verb {
		case verbRevoke:
			if len(c.People) == 0 || c.Reason == "" || (!c.All && strings.TrimSpace(c.Name) == "") {
				t.Fatalf("incomplete revoke from %q: %+v", in, c)
			}
		case verbShow:
			if len(c.People) != 1 {
				t.Fatalf("show without target from %q", in)
			}
		case verbDelete:
			if c.Name == "" {
				t.Fatalf("delete without name from %q", in)
			}
		case verbHelp, verbList, verbCreate, verbRequests:
		default:
			t.Fatalf("unknown verb %q from %q", c.Verb, in)
		}
	})
}

func TestParseCreateOptions(t *testing.T) {
	tests := []struct {
		text, name, scope string
		bad               bool
	}{
		{"create Scanner", "Scanner", "send", false},
		{"create Help desk --read", "Help desk", "send, read", false},
		{"create Printer --from 192.0.2.0/24,198.51.100.7", "Printer", "send · from 192.0.2.0/24,198.51.100.7/32", false},
		{"create Archiver --read --from=10.0.0.0/8", "Archiver", "send, read · from 10.0.0.0/8", false},
		{"create Archiver --from 10.0.0.0/8 --read", "Archiver", "send, read · from 10.0.0.0/8", false},
		{"create --read", "", "send, read", false},
		{"create Printer --from nowhere", "", "", true},
		{"create Printer --write", "", "", true},
	}
	for _, tt := range tests {
		c, err := parseCommand(tt.text)
		if tt.bad {
			if domain.KindOf(err) != domain.KindInvalid {
				t.Errorf("%q: err = %v, want KindInvalid", tt.text, err)
			}
			continue
		}
		if err != nil || c.Name != tt.name || c.Scope.String() != tt.scope {
			t.Errorf("%q = name %q scope %q, %v; want %q, %q", tt.text, c.Name, c.Scope.String(), err, tt.name, tt.scope)
		}
	}
}
