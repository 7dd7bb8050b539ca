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

// migrationFiles returns the migrations of one backend, in order.
func migrationFiles(postgres bool) ([]string, error) {
	dir := "migrations"
	if postgres {
		dir = "migrations/postgres"
	}
	names, err := fs.Glob(migrations, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}

// migrateSQLite applies pending migrations in one transaction, tracking
// the version in PRAGMA user_version.
func migrateSQLite(ctx context.Context, c *sqlConn) error {
	names, err := migrationFiles(false)
	if err != nil {
		return err
	}
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if err := applyMigrations(ctx, tx, names, version); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(names))); err != nil {
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
	names, err := migrationFiles(true)
	if err != nil {
		return err
	}
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
	if err := applyMigrations(ctx, tx, names, version); err != nil {
		return err
	}
	for v := version + 1; v <= len(names); v++ {
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES (?)`, v); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// applyMigrations runs names[version:] in tx. It refuses a database whose
// version is newer than names.
func applyMigrations(ctx context.Context, tx *sqlTx, names []string, version int) error {
	if version > len(names) {
		return fmt.Errorf("database schema version %d is newer than this apppass (%d)", version, len(names))
	}
	for _, name := range names[version:] {
		b, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := tx.tx.ExecContext(ctx, string(b)); err != nil {
			return fmt.Errorf("%s: %w", path.Base(name), err)
		}
	}
	return nil
}
