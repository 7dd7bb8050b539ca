package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgres opens the PostgreSQL database at the URL dsn through pgx's
// database/sql driver, so that both backends share one store written
// against database/sql, and applies pending migrations.
//
// A cancelled context makes pgx ask the server to cancel the statement
// (rather than cutting the connection), so a Lock whose caller gives up
// stops waiting on the server too. Unless the DSN says otherwise, TCP
// keepalives are short so that the server notices a vanished replica, and
// frees its locks, within about a minute.
func openPostgres(ctx context.Context, dsn string) (*sqlConn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// The DSN may hold a password: say what failed, not the DSN.
		return nil, fmt.Errorf("open postgres database: invalid URL")
	}
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 5 * time.Second}
	}
	for k, v := range map[string]string{
		"application_name":        "apppass",
		"tcp_keepalives_idle":     "30",
		"tcp_keepalives_interval": "10",
		"tcp_keepalives_count":    "3",
	} {
		if _, ok := cfg.RuntimeParams[k]; !ok {
			cfg.RuntimeParams[k] = v
		}
	}
	where := cfg.Host + "/" + cfg.Database
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	// Locks hold a session each for as long as their critical section;
	// they get their own pool so that holders waiting for a query
	// connection can never starve the pool they hold.
	locks := stdlib.OpenDB(*cfg)
	locks.SetMaxIdleConns(4)
	locks.SetConnMaxIdleTime(time.Minute)
	c := &sqlConn{db: db, locks: locks, postgres: true}
	if err := db.PingContext(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("open postgres database %s: %w", where, err)
	}
	// Advisory locks are per database; naming them after the schema
	// keeps two apppass installations in one database apart.
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&c.schema); err != nil {
		c.Close()
		return nil, fmt.Errorf("open postgres database %s: %w", where, err)
	}
	if err := migratePostgres(ctx, c); err != nil {
		c.Close()
		return nil, fmt.Errorf("migrate postgres database %s: %w", where, err)
	}
	return c, nil
}
