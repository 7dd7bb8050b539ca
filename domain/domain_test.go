package domain_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apppass/apppass/domain"
)

func TestSecretNeverPrints(t *testing.T) {
	const raw = "s3cr3t~Value.123"
	s := domain.NewSecret(raw)
	type holder struct {
		Name   string
		Secret domain.Secret
	}
	h := holder{"x", s}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("created", "secret", s, "holder", h)
	textLog := bytes.Buffer{}
	slog.New(slog.NewTextHandler(&textLog, nil)).Info("created", "secret", s)
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", s), "%s": fmt.Sprintf("%s", s), "%q": fmt.Sprintf("%q", s), "%x": fmt.Sprintf("%x", s),
		"%#v": fmt.Sprintf("%#v", s), "%+v struct": fmt.Sprintf("%+v", h), "%#v struct": fmt.Sprintf("%#v", h),
		"json": string(js), "slog json": logged.String(), "slog text": textLog.String(), "String": s.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, raw) || strings.Contains(out, fmt.Sprintf("%x", raw)) {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
		if !strings.Contains(out, "REDACTED") {
			t.Errorf("%s does not say REDACTED: %s", name, out)
		}
	}
	if got := s.Reveal(); got != raw {
		t.Errorf("Reveal() = %q, want %q", got, raw)
	}
}

func TestNormalizeName(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"plain", "iPhone Mail", "iPhone Mail", true},
		{"trimmed", "  Outlook  ", "Outlook", true},
		{"unicode", "Büro-Drucker ✉", "Büro-Drucker ✉", true},
		{"mention-looking is just text", "<!channel>", "<!channel>", true},
		{"64 chars", strings.Repeat("é", 64), strings.Repeat("é", 64), true},
		{"empty", "", "", false},
		{"blank", "   \t ", "", false},
		{"65 chars", strings.Repeat("a", 65), "", false},
		{"300 chars", strings.Repeat("x", 300), "", false},
		{"newline", "a\nb", "", false},
		{"tab", "a\tb", "", false},
		{"NUL", "a\x00b", "", false},
		{"bidi override", "a\u202eb", "", false},
		{"line separator", "a\u2028b", "", false},
		{"paragraph separator", "a\u2029b", "", false},
		{"zero width", "a\u200bb", "", false},
		{"invalid utf8", "a\xffb", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.NormalizeName(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("NormalizeName(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if got != tt.want {
				t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if err != nil && domain.KindOf(err) != domain.KindInvalid {
				t.Errorf("kind = %v, want invalid", domain.KindOf(err))
			}
		})
	}
}

func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"iPhone Mail", "", "<@U123|bob>", "a\nb", strings.Repeat("x", 70), "\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := domain.NormalizeName(in)
		if err != nil {
			if domain.MessageOf(err) == "" {
				t.Fatal("refusal without a message")
			}
			return
		}
		if got != strings.TrimSpace(got) || got == "" || utf8.RuneCountInString(got) > domain.MaxNameLength || !utf8.ValidString(got) {
			t.Fatalf("accepted bad name %q", got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("accepted control character in %q", got)
			}
		}
		again, err := domain.NormalizeName(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
		}
	})
}

func TestScope(t *testing.T) {
	nets, err := domain.ParseNetworks("192.0.2.0/24,10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	s := domain.Scope{Send: true, Networks: nets}
	for addr, want := range map[string]bool{"192.0.2.77": true, "10.1.2.3": true, "10.1.2.4": false, "::ffff:192.0.2.1": true, "junk": false} {
		if got := s.AllowsFrom(addr); got != want {
			t.Errorf("AllowsFrom(%s) = %v, want %v", addr, got, want)
		}
	}
	if !domain.SendOnly.AllowsFrom("203.0.113.9") {
		t.Error("a scope without networks refuses an address")
	}
	for _, bad := range []string{"", " , ", "192.0.2.0/33", "example.com", "<@U123>"} {
		if _, err := domain.ParseNetworks(bad); domain.KindOf(err) != domain.KindInvalid {
			t.Errorf("ParseNetworks(%q) = %v, want KindInvalid", bad, err)
		}
	}
}
