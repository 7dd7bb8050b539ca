package store_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/store"
)

// The store's hot paths on each backend (BENCHMARKS.md). On PostgreSQL
// they run only when APPPASS_TEST_POSTGRES is set.

func benchEachDB(b *testing.B, f func(b *testing.B, db *store.DB)) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) { f(b, mustOpen(b, be.fresh(b))) })
	}
}

// What /apppass create writes: the pending record before addPassword, the
// issued metadata after, and the audit event.
func createRecords(ctx context.Context, db *store.DB, owner string, i int) error {
	id, err := db.BeginCredential(ctx, owner, "app-"+owner, fmt.Sprint("pw", i), []string{"k0", "k1"})
	if err != nil {
		return err
	}
	now := db.Now()
	p := domain.Password{KeyID: fmt.Sprint("key", i), Name: fmt.Sprint("pw", i), Hint: "abc", Created: now, Expires: now.AddDate(1, 0, 0)}
	if err := db.CredentialIssued(ctx, id, p, domain.CredentialDelivered); err != nil {
		return err
	}
	return db.Audit(ctx, domain.AuditEvent{ActorSlack: "U" + owner, ActorID: owner, SubjectID: owner, Action: "create",
		KeyID: p.KeyID, Name: p.Name, Outcome: "ok"})
}

func BenchmarkCreateRecords(b *testing.B) {
	ctx := context.Background()
	benchEachDB(b, func(b *testing.B, db *store.DB) {
		b.Run("serial", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if err := createRecords(ctx, db, fmt.Sprint("owner", i%100), i); err != nil {
					b.Fatal(err)
				}
			}
		})
		// Eight creates at once, by different people.
		b.Run("parallel8", func(b *testing.B) {
			b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
			var seq atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(seq.Add(1))
					if err := createRecords(ctx, db, fmt.Sprint("owner", i%100), i); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	})
}

// seedPeople records people who used apppass, each with two expiry
// notices and a limit notice, as a job scan finds them.
func seedPeople(b *testing.B, db *store.DB, people int) []string {
	ctx := context.Background()
	ids := make([]string, people)
	for i := range people {
		ids[i] = fmt.Sprintf("entra-%05d", i)
		if err := db.SaveUser(ctx, fmt.Sprintf("U%05d", i), domain.User{ID: ids[i], UserPrincipalName: ids[i] + "@x.test", Mail: ids[i] + "@x.test"}); err != nil {
			b.Fatal(err)
		}
		if err := db.RecordNotification(ctx, domain.NoticeExpiry, ids[i], []string{"k1", "k2"}, t0); err != nil {
			b.Fatal(err)
		}
		if err := db.RecordNotification(ctx, domain.NoticeLimit, ids[i], []string{""}, t0); err != nil {
			b.Fatal(err)
		}
	}
	return ids
}

// The job scan's look-ups: one KnownPeople per batch of 500 holders, and
// per holder the notice history (LastNotified for cooldown notices,
// NotifiedKeys for expiry notices).
func BenchmarkJobScan(b *testing.B) {
	ctx := context.Background()
	benchEachDB(b, func(b *testing.B, db *store.DB) {
		ids := seedPeople(b, db, 2000)
		b.Run("KnownPeople500", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				start := (i * 500) % len(ids)
				got, err := db.KnownPeople(ctx, ids[start:start+500])
				if err != nil || len(got) != 500 {
					b.Fatalf("KnownPeople = %d, %v", len(got), err)
				}
			}
		})
		b.Run("perHolder", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				id := ids[i%len(ids)]
				if _, err := db.LastNotified(ctx, domain.NoticeLimit, id); err != nil {
					b.Fatal(err)
				}
				if _, err := db.NotifiedKeys(ctx, domain.NoticeExpiry, id); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// Taking and releasing a person's lock, nobody else wanting it; and eight
// goroutines each locking people of their own.
func BenchmarkLock(b *testing.B) {
	ctx := context.Background()
	benchEachDB(b, func(b *testing.B, db *store.DB) {
		b.Run("uncontended", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				unlock, err := db.Lock(ctx, store.PersonLock(fmt.Sprint("p", i%100)))
				if err != nil {
					b.Fatal(err)
				}
				unlock()
			}
		})
		b.Run("parallel8", func(b *testing.B) {
			b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
			var seq atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				me := seq.Add(1)
				for i := 0; pb.Next(); i++ {
					unlock, err := db.Lock(ctx, store.PersonLock(fmt.Sprint("g", me, "p", i%10)))
					if err != nil {
						b.Error(err)
						return
					}
					unlock()
				}
			})
		})
	})
}
