// Package store keeps apppass's state in SQLite (modernc.org/sqlite, no
// cgo): the Slack-to-Entra user mapping and each employee's application
// (users.go), the metadata of credentials apppass created
// (credentials.go), revocation requests (revocations.go), the audit trail
// (audit.go), and the jobs' leases, runs, notices sent and report figures
// (jobs.go). The schema is in migrations/.
//
// *DB satisfies handlers.Store and jobs.Store. It imports no apppass
// package but domain; sql.ErrNoRows becomes a KindNotFound domain error.
//
// No secret is ever written: the Secret type has no path into this package.
package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is apppass's database. It is safe for concurrent use.
type DB struct {
	db  *sql.DB
	Now func() time.Time
}

// Open opens (creating if needed) the SQLite database at path, turns on
// WAL and foreign keys, and applies pending migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	sqlDB, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	sqlDB.SetMaxOpenConns(4)
	d := &DB{db: sqlDB, Now: time.Now}
	if err := d.migrate(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("migrate database %s: %w", path, err)
	}
	return d, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

func (d *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	for i := version; i < len(names); i++ {
		b, err := migrations.ReadFile(names[i])
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(b)); err != nil {
			return fmt.Errorf("%s: %w", names[i], err)
		}
	}
	if version > len(names) {
		return fmt.Errorf("database schema version %d is newer than this apppass (%d)", version, len(names))
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(names))); err != nil {
		return err
	}
	return tx.Commit()
}

func (d *DB) now() int64 { return d.Now().UTC().UnixMilli() }

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func toMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
