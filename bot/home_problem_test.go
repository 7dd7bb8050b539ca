package bot

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/logging"
)

// A Home tab that failed shows the work's correlation id, the one every
// log line of the work carries as "ref", as a failed command does; Graph's
// request id is logged beside it, under its own key.
func TestHomeProblemShowsTheWorksRef(t *testing.T) {
	var logs bytes.Buffer
	b := &Bot{log: logging.Wrap(slog.New(slog.NewJSONHandler(&logs, nil)))}
	ctx := logging.WithRef(context.Background(), "abc123")
	err := &domain.Error{Kind: domain.KindUpstream, Message: "Microsoft 365 did not answer.", Ref: "graph-req-1"}

	got := b.homeProblem(ctx, "U1", err)
	if !strings.Contains(got, "`abc123`") || strings.Contains(got, "graph-req-1") {
		t.Errorf("home tab says %q, want the work's ref abc123 and not Graph's", got)
	}
	line := logs.String()
	if n := strings.Count(line, `"ref":`); n != 1 || !strings.Contains(line, `"ref":"abc123"`) || !strings.Contains(line, `"graph_ref":"graph-req-1"`) {
		t.Errorf("log line %s: want one ref abc123 (got %d) and graph_ref graph-req-1", line, n)
	}
}
