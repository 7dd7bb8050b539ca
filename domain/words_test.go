package domain_test

import (
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
)

func TestCount(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{{0, "0 passwords"}, {1, "1 password"}, {2, "2 passwords"}, {40, "40 passwords"}}
	for _, tt := range tests {
		if got := domain.Count(tt.n, "password", "passwords"); got != tt.want {
			t.Errorf("Count(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if got := domain.Plural(1, "was", "were"); got != "was" {
		t.Errorf("Plural(1) = %q", got)
	}
	if got := domain.Plural(2, "was", "were"); got != "were" {
		t.Errorf("Plural(2) = %q", got)
	}
}

func TestList(t *testing.T) {
	tests := []struct {
		items []string
		max   int
		want  string
	}{
		{nil, 3, ""},
		{[]string{"a"}, 3, "a"},
		{[]string{"a", "b"}, 3, "a and b"},
		{[]string{"a", "b", "c"}, 3, "a, b and c"},
		{[]string{"a", "b", "c", "d"}, 3, "a, b, c and 1 other"},
		{[]string{"a", "b", "c", "d", "e"}, 2, "a, b and 3 others"},
	}
	for _, tt := range tests {
		if got := domain.List(tt.items, tt.max); got != tt.want {
			t.Errorf("List(%q, %d) = %q, want %q", tt.items, tt.max, got, tt.want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "less than a second"},
		{time.Second, "1 second"},
		{45 * time.Second, "45 seconds"},
		{time.Minute, "1 minute"},
		{15 * time.Minute, "15 minutes"},
		{90 * time.Second, "1 minute 30 seconds"},
		{time.Hour, "1 hour"},
		{90 * time.Minute, "1 hour 30 minutes"},
		{72 * time.Hour, "3 days"},
		{27 * time.Hour, "1 day 3 hours"},
		{24*time.Hour + 12*time.Second, "1 day"},
		{-2 * time.Minute, "2 minutes"},
	}
	for _, tt := range tests {
		if got := domain.HumanDuration(tt.d); got != tt.want {
			t.Errorf("HumanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		back time.Duration
		want string
	}{
		{0, "just now"}, {59 * time.Second, "just now"}, {time.Minute, "1 minute ago"},
		{15 * time.Minute, "15 minutes ago"}, {time.Hour, "1 hour ago"}, {5 * time.Hour, "5 hours ago"},
		{24 * time.Hour, "1 day ago"}, {10 * 24 * time.Hour, "10 days ago"},
	}
	for _, tt := range tests {
		if got := domain.Ago(now, now.Add(-tt.back)); got != tt.want {
			t.Errorf("Ago(-%v) = %q, want %q", tt.back, got, tt.want)
		}
	}
}
