package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/app"
	"github.com/apppass/apppass/jobs"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/internal/testkit"
)

// The multi-replica tests run two apppass processes (two Main.Run, each
// with its own socket-mode connection, among which the Slack fake spreads
// envelopes) on one PostgreSQL database, from APPPASS_TEST_POSTGRES
// (`. .ci/postgres.sh` starts a throwaway one; CI sets it).

// usePostgres points h at a fresh schema of the APPPASS_TEST_POSTGRES
// database (testkit.PostgresSchema: skipped when the variable is unset).
func (h *harness) usePostgres() {
	h.T.Helper()
	h.Env["APPPASS_DB"] = testkit.PostgresSchema(h.T)
}

// replica is a second (or third) apppass process of h.
type replica struct {
	app    *app.App
	cancel context.CancelFunc
	done   chan error
}

// startReplica runs one more apppass process on h's configuration, with
// change applied to its Main, until the test ends or stop is called.
func (h *harness) startReplica(change func(*app.Main)) *replica {
	h.T.Helper()
	m := h.NewMain()
	m.Config.BackgroundInterval = 200 * time.Millisecond
	if change != nil {
		change(m)
	}
	ready := make(chan *app.App, 1)
	m.Ready = func(a *app.App) { ready <- a }
	conns := h.Slack.Connections()
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- m.Run(ctx) }()
	select {
	case r.app = <-ready:
	case err := <-r.done:
		h.T.Fatalf("replica did not start: %v", err)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := h.Slack.WaitConnections(wctx, conns+1); err != nil {
		h.T.Fatalf("replica did not connect: %v", err)
	}
	h.T.Cleanup(func() { r.stop(h.T) })
	return r
}

func (r *replica) stop(t testing.TB) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		t.Error("replica did not stop within 30s")
	}
}

func TestReplicasKeepTheLimitAndMakeOneApplication(t *testing.T) {
	h := newHarness(t)
	h.usePostgres()
	h.Env["APPPASS_MAX_PER_USER"] = "4"
	h.Env["APPPASS_WARN_AT"] = "3"
	h.startReplica(nil)
	h.startReplica(nil)
	if n := h.Slack.LiveConnections(); n != 2 {
		t.Fatalf("%d socket connections, want 2", n)
	}
	h.Entra.SetLatency(fakeentra.OpAddPassword, 50*time.Millisecond)
	h.Entra.SetLatency(fakeentra.OpCreateApplication, 100*time.Millisecond)

	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() { h.Ask(alice, fmt.Sprintf("create device %d", i)) })
	}
	wg.Wait()
	if creds := h.Entra.CredentialsOf(entraID(alice)); len(creds) != 4 {
		t.Errorf("alice holds %d app passwords, want exactly the limit of 4", len(creds))
	}
	if apps := h.Entra.Applications(); len(apps) != 1 {
		t.Errorf("%d applications for one person, want 1", len(apps))
	}
}

func TestReplicasCarryOutOneApprovalOnce(t *testing.T) {
	h := newHarness(t)
	h.usePostgres()
	h.startReplica(nil)
	h.startReplica(nil)
	h.Ask(alice, "create Phone")
	h.Ask(adam, "revoke <@UALICE|alice> --all left")
	req := h.HelpdeskRequest()
	h.Entra.SetLatency(fakeentra.OpRemovePassword, 300*time.Millisecond)
	h.Entra.ResetCalls()
	// Two clicks, spread over both processes' connections; both are
	// worked on to the end before counting.
	done := h.Finished()
	h.Decide(hana, "revoke_approve", req)
	h.Decide(hana, "revoke_approve", req)
	h.WaitFinished(done + 2)
	h.WaitFor("the approval", func() bool { return strings.Contains(messageText(h.CurrentRequest(req.TS)), "Approved by") })
	if n := h.Entra.Count(fakeentra.OpRemovePassword); n != 1 {
		t.Errorf("removePassword called %d times, want once", n)
	}
	if n := len(h.Slack.DMsTo(alice)); n != 1 {
		t.Errorf("alice got %d DMs about the revocation, want 1", n)
	}
}

func TestReplicaFinishesAnApprovalAnotherDroppedMidway(t *testing.T) {
	h := newHarness(t)
	h.usePostgres()
	a := h.startReplica(func(m *app.Main) { m.Config.ShutdownGrace = 50 * time.Millisecond })
	h.Ask(alice, "create Phone")
	h.Ask(alice, "create Laptop")
	h.Ask(adam, "revoke <@UALICE|alice> --all left")
	req := h.HelpdeskRequest()
	h.Entra.SetLatency(fakeentra.OpRemovePassword, 2*time.Second)
	h.Decide(hana, "revoke_approve", req)
	h.WaitFor("the removal under way", func() bool {
		r, err := a.app.DB.Revocation(h.Ctx(), 1)
		return err == nil && r.Status == domain.RevocationApproving && len(h.Entra.CallsOf(fakeentra.OpRemovePassword)) == 0
	})
	h.WaitFor("removePassword in flight", func() bool { return h.Entra.InFlight(fakeentra.OpRemovePassword) > 0 })
	a.stop(t)
	h.Entra.SetLatency(fakeentra.OpRemovePassword, 0)
	// Two survivors: exactly one of them resumes it.
	b := h.startReplica(nil)
	h.startReplica(nil)
	if r, _ := b.app.DB.Revocation(h.Ctx(), 1); r.Status != domain.RevocationApproving {
		t.Fatalf("after the first process stopped the request is %s, want still approving", r.Status)
	}
	h.Entra.ResetCalls()
	dms := len(h.Slack.DMsTo(adam))
	h.Clock.Add(5 * time.Minute) // past ResumeAfter
	h.WaitFor("the other process to finish it", func() bool {
		r, err := b.app.DB.Revocation(h.Ctx(), 1)
		return err == nil && r.Status == domain.RevocationDone
	})
	if creds := h.Entra.CredentialsOf(entraID(alice)); len(creds) != 0 {
		t.Errorf("alice still holds %+v", creds)
	}
	h.WaitFor("the request message", func() bool { return strings.Contains(messageText(h.CurrentRequest(req.TS)), "Approved by <@UHANA>") })
	h.WaitJobRuns(jobs.RevocationUpkeep, 4) // both survivors looked again
	if n := h.Entra.Count(fakeentra.OpRemovePassword); n != 2 {
		t.Errorf("removePassword called %d times when resuming 2 passwords, want 2 (one resumer)", n)
	}
	if n := len(h.Slack.DMsTo(adam)) - dms; n != 1 {
		t.Errorf("the requester was told %d times, want once", n)
	}
}
