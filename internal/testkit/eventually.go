package testkit

import (
	"testing"
	"time"
)

// Eventually polls cond until it holds and fails tb (naming what, and
// what detail returns, if given) when it has not within timeout. It is
// the one way apppass's tests wait: for a recorded call, an event or a
// counter, never for a pause to pass.
func Eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool, detail ...func() string) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			msg := "timed out after " + timeout.String() + " waiting for " + what
			for _, d := range detail {
				msg += "; " + d()
			}
			tb.Fatal(msg)
		}
		time.Sleep(wait)
		wait = min(2*wait, 20*time.Millisecond)
	}
}
