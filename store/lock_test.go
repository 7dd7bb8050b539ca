package store_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apppass/apppass/internal/testkit"
	"github.com/apppass/apppass/store"
)

// Many goroutines on two handles (two processes, on PostgreSQL) take the
// same person's lock: never two inside at once, and every one gets in.
func TestLockExcludesAcrossProcesses(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a, b := mustOpen(t, dsn), mustOpen(t, dsn)
		if !a.Postgres() {
			b = a // SQLite's lock holds within one process
		}
		var inside, most, entered atomic.Int32
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				db := a
				if i%2 == 1 {
					db = b
				}
				unlock, err := db.Lock(ctx, store.PersonLock("alice"))
				if err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				entered.Add(1)
				time.Sleep(2 * time.Millisecond)
				inside.Add(-1)
				unlock()
			})
		}
		wg.Wait()
		if got := most.Load(); got != 1 {
			t.Errorf("%d holders inside at once, want 1", got)
		}
		if got := entered.Load(); got != 16 {
			t.Errorf("%d of 16 got the lock", got)
		}
	})
}

func TestLockNamesAreIndependent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		unlockA, err := db.Lock(ctx, store.PersonLock("alice"))
		if err != nil {
			t.Fatal(err)
		}
		defer unlockA()
		for _, name := range []string{store.PersonLock("bob"), store.ApplicationLock("alice")} {
			unlock, err := db.Lock(ctx, name)
			if err != nil {
				t.Fatalf("Lock(%s) while alice's person lock is held: %v", name, err)
			}
			unlock()
		}
	})
}

// A waiter whose context ends gives up without the lock, and leaves
// nothing behind: once the holder unlocks, the next caller gets it.
func TestLockWaitEndsWithContext(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		a, b := mustOpen(t, dsn), mustOpen(t, dsn)
		if !a.Postgres() {
			b = a
		}
		unlock, err := a.Lock(context.Background(), "x")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		if _, err := b.Lock(ctx, "x"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Lock while held, until a deadline: err = %v, want DeadlineExceeded", err)
		}
		if waited := time.Since(start); waited > 3*time.Second {
			t.Errorf("a cancelled wait took %v", waited)
		}
		unlock()
		unlock() // a second call does nothing
		ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel2()
		unlock2, err := b.Lock(ctx2, "x")
		if err != nil {
			t.Fatalf("Lock after the holder unlocked: %v", err)
		}
		unlock2()
	})
}

// lockHolderEnv makes the test binary a process that takes a lock, says
// so and waits to be killed.
const lockHolderEnv = "APPPASS_TEST_LOCK_HOLDER_DSN"

func TestMain(m *testing.M) {
	if dsn := os.Getenv(lockHolderEnv); dsn != "" {
		holdLockUntilKilled(dsn)
		return
	}
	os.Exit(m.Run())
}

func holdLockUntilKilled(dsn string) {
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		os.Stdout.WriteString("error: " + err.Error() + "\n")
		os.Exit(1)
	}
	if _, err := db.Lock(context.Background(), store.PersonLock("alice")); err != nil {
		os.Stdout.WriteString("error: " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("locked\n")
	select {}
}

// A replica killed while holding a person's lock does not keep it: the
// server ends its session and the lock goes with it.
func TestLockIsReleasedWhenTheHolderIsKilled(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		db := mustOpen(t, dsn)
		if !db.Postgres() {
			t.Skip("SQLite's lock holds within one process")
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), lockHolderEnv+"="+dsn)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		line, err := bufio.NewReader(out).ReadString('\n')
		if line != "locked\n" {
			t.Fatalf("holder process said %q, %v", line, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		if _, err := db.Lock(ctx, store.PersonLock("alice")); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Lock while another process holds it: err = %v, want DeadlineExceeded", err)
		}
		cancel()
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		unlock, err := db.Lock(ctx, store.PersonLock("alice"))
		if err != nil {
			t.Fatalf("Lock after the holder was killed: %v", err)
		}
		unlock()
	})
}

// Two apppass installations in schemas of one PostgreSQL database do not
// share locks.
func TestLocksAreNamedPerSchema(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		a := mustOpen(t, dsn)
		if !a.Postgres() {
			t.Skip("PostgreSQL only")
		}
		b := mustOpen(t, testkit.PostgresSchema(t))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		unlockA, err := a.LockPerson(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		defer unlockA()
		unlockB, err := b.LockPerson(ctx, "alice")
		if err != nil {
			t.Fatalf("LockPerson in another schema: %v", err)
		}
		unlockB()
	})
}
