package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
)

// sqlConn is the store's one door to database/sql. Queries are written
// once, with SQLite's "?" placeholders; on PostgreSQL they are rebound to
// "$1, $2, …" here, so the rest of the package does not know which
// backend it talks to. Everything else the backends share (ON CONFLICT
// upserts, RETURNING, count(*) FILTER) is written in the common SQL.
type sqlConn struct {
	db       *sql.DB
	locks    *sql.DB // PostgreSQL only: the sessions that hold advisory locks
	schema   string  // PostgreSQL only: the schema apppass's tables are in
	postgres bool
}

// ExecContext runs query (with ? placeholders) without returning rows.
func (c *sqlConn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.db.ExecContext(ctx, c.rebind(query), args...)
}

// QueryContext runs query (with ? placeholders) and returns its rows.
func (c *sqlConn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.db.QueryContext(ctx, c.rebind(query), args...)
}

// QueryRowContext runs query (with ? placeholders) for at most one row.
func (c *sqlConn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return c.db.QueryRowContext(ctx, c.rebind(query), args...)
}

// insertID runs an INSERT and returns the id the database gave the new
// row. PostgreSQL's driver has no LastInsertId, so both backends use
// RETURNING (SQLite has it since 3.35).
func (c *sqlConn) insertID(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := c.QueryRowContext(ctx, query+" RETURNING id", args...).Scan(&id)
	return id, err
}

// BeginTx starts a transaction whose statements are rebound like c's.
func (c *sqlConn) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sqlTx, error) {
	tx, err := c.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &sqlTx{tx: tx, conn: c}, nil
}

// Close closes the pools.
func (c *sqlConn) Close() error {
	err := c.db.Close()
	if c.locks != nil {
		err = errors.Join(err, c.locks.Close())
	}
	return err
}

// sqlTx is a transaction of a sqlConn.
type sqlTx struct {
	tx   *sql.Tx
	conn *sqlConn
}

func (t *sqlTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.conn.rebind(query), args...)
}

func (t *sqlTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.conn.rebind(query), args...)
}

func (t *sqlTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.conn.rebind(query), args...)
}

func (t *sqlTx) insertID(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := t.QueryRowContext(ctx, query+" RETURNING id", args...).Scan(&id)
	return id, err
}

func (t *sqlTx) Commit() error   { return t.tx.Commit() }
func (t *sqlTx) Rollback() error { return t.tx.Rollback() }

// rebind turns the ? placeholders of query into PostgreSQL's $n, leaving
// quoted text alone; on SQLite it returns query unchanged.
func (c *sqlConn) rebind(query string) string {
	if !c.postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n, quoted := 0, false
	for i := 0; i < len(query); i++ {
		switch ch := query[i]; {
		case ch == '\'':
			quoted = !quoted
			b.WriteByte(ch)
		case ch == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}
