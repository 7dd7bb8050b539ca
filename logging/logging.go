// Package logging builds apppass's logger: JSON lines at a chosen level,
// each line of a command or click carrying its correlation id ("ref"),
// and Slack's response URLs — bearer links anyone holding them can post
// with — redacted wherever they hide, such as inside the *url.Error that
// net/http returns.
package logging

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"regexp"
	"strings"
)

// New returns a JSON logger writing to w at level (debug, info, warn or
// error; anything else is info), wrapped as Wrap does.
func New(w io.Writer, level string) *slog.Logger {
	return Wrap(slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: ParseLevel(level)})))
}

// ParseLevel reads debug, info, warn or error, in any case; anything else
// is info.
func ParseLevel(s string) slog.Level {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Wrap returns l adding the correlation id of each record's context as
// "ref" and redacting response URLs in the message and every attribute.
// Wrapping twice does nothing more.
func Wrap(l *slog.Logger) *slog.Logger {
	if _, ok := l.Handler().(handler); ok {
		return l
	}
	return slog.New(handler{next: l.Handler()})
}

type refKey struct{}

// WithRef returns ctx carrying correlation id ref.
func WithRef(ctx context.Context, ref string) context.Context {
	return context.WithValue(ctx, refKey{}, ref)
}

// Ref returns ctx's correlation id, or "".
func Ref(ctx context.Context) string {
	ref, _ := ctx.Value(refKey{}).(string)
	return ref
}

// NewRef returns a short random correlation id, six hex digits, that a
// person can read out to the helpdesk.
func NewRef() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// responseURL matches Slack's response URLs and incoming webhooks, and
// any URL whose path is a response URL's (/response/…, as the test fakes
// serve them).
var responseURL = regexp.MustCompile(`https?://(?:hooks\.slack\.com|[^\s"'/]+/response)/[^\s"']*`)

// Redacted is what a response URL becomes in the logs.
const Redacted = "[response URL]"

// Redact removes response URLs from s.
func Redact(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return responseURL.ReplaceAllString(s, Redacted)
}

type handler struct{ next slog.Handler }

func (h handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Redact(r.Message), r.PC)
	if ref := Ref(ctx); ref != "" {
		out.AddAttrs(slog.String("ref", ref))
	}
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = redactAttr(a)
	}
	return handler{next: h.next.WithAttrs(clean)}
}

func (h handler) WithGroup(name string) slog.Handler { return handler{next: h.next.WithGroup(name)} }

// redactAttr redacts strings, errors and anything printed through
// String; LogValuers (such as domain.Secret) resolve first.
func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Redact(v.String()))
	case slog.KindGroup:
		attrs := v.Group()
		clean := make([]any, len(attrs))
		for i, g := range attrs {
			clean[i] = redactAttr(g)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, Redact(x.Error()))
		case interface{ String() string }:
			return slog.String(a.Key, Redact(x.String()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
