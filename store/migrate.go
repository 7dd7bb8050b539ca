package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
)

// The schema, as numbered migrations applied in order: migrations/*.sql
// for SQLite and migrations/postgres/*.sql for PostgreSQL, one file per
// number in each (a test checks they pair up). The two sets differ only
// where the databases do: PostgreSQL's 64-bit integers, identity columns
// and booleans.
//
//go:embed migrations/*.sql migrations/postgres/*.sql
var migrations embed.FS

// migrateSQLite applies pending migrations in one transaction, tracking
// the version in PRAGMA user_version.
func migrateSQLite(ctx context.Context, c *sqlConn) error {
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	latest, err := applyMigrations(ctx, tx, "migrations", version)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", latest)); err != nil {
		return err
	}
	return tx.Commit()
}

// migrateLockKey is the advisory lock that serializes migrations among
// replicas starting at once (an arbitrary constant: "apppass" in ASCII).
const migrateLockKey = 0x61707070617373

// migratePostgres applies pending migrations in one transaction, under a
// transaction-scoped advisory lock so that replicas starting together
// migrate one after the other (the later ones find nothing to do), and
// tracks versions in the schema_migrations table. PostgreSQL's DDL is
// transactional: a failed migration leaves the schema as it was.
func migratePostgres(ctx context.Context, c *sqlConn) error {
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(migrateLockKey)); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	var version int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return err
	}
	latest, err := applyMigrations(ctx, tx, "migrations/postgres", version)
	if err != nil {
		return err
	}
	for v := version + 1; v <= latest; v++ {
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES (?)`, v); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// applyMigrations runs, in tx and in order, the migrations in dir past
// version, and returns the version they bring the database to. It
// refuses a database whose version is newer than dir's migrations.
func applyMigrations(ctx context.Context, tx *sqlTx, dir string, version int) (latest int, err error) {
	names, err := fs.Glob(migrations, path.Join(dir, "*.sql"))
	if err != nil {
		return 0, err
	}
	sort.Strings(names)
	if version > len(names) {
		return 0, fmt.Errorf("database schema version %d is newer than this apppass (%d)", version, len(names))
	}
	for _, name := range names[version:] {
		b, err := migrations.ReadFile(name)
		if err != nil {
			return 0, err
		}
		if _, err := tx.tx.ExecContext(ctx, string(b)); err != nil {
			return 0, fmt.Errorf("%s: %w", path.Base(name), err)
		}
	}
	return len(names), nil
}
