package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// failureRetention is how long a failed gateway login or a guessing
// alert is kept: longer than any guessing window the gateway accepts.
const failureRetention = 24 * time.Hour

// LoginFailed records a failed gateway login of user (compared without
// case) from client address addr at at, so that every replica counts it,
// and deletes failures and alert claims older than a day. It returns the
// database's error, wrapped, when either write fails.
func (d *DB) LoginFailed(ctx context.Context, user, addr string, at time.Time) error {
	if _, err := d.db.ExecContext(ctx, `INSERT INTO login_failures (user_name, client_addr, at) VALUES (?, ?, ?)`,
		strings.ToLower(user), addr, toMillis(at)); err != nil {
		return fmt.Errorf("record login failure: %w", err)
	}
	cut := toMillis(at.Add(-failureRetention))
	for _, table := range []string{"login_failures", "guessing_alerts"} {
		if _, err := d.db.ExecContext(ctx, `DELETE FROM `+table+` WHERE at < ?`, cut); err != nil {
			return fmt.Errorf("prune %s: %w", table, err)
		}
	}
	return nil
}

// LoginFailures returns how many failed gateway logins of user (compared
// without case) from addr were recorded at or after since, by any
// replica. It returns the database's error, wrapped, when it cannot count.
func (d *DB) LoginFailures(ctx context.Context, user, addr string, since time.Time) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM login_failures WHERE user_name = ? AND client_addr = ? AND at >= ?`,
		strings.ToLower(user), addr, toMillis(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count login failures: %w", err)
	}
	return n, nil
}

// ForgetLoginFailures deletes the failed logins of user (compared without
// case) from addr and its alert claim, after a successful login: the next
// lockout starts from zero and is alerted again. It returns the
// database's error, wrapped, when a delete fails.
func (d *DB) ForgetLoginFailures(ctx context.Context, user, addr string) error {
	for _, table := range []string{"login_failures", "guessing_alerts"} {
		if _, err := d.db.ExecContext(ctx, `DELETE FROM `+table+` WHERE user_name = ? AND client_addr = ?`,
			strings.ToLower(user), addr); err != nil {
			return fmt.Errorf("forget login failures: %w", err)
		}
	}
	return nil
}

// ClaimGuessingAlert claims, at at, the right to tell the helpdesk that
// user (compared without case) from addr passed the failure limit. It
// returns true to exactly one caller, across replicas, unless a claim was
// made at or after since (the start of the window), or since the pair's
// last ForgetLoginFailures. It returns false and the database's error,
// wrapped, when the claim cannot be made; then nobody has it.
func (d *DB) ClaimGuessingAlert(ctx context.Context, user, addr string, at, since time.Time) (bool, error) {
	res, err := d.db.ExecContext(ctx, `
		INSERT INTO guessing_alerts (user_name, client_addr, at) VALUES (?, ?, ?)
		ON CONFLICT (user_name, client_addr) DO UPDATE SET at = excluded.at WHERE guessing_alerts.at < ?`,
		strings.ToLower(user), addr, toMillis(at), toMillis(since))
	if err != nil {
		return false, fmt.Errorf("claim guessing alert: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim guessing alert: %w", err)
	}
	return n == 1, nil
}
