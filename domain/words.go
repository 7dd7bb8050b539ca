package domain

import (
	"strconv"
	"strings"
	"time"
)

// Count writes n with the noun's singular or plural: "1 password",
// "3 passwords", "0 passwords". many is the plural, given whole because
// English plurals are irregular ("1 entry", "2 entries").
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Plural returns one for n == 1 and many otherwise, for verbs that agree
// with a count ("was"/"were").
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// List joins items as a sentence does: "a", "a and b", "a, b and c";
// beyond max items, the rest are counted: "a, b and 3 others".
func List(items []string, max int) string {
	if max < 1 {
		max = 1
	}
	shown := items
	rest := 0
	if len(items) > max {
		shown, rest = items[:max], len(items)-max
	}
	switch {
	case len(shown) == 0:
		return ""
	case rest > 0:
		return strings.Join(shown, ", ") + " and " + Count(rest, "other", "others")
	case len(shown) == 1:
		return shown[0]
	default:
		return strings.Join(shown[:len(shown)-1], ", ") + " and " + shown[len(shown)-1]
	}
}

// HumanDuration writes d as a person would: "15 minutes", "1 hour",
// "2 days", "1 hour 30 minutes", "45 seconds". It keeps the largest unit
// and the one right below it ("1 day 3 hours", never "1 day 12 seconds")
// and never shows Go's "15m0s".
func HumanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	if d < time.Second {
		return "less than a second"
	}
	for i, u := range durationUnits {
		n := int(d / u.size)
		if n == 0 {
			continue
		}
		s := Count(n, u.one, u.many)
		if i+1 < len(durationUnits) {
			next := durationUnits[i+1]
			if m := int((d - time.Duration(n)*u.size) / next.size); m > 0 {
				s += " " + Count(m, next.one, next.many)
			}
		}
		return s
	}
	return "less than a second"
}

var durationUnits = []struct {
	size      time.Duration
	one, many string
}{
	{24 * time.Hour, "day", "days"}, {time.Hour, "hour", "hours"},
	{time.Minute, "minute", "minutes"}, {time.Second, "second", "seconds"},
}

// Ago writes how long before now t was: "just now" under a minute, then
// "5 minutes ago", "3 hours ago", "2 days ago" (the largest unit only).
func Ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return Count(int(d/time.Minute), "minute", "minutes") + " ago"
	case d < 24*time.Hour:
		return Count(int(d/time.Hour), "hour", "hours") + " ago"
	default:
		return Count(int(d/(24*time.Hour)), "day", "days") + " ago"
	}
}
