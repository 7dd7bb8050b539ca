package graphclient_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
)

func TestApplicationDisplayNameFitsEntrasLimit(t *testing.T) {
	long := strings.Repeat("firstname.middlename.lastname", 5) + "@subsidiary.example.test"
	tests := []struct {
		name, upn string
		want      string // "" means: not checked beyond the limit
	}{
		{"short UPN kept whole", "a@x.test", "App passwords – a@x.test"},
		{"long UPN truncated in its local part", long, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeentra.New(t)
			c := MustClient(t, s)
			if _, err := c.CreateApplication(ctx(t), domain.User{ID: "u1", UserPrincipalName: tt.upn}); err != nil {
				t.Fatal(err)
			}
			got := s.Applications()[0].DisplayName
			if n := utf8.RuneCountInString(got); n > 120 {
				t.Errorf("displayName has %d characters, want at most 120: %q", n, got)
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("displayName = %q, want %q", got, tt.want)
			}
			if !strings.HasPrefix(got, "App passwords – ") || (tt.want == "" && !strings.HasSuffix(got, "…@subsidiary.example.test")) {
				t.Errorf("displayName %q lost the prefix or the domain", got)
			}
		})
	}
}

func TestFindUserFallsBackToMailWhenGraphRejectsTheUPNPath(t *testing.T) {
	tests := []struct{ name, upn string }{
		{"a UPN starting with $", "$svc@x.test"},
		{"a UPN the fake is told to reject", "o#brien@x.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeentra.New(t)
			s.AddUser(fakeentra.User{ID: "u1", UserPrincipalName: tt.upn, Mail: tt.upn, AccountEnabled: true})
			s.RejectUserPath(tt.upn)
			c := MustClient(t, s)
			u, err := c.FindUser(ctx(t), tt.upn)
			if err != nil || u.ID != "u1" {
				t.Fatalf("FindUser(%q) = %+v, %v; want u1 through the mail filter", tt.upn, u, err)
			}
			if n := s.Count(fakeentra.OpFilterUsers); n != 1 {
				t.Errorf("filterUsers calls = %d, want 1", n)
			}
		})
	}
}
