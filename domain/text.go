package domain

import (
	"context"
	"time"
)

// Clip shortens s to at most n characters, marking a cut with "…". It
// bounds user-supplied text kept in the audit trail or shown in Slack.
func Clip(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// Sleep waits for d, or until ctx ends, whichever is first; then it
// returns ctx's error. Adapters use it to wait out a Retry-After and let
// tests replace the wait.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
