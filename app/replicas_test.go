package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

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
	h.t.Helper()
	h.env["APPPASS_DB"] = testkit.PostgresSchema(h.t)
}

// replica is a second (or third) apppass process of h.
type replica struct {
	app    *App
	cancel context.CancelFunc
	done   chan error
}

// startReplica runs one more apppass process on h's configuration, with
// change applied to its Main, until the test ends or stop is called.
func (h *harness) startReplica(change func(*Main)) *replica {
	h.t.Helper()
	m := h.newMain()
	m.Config.BackgroundInterval = 200 * time.Millisecond
	if change != nil {
		change(m)
	}
	ready := make(chan *App, 1)
	m.Ready = func(a *App) { ready <- a }
	conns := h.slack.Connections()
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- m.Run(ctx) }()
	select {
	case r.app = <-ready:
	case err := <-r.done:
		h.t.Fatalf("replica did not start: %v", err)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := h.slack.WaitConnections(wctx, conns+1); err != nil {
		h.t.Fatalf("replica did not connect: %v", err)
	}
	h.t.Cleanup(func() { r.stop(h.t) })
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
	h.env["APPPASS_MAX_PER_USER"] = "4"
	h.env["APPPASS_WARN_AT"] = "3"
	h.startReplica(nil)
	h.startReplica(nil)
	if n := h.slack.LiveConnections(); n != 2 {
		t.Fatalf("%d socket connections, want 2", n)
	}
	h.entra.SetLatency(fakeentra.OpAddPassword, 50*time.Millisecond)
	h.entra.SetLatency(fakeentra.OpCreateApplication, 100*time.Millisecond)

	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() { h.ask(alice, fmt.Sprintf("create device %d", i)) })
	}
	wg.Wait()
	if creds := h.entra.CredentialsOf(entraID(alice)); len(creds) != 4 {
		t.Errorf("alice holds %d app passwords, want exactly the limit of 4", len(creds))
	}
	if apps := h.entra.Applications(); len(apps) != 1 {
		t.Errorf("%d applications for one person, want 1", len(apps))
	}
}

func TestReplicasCarryOutOneApprovalOnce(t *testing.T) {
	h := newHarness(t)
	h.usePostgres()
	h.startReplica(nil)
	h.startReplica(nil)
	h.ask(alice, "create Phone")
	h.ask(adam, "revoke <@UALICE|alice> --all left")
	req := h.helpdeskRequest()
	h.entra.SetLatency(fakeentra.OpRemovePassword, 300*time.Millisecond)
	h.entra.ResetCalls()
	// Two clicks, spread over both processes' connections.
	h.decide(hana, "revoke_approve", req)
	h.decide(hana, "revoke_approve", req)
	h.waitFor("the approval", func() bool { return strings.Contains(messageText(h.currentRequest(req.TS)), "Approved by") })
	time.Sleep(500 * time.Millisecond)
	if n := h.entra.Count(fakeentra.OpRemovePassword); n != 1 {
		t.Errorf("removePassword called %d times, want once", n)
	}
	if n := len(h.slack.DMsTo(alice)); n != 1 {
		t.Errorf("alice got %d DMs about the revocation, want 1", n)
	}
}

func TestReplicaFinishesAnApprovalAnotherDroppedMidway(t *testing.T) {
	h := newHarness(t)
	h.usePostgres()
	a := h.startReplica(func(m *Main) { m.Config.ShutdownGrace = 50 * time.Millisecond })
	h.ask(alice, "create Phone")
	h.ask(alice, "create Laptop")
	h.ask(adam, "revoke <@UALICE|alice> --all left")
	req := h.helpdeskRequest()
	h.entra.SetLatency(fakeentra.OpRemovePassword, 2*time.Second)
	h.decide(hana, "revoke_approve", req)
	h.waitFor("the removal under way", func() bool {
		r, err := a.app.DB.Revocation(h.ctx(), 1)
		return err == nil && r.Status == domain.RevocationApproving && len(h.entra.CallsOf(fakeentra.OpRemovePassword)) == 0
	})
	time.Sleep(200 * time.Millisecond) // removePassword is in flight
	a.stop(t)
	h.entra.SetLatency(fakeentra.OpRemovePassword, 0)
	// Two survivors: exactly one of them resumes it.
	b := h.startReplica(nil)
	h.startReplica(nil)
	if r, _ := b.app.DB.Revocation(h.ctx(), 1); r.Status != domain.RevocationApproving {
		t.Fatalf("after the first process stopped the request is %s, want still approving", r.Status)
	}
	h.entra.ResetCalls()
	dms := len(h.slack.DMsTo(adam))
	h.clock.Add(5 * time.Minute) // past ResumeAfter
	h.waitFor("the other process to finish it", func() bool {
		r, err := b.app.DB.Revocation(h.ctx(), 1)
		return err == nil && r.Status == domain.RevocationDone
	})
	if creds := h.entra.CredentialsOf(entraID(alice)); len(creds) != 0 {
		t.Errorf("alice still holds %+v", creds)
	}
	h.waitFor("the request message", func() bool { return strings.Contains(messageText(h.currentRequest(req.TS)), "Approved by <@UHANA>") })
	time.Sleep(500 * time.Millisecond) // more background rounds
	if n := h.entra.Count(fakeentra.OpRemovePassword); n != 2 {
		t.Errorf("removePassword called %d times when resuming 2 passwords, want 2 (one resumer)", n)
	}
	if n := len(h.slack.DMsTo(adam)) - dms; n != 1 {
		t.Errorf("the requester was told %d times, want once", n)
	}
}
