package store

import "testing"

// CountRowsForTest counts table's rows.
func (d *DB) CountRowsForTest(tb testing.TB, table string) int {
	tb.Helper()
	var n int
	if err := d.db.QueryRowContext(tb.Context(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}
