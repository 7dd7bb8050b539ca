package bot

import (
	"strings"
	"testing"
)

func TestInertShowsAttackerTextAsTyped(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "alice@contoso.com", "`alice@contoso.com`"},
		{"mention", "<!channel>", "`&lt;!channel&gt;`"},
		{"link", "<https://evil.test|click>", "`&lt;https://evil.test|click&gt;`"},
		{"breaks out of the code span", "a`*bold*`b", "`a'*bold*'b`"},
		{"new lines and bidi", "a\nb\u202ec\u2028d", "`a b c d`"},
		{"empty", " \t", "(empty)"},
		{"long", strings.Repeat("x", 500), "`" + strings.Repeat("x", 100) + "…`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := inert(tt.in); got != tt.want {
				t.Errorf("inert(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
