package fakeslack

import "testing"

func TestSlackEscapeRewritesAsSlackDoes(t *testing.T) {
	s := &Server{}
	s.st.users = map[string]*User{"UALICE": {ID: "UALICE", Name: "alice"}}
	s.st.channels = map[string]*channel{"CGENERAL": {id: "CGENERAL"}}
	for _, tt := range []struct{ typed, want string }{
		{"create printer office.example.com", "create printer <http://office.example.com|office.example.com>"},
		{"revoke @alice carol@contoso.com --all left", "revoke <@UALICE|alice> <mailto:carol@contoso.com|carol@contoso.com> --all left"},
		{"create see https://x.example/a", "create see <https://x.example/a>"},
		{"create Mail & Calendar <1>", "create Mail &amp; Calendar &lt;1&gt;"},
		{"create for #CGENERAL", "create for <#CGENERAL|CGENERAL>"},
	} {
		if got := s.slackEscape(tt.typed); got != tt.want {
			t.Errorf("slackEscape(%q) = %q, want %q", tt.typed, got, tt.want)
		}
	}
}
