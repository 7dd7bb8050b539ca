package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// CopyTo copies every table of d, a SQLite store, into to, a PostgreSQL
// store (migrated to the same schema by Open), in one transaction, and
// returns the rows copied per table. It refuses a target holding any row
// (nothing is then written), converts SQLite's 0/1 into PostgreSQL
// booleans, moves PostgreSQL's identity sequences past the copied ids,
// and verifies that every table holds as many rows as the source. Both
// stores must be at the same schema version (run the same apppass).
func (d *DB) CopyTo(ctx context.Context, to *DB) (map[string]int64, error) {
	if d.db.postgres || !to.db.postgres {
		return nil, errors.New("store copy: copies from a SQLite file to PostgreSQL only")
	}
	tables, err := d.sqliteTables(ctx)
	if err != nil {
		return nil, fmt.Errorf("store copy: %w", err)
	}
	for _, t := range tables {
		var n int64
		if err := to.db.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(t)).Scan(&n); err != nil {
			return nil, fmt.Errorf("store copy: target table %s: %w", t, err)
		}
		if n > 0 {
			return nil, fmt.Errorf("store copy: the target is not empty (%s holds %d rows); copy only into a new database", t, n)
		}
	}
	tx, err := to.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store copy: %w", err)
	}
	defer tx.Rollback()
	copied := map[string]int64{}
	for _, t := range tables {
		bools, hasID, err := to.columnKinds(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("store copy: %s: %w", t, err)
		}
		n, err := d.copyTable(ctx, tx, t, bools)
		if err != nil {
			return nil, fmt.Errorf("store copy: %s: %w", t, err)
		}
		copied[t] = n
		var seq *string
		if !hasID || n == 0 {
			continue
		}
		if err := tx.QueryRowContext(ctx, `SELECT pg_get_serial_sequence(?, 'id')`, t).Scan(&seq); err != nil {
			return nil, fmt.Errorf("store copy: sequence of %s: %w", t, err)
		}
		if seq != nil {
			if _, err := tx.ExecContext(ctx, `SELECT setval(?, (SELECT max(id) FROM `+quoteIdent(t)+`))`, *seq); err != nil {
				return nil, fmt.Errorf("store copy: sequence of %s: %w", t, err)
			}
		}
	}
	for _, t := range tables {
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(t)).Scan(&n); err != nil {
			return nil, fmt.Errorf("store copy: count %s: %w", t, err)
		}
		if n != copied[t] {
			return nil, fmt.Errorf("store copy: %s holds %d rows after the copy, want %d", t, n, copied[t])
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store copy: %w", err)
	}
	return copied, nil
}

// sqliteTables lists apppass's tables in a SQLite store, by name.
func (d *DB) sqliteTables(ctx context.Context) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	sort.Strings(out)
	return out, rows.Err()
}

// columnKinds returns the boolean columns of PostgreSQL table t, and
// whether it has an id column (which may have an identity sequence).
func (d *DB) columnKinds(ctx context.Context, t string) (bools map[string]bool, hasID bool, err error) {
	rows, err := d.db.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ?`, t)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	bools = map[string]bool{}
	for rows.Next() {
		var c, typ string
		if err := rows.Scan(&c, &typ); err != nil {
			return nil, false, err
		}
		bools[c] = typ == "boolean"
		hasID = hasID || c == "id"
	}
	return bools, hasID, rows.Err()
}

// copyTable inserts every row of SQLite table t into the same table in
// tx, turning integers into booleans for the columns in bools.
func (d *DB) copyTable(ctx context.Context, tx *sqlTx, t string, bools map[string]bool) (int64, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT * FROM `+quoteIdent(t))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	names := make([]string, len(cols))
	marks := make([]string, len(cols))
	for i, c := range cols {
		names[i], marks[i] = quoteIdent(c), "?"
	}
	insert := `INSERT INTO ` + quoteIdent(t) + ` (` + strings.Join(names, ", ") + `) VALUES (` + strings.Join(marks, ", ") + `)`
	var n int64
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, c := range cols {
			if bools[c] {
				if v, ok := vals[i].(int64); ok {
					vals[i] = v != 0
				}
			}
		}
		if _, err := tx.ExecContext(ctx, insert, vals...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// quoteIdent quotes a table or column name for SQL.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
