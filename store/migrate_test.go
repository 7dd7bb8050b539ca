package store_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/apppass/apppass/store"
)

// Every migration exists for both backends, under the same name: a
// schema change written for one only would leave the other behind.
func TestMigrationsPairUp(t *testing.T) {
	names := func(pattern string) []string {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range paths {
			paths[i] = filepath.Base(p)
		}
		slices.Sort(paths)
		return paths
	}
	sqlite, postgres := names("migrations/*.sql"), names("migrations/postgres/*.sql")
	if !slices.Equal(sqlite, postgres) {
		t.Fatalf("migrations/ has %v but migrations/postgres/ has %v", sqlite, postgres)
	}
}

// Replicas starting at once on a new database all come up, and the schema
// is migrated once.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				db, err := store.Open(context.Background(), dsn)
				if err != nil {
					t.Error(err)
					return
				}
				db.Close()
			})
		}
		wg.Wait()
		db := mustOpen(t, dsn)
		if _, err := db.KnownPeople(context.Background(), []string{"e1"}); err != nil {
			t.Fatalf("after concurrent opens: %v", err)
		}
	})
}
