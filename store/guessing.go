package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// failureRetention is how long a failure count is kept after its window
// started: longer than any guessing window the gateway accepts.
const failureRetention = 24 * time.Hour

// The mail gateway's guessing limit (SPEC §10). Subjects are what the
// gateway passes: an owner ("o:…"), a keyed hash of an unknown name
// ("u:…") or "*"; never a name as typed. One row per subject and client
// address holds a count, so the table's size follows the number of
// distinct pairs, not the number of attempts.

// LoginFailed counts a failed gateway login of subject from addr at at:
// in the pair's current window (which began at its first failure), or
// in a new one when that is window old. It returns the count in the
// window and, when a window begins, deletes counts whose window began
// more than a day ago. It
// returns the database's error, wrapped, when a write fails.
func (d *DB) LoginFailed(ctx context.Context, subject, addr string, at time.Time, window time.Duration) (int, error) {
	now, expired := toMillis(at), toMillis(at.Add(-window))
	var n int
	err := d.db.QueryRowContext(ctx, `
		INSERT INTO login_failure_counts (subject, client_addr, window_start, failures) VALUES (?, ?, ?, 1)
		ON CONFLICT (subject, client_addr) DO UPDATE SET
			failures = CASE WHEN login_failure_counts.window_start <= ? THEN 1 ELSE login_failure_counts.failures + 1 END,
			window_start = CASE WHEN login_failure_counts.window_start <= ? THEN excluded.window_start ELSE login_failure_counts.window_start END,
			alerted_at = CASE WHEN login_failure_counts.window_start <= ? THEN 0 ELSE login_failure_counts.alerted_at END
		RETURNING failures`, subject, addr, now, expired, expired, expired).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("record login failure: %w", err)
	}
	if n > 1 {
		return n, nil // pruned when this window began: one write per failure
	}
	if _, err := d.db.ExecContext(ctx, `DELETE FROM login_failure_counts WHERE window_start < ?`,
		toMillis(at.Add(-failureRetention))); err != nil {
		return n, fmt.Errorf("prune login failures: %w", err)
	}
	return n, nil
}

// LoginFailures returns the failed gateway logins of subject from addr
// in the pair's window, when that began at or after since; otherwise 0.
// It returns the database's error, wrapped, when it cannot count.
func (d *DB) LoginFailures(ctx context.Context, subject, addr string, since time.Time) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT failures FROM login_failure_counts WHERE subject = ? AND client_addr = ? AND window_start >= ?`,
		subject, addr, toMillis(since)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("count login failures: %w", err)
	}
	return n, nil
}

// ForgetLoginFailures deletes the count of subject from addr and its
// alert claim, after a successful login: the next lockout starts from
// zero and is alerted again. It returns the database's error, wrapped.
func (d *DB) ForgetLoginFailures(ctx context.Context, subject, addr string) error {
	if _, err := d.db.ExecContext(ctx, `DELETE FROM login_failure_counts WHERE subject = ? AND client_addr = ?`, subject, addr); err != nil {
		return fmt.Errorf("forget login failures: %w", err)
	}
	return nil
}

// ClaimGuessingAlert claims, at at, the right to tell the helpdesk that
// subject from addr passed the failure limit. It returns true to exactly
// one caller, across replicas, unless a claim was made at or after since
// (the start of the window), or the pair has no failures counted. It
// returns false and the database's error, wrapped, when the claim cannot
// be made; then nobody has it.
func (d *DB) ClaimGuessingAlert(ctx context.Context, subject, addr string, at, since time.Time) (bool, error) {
	res, err := d.db.ExecContext(ctx, `UPDATE login_failure_counts SET alerted_at = ?
		WHERE subject = ? AND client_addr = ? AND alerted_at < ?`, toMillis(at), subject, addr, toMillis(since))
	if err != nil {
		return false, fmt.Errorf("claim guessing alert: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim guessing alert: %w", err)
	}
	return n == 1, nil
}

// ClaimLoginAttempt gives holder subject's one place for a login attempt
// in flight until at+ttl, if nobody else holds it at at: a
// compare-and-set, so of replicas trying at once exactly one wins, and a
// dead holder's place expires. It reports whether holder won.
func (d *DB) ClaimLoginAttempt(ctx context.Context, subject, holder string, at time.Time, ttl time.Duration) (bool, error) {
	res, err := d.db.ExecContext(ctx, `
		INSERT INTO login_attempts (subject, holder, held_until) VALUES (?, ?, ?)
		ON CONFLICT (subject) DO UPDATE SET holder = excluded.holder, held_until = excluded.held_until
		WHERE login_attempts.held_until <= ?`, subject, holder, toMillis(at.Add(ttl)), toMillis(at))
	if err != nil {
		return false, fmt.Errorf("claim login attempt: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim login attempt: %w", err)
	}
	return n == 1, nil
}

// ReleaseLoginAttempt gives holder's place for subject back (deleting
// the row: places of unknown names do not pile up).
func (d *DB) ReleaseLoginAttempt(ctx context.Context, subject, holder string) error {
	if _, err := d.db.ExecContext(ctx, `DELETE FROM login_attempts WHERE subject = ? AND holder = ?`, subject, holder); err != nil {
		return fmt.Errorf("release login attempt: %w", err)
	}
	return nil
}

// GatewayKey returns the key under which the gateway's replicas hash
// unknown user names, made at first use: 32 random bytes, the same for
// every process on this database.
func (d *DB) GatewayKey(ctx context.Context) ([]byte, error) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	if _, err := d.db.ExecContext(ctx, `INSERT INTO gateway_keys (name, value) VALUES ('user-names', ?) ON CONFLICT (name) DO NOTHING`,
		hex.EncodeToString(b[:])); err != nil {
		return nil, fmt.Errorf("gateway key: %w", err)
	}
	var v string
	if err := d.db.QueryRowContext(ctx, `SELECT value FROM gateway_keys WHERE name = 'user-names'`).Scan(&v); err != nil {
		return nil, fmt.Errorf("gateway key: %w", err)
	}
	k, err := hex.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("gateway key: %w", err)
	}
	return k, nil
}
