package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/apppass/apppass/internal/testkit"
	"github.com/apppass/apppass/store"
)

// backend is a kind of database the store's tests run on.
type backend struct {
	name string
	// fresh returns the DSN of a new, empty database that lasts as long
	// as tb.
	fresh func(tb testing.TB) string
}

var backends = []backend{
	{"sqlite", func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "apppass.db") }},
	{"postgres", testkit.PostgresSchema},
}

// forEachBackend runs f as one subtest per backend, each with the DSN of a
// fresh empty database, which f may open as many times as it likes (as
// several processes would).
func forEachBackend(t *testing.T, f func(t *testing.T, dsn string)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b.fresh(t)) })
	}
}

// forEachDB runs f as one subtest per backend, each with a fresh database.
func forEachDB(t *testing.T, f func(t *testing.T, db *store.DB)) {
	t.Helper()
	forEachBackend(t, func(t *testing.T, dsn string) { f(t, mustOpen(t, dsn)) })
}

// mustOpen opens dsn and closes it when tb ends.
func mustOpen(tb testing.TB, dsn string) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
