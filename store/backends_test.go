package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx", for creating test schemas

	"github.com/apppass/apppass/store"
)

// postgresEnv names the variable holding the DSN of a PostgreSQL database
// the tests may create schemas in; .ci/postgres.sh starts a throwaway one
// and sets it. Unset, the PostgreSQL variants are skipped.
const postgresEnv = "APPPASS_TEST_POSTGRES"

// backend is a kind of database the store's tests run on.
type backend struct {
	name string
	// fresh returns the DSN of a new, empty database that lasts as long
	// as tb.
	fresh func(tb testing.TB) string
}

var backends = []backend{
	{"sqlite", func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "apppass.db") }},
	{"postgres", freshPostgresSchema},
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

// freshPostgresSchema creates a schema of its own for tb in the database
// APPPASS_TEST_POSTGRES names, drops it when tb ends, and returns a DSN
// whose search_path is that schema: tests do not see each other's tables.
// It skips tb when the variable is unset.
func freshPostgresSchema(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(postgresEnv)
	if base == "" {
		if os.Getenv("APPPASS_REQUIRE_SERVERS") != "" {
			tb.Fatalf("%s is not set, and APPPASS_REQUIRE_SERVERS says this run must test on PostgreSQL", postgresEnv)
		}
		tb.Skipf("%s is not set; `. .ci/postgres.sh` starts a throwaway PostgreSQL", postgresEnv)
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", postgresEnv, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "apppass_test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			tb.Error(err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			tb.Errorf("drop schema: %v", err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
