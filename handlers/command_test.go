package handlers_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want handlers.Command
		bad  bool
	}{
		{"bare", "", handlers.Command{Verb: handlers.VerbHelp}, false},
		{"help", "help", handlers.Command{Verb: handlers.VerbHelp}, false},
		{"unknown", "frobnicate now", handlers.Command{Verb: handlers.VerbHelp, Unknown: "frobnicate"}, false},
		{"list", "list", handlers.Command{Verb: handlers.VerbList}, false},
		{"list upper", "LIST", handlers.Command{Verb: handlers.VerbList}, false},
		{"create with spaces", "create  iPhone Mail ", handlers.Command{Verb: handlers.VerbCreate, Name: "iPhone Mail"}, false},
		{"create without name", "create", handlers.Command{Verb: handlers.VerbCreate}, false},
		{"delete", "delete iPhone Mail", handlers.Command{Verb: handlers.VerbDelete, Name: "iPhone Mail"}, false},
		{"delete without name", "delete", handlers.Command{}, true},
		{"revoke one", `revoke <@U123|bob> Outlook lost laptop`, handlers.Command{Verb: handlers.VerbRevoke, Target: "U123", Name: "Outlook", Reason: "lost laptop"}, false},
		{"revoke quoted", `revoke <@U123|bob> "iPhone Mail" stolen`, handlers.Command{Verb: handlers.VerbRevoke, Target: "U123", Name: "iPhone Mail", Reason: "stolen"}, false},
		{"revoke all", `revoke <@W9AB> --all left the company`, handlers.Command{Verb: handlers.VerbRevoke, Target: "W9AB", All: true, Reason: "left the company"}, false},
		{"revoke no reason", `revoke <@U123|bob> --all`, handlers.Command{}, true},
		{"revoke no target", `revoke bob --all gone`, handlers.Command{}, true},
		{"revoke --allx", `revoke <@U1> --allx why`, handlers.Command{}, true},
		{"show", "show <@U42|carol>", handlers.Command{Verb: handlers.VerbShow, Target: "U42"}, false},
		{"show trailing", "show <@U42|carol> more", handlers.Command{}, true},
		{"requests", "requests", handlers.Command{Verb: handlers.VerbRequests}, false},
		// Slack escapes &, < and > in the text; apppass unescapes once.
		{"create escaped ampersand", "create Mail &amp; Calendar", handlers.Command{Verb: handlers.VerbCreate, Name: "Mail & Calendar"}, false},
		{"create escaped angles", "create &lt;b&gt; &amp;lt;", handlers.Command{Verb: handlers.VerbCreate, Name: "<b> &lt;"}, false},
		{"delete escaped", "delete Mail &amp; Calendar", handlers.Command{Verb: handlers.VerbDelete, Name: "Mail & Calendar"}, false},
		{"revoke escaped name", `revoke <@U123|bob> "Mail &amp; Calendar" lost &lt;laptop&gt;`, handlers.Command{Verb: handlers.VerbRevoke, Target: "U123", Name: "Mail & Calendar", Reason: "lost <laptop>"}, false},
		{"revoke by email", `revoke alice@contoso.com --all left`, handlers.Command{Verb: handlers.VerbRevoke, TargetEmail: "alice@contoso.com", All: true, Reason: "left"}, false},
		{"revoke by mailto link", `revoke <mailto:alice@contoso.com|alice@contoso.com> --all left`, handlers.Command{Verb: handlers.VerbRevoke, TargetEmail: "alice@contoso.com", All: true, Reason: "left"}, false},
		{"show by email", "show Alice@Contoso.com", handlers.Command{Verb: handlers.VerbShow, TargetEmail: "alice@contoso.com"}, false},
		{"show not an email", "show alice", handlers.Command{}, true},
		// A reason may not forge lines or reorder text in the helpdesk post.
		{"revoke reason bidi and zero width", "revoke <@U1> --all left‮ the​ company", handlers.Command{Verb: handlers.VerbRevoke, Target: "U1", All: true, Reason: "left the company"}, false},
		{"revoke reason line separator", "revoke <@U1> --all left Approved by CISO", handlers.Command{Verb: handlers.VerbRevoke, Target: "U1", All: true, Reason: "left Approved by CISO"}, false},
		{"revoke reason newline", "revoke <@U1> --all left\nApproved by CISO", handlers.Command{Verb: handlers.VerbRevoke, Target: "U1", All: true, Reason: "left Approved by CISO"}, false},
		{"revoke reason only format chars", "revoke <@U1> --all ​‮", handlers.Command{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := handlers.ParseCommand(tt.in)
			if tt.bad {
				if err == nil || domain.KindOf(err) != domain.KindInvalid {
					t.Fatalf("ParseCommand(%q) = %+v, %v; want an invalid error", tt.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCommand(%q): %v", tt.in, err)
			}
			// Scopes have their own test (TestParseCreateOptions).
			if got.Verb == handlers.VerbCreate && got.Scope.String() != "send" {
				t.Errorf("ParseCommand(%q) scope %s, want send-only", tt.in, got.Scope)
			}
			got.Scope = domain.Scope{}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseCommand(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"create iPhone Mail", "revoke <@U1|a> --all x", `revoke <@U1> "a b" c`, "show <@U1>", "delete x", "\x00", "revoke <@U1> “x”"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := handlers.ParseCommand(in)
		if err != nil {
			if domain.KindOf(err) != domain.KindInvalid || domain.MessageOf(err) == "" {
				t.Fatalf("ParseCommand(%q): unexpected error %v", in, err)
			}
			return
		}
		switch c.Verb {
		case handlers.VerbRevoke:
			if c.Target == "" || c.Reason == "" || (!c.All && strings.TrimSpace(c.Name) == "") {
				t.Fatalf("incomplete revoke from %q: %+v", in, c)
			}
		case handlers.VerbShow:
			if c.Target == "" {
				t.Fatalf("show without target from %q", in)
			}
		case handlers.VerbDelete:
			if c.Name == "" {
				t.Fatalf("delete without name from %q", in)
			}
		case handlers.VerbHelp, handlers.VerbList, handlers.VerbCreate, handlers.VerbRequests:
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
		c, err := handlers.ParseCommand(tt.text)
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
