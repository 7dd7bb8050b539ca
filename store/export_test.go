package store

import (
	"io/fs"
	"path"
	"sort"
	"testing"
)

// CountRowsForTest counts table's rows.
func (d *DB) CountRowsForTest(tb testing.TB, table string) int {
	tb.Helper()
	var n int
	if err := d.db.QueryRowContext(tb.Context(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// MigrationsForTest returns the texts of the first n migrations for
// SQLite, or for PostgreSQL, in order: to build a database as an older
// apppass left it.
func MigrationsForTest(tb testing.TB, postgres bool, n int) []string {
	tb.Helper()
	dir := "migrations"
	if postgres {
		dir = "migrations/postgres"
	}
	names, err := fs.Glob(migrations, path.Join(dir, "*.sql"))
	if err != nil || len(names) < n {
		tb.Fatalf("migrations in %s: %v (%d of %d)", dir, err, len(names), n)
	}
	sort.Strings(names)
	var out []string
	for _, name := range names[:n] {
		b, err := migrations.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}
