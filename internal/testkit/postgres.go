package testkit

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx", for creating test schemas
)

// PostgresEnv names the variable holding the DSN of a PostgreSQL database
// the tests may create schemas in; .ci/postgres.sh starts a throwaway one
// and sets it.
const PostgresEnv = "APPPASS_TEST_POSTGRES"

// PostgresSchema creates a schema of its own for tb in the database
// PostgresEnv names, drops it when tb ends, and returns a DSN whose
// search_path is that schema: tests do not see each other's tables. When
// the variable is unset it skips tb, or fails it if APPPASS_REQUIRE_SERVERS
// is set (CI, which must test on PostgreSQL).
func PostgresSchema(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv("APPPASS_REQUIRE_SERVERS") != "" {
			tb.Fatalf("%s is not set, and APPPASS_REQUIRE_SERVERS says this run must test on PostgreSQL", PostgresEnv)
		}
		tb.Skipf("%s is not set; `. .ci/postgres.sh` starts a throwaway PostgreSQL", PostgresEnv)
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", PostgresEnv, err)
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
