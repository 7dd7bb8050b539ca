// Package store keeps apppass's state: the Slack-to-Entra user mapping and
// each employee's application (users.go), the metadata of credentials
// apppass created (credentials.go), revocation requests (revocations.go),
// the audit trail (audit.go), the jobs' leases, runs, notices sent and
// report figures (jobs.go), the mail gateway's last-use and removal
// records (gateway.go) and its failed logins and guessing alerts
// (guessing.go). It runs on SQLite (modernc.org/sqlite, no cgo), the
// embedded default for one process, or on PostgreSQL (jackc/pgx/v5) for
// several replicas; the API is the same, and Lock, the leases and the
// claims coordinate replicas through the database (lock.go). The schemas
// are in migrations/ (SQLite) and migrations/postgres/.
//
// *DB satisfies every store interface of handlers and jobs. It imports no apppass
// package but domain; sql.ErrNoRows becomes a KindNotFound domain error.
//
// No secret is ever written: the Secret type has no path into this package.
package store

import (
	"context"
	"strings"
	"time"
)

// DB is apppass's database. It is safe for concurrent use.
type DB struct {
	db    *sqlConn
	locks localLocks
	Now   func() time.Time
}

// Open opens the database named by dsn and applies pending migrations. A
// dsn starting with postgres:// or postgresql:// is a PostgreSQL
// connection URL (any libpq/pgx parameter may follow); anything else is
// the path of a SQLite file, created 0600 when missing (see openSQLite).
// It returns an error when the database cannot be reached or migrated, or
// when its schema is newer than this apppass.
func Open(ctx context.Context, dsn string) (*DB, error) {
	var c *sqlConn
	var err error
	if IsPostgres(dsn) {
		c, err = openPostgres(ctx, dsn)
	} else {
		c, err = openSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	return &DB{db: c, Now: time.Now}, nil
}

// IsPostgres reports whether dsn names a PostgreSQL database rather than
// a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Postgres reports whether d runs on PostgreSQL.
func (d *DB) Postgres() bool { return d.db.postgres }

// Ping checks that the database answers, for readiness probes.
func (d *DB) Ping(ctx context.Context) error { return d.db.db.PingContext(ctx) }

// Close closes the database. A lock still held stays held until its
// unlock is called or the process ends.
func (d *DB) Close() error { return d.db.Close() }

func (d *DB) now() int64 { return d.Now().UTC().UnixMilli() }

// millisOrNow is t in milliseconds, or now when t is zero: for records a
// caller may leave unstamped.
func (d *DB) millisOrNow(t time.Time) int64 {
	if at := toMillis(t); at != 0 {
		return at
	}
	return d.now()
}

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
