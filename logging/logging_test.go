package logging_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/apppass/apppass/logging"
)

func TestRedactsResponseURLsAndAddsRef(t *testing.T) {
	const hook = "https://hooks.slack.com/commands/T0123/456/abcDEF"
	tests := []struct {
		name string
		log  func(ctx context.Context, l interface {
			InfoContext(context.Context, string, ...any)
		})
	}{
		{"url.Error", func(ctx context.Context, l interface {
			InfoContext(context.Context, string, ...any)
		}) {
			l.InfoContext(ctx, "reply failed", "err", &url.Error{Op: "Post", URL: hook, Err: errors.New("reset")})
		}},
		{"wrapped in a string", func(ctx context.Context, l interface {
			InfoContext(context.Context, string, ...any)
		}) {
			l.InfoContext(ctx, "posting to "+hook, "to", hook)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := logging.New(&buf, "info")
			tt.log(logging.WithRef(context.Background(), "ab12cd"), l)
			got := buf.String()
			if strings.Contains(got, "abcDEF") {
				t.Errorf("response URL in the log: %s", got)
			}
			if !strings.Contains(got, `"ref":"ab12cd"`) {
				t.Errorf("no ref in the log: %s", got)
			}
		})
	}
}

func TestLevel(t *testing.T) {
	var buf bytes.Buffer
	l := logging.New(&buf, "warn")
	l.Info("quiet")
	l.Warn("loud")
	if got := buf.String(); strings.Contains(got, "quiet") || !strings.Contains(got, "loud") {
		t.Errorf("level warn wrote: %s", got)
	}
}

func TestNewRefIsShortHex(t *testing.T) {
	a, b := logging.NewRef(), logging.NewRef()
	if len(a) != 6 || a == b {
		t.Errorf("NewRef() = %q, %q", a, b)
	}
}
