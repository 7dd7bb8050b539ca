package store

import (
	"context"
	"fmt"
	"time"
)

// ClaimAlert claims, at at, the right to send the helpdesk alert called
// key. It returns true to exactly one caller, across replicas, unless a
// claim for key was made at or after since (the start of the quiet
// window). It returns false and the database's error, wrapped, when the
// claim cannot be made; then nobody has it.
func (d *DB) ClaimAlert(ctx context.Context, key string, at, since time.Time) (bool, error) {
	res, err := d.db.ExecContext(ctx, `
		INSERT INTO alert_claims (alert_key, at) VALUES (?, ?)
		ON CONFLICT (alert_key) DO UPDATE SET at = excluded.at WHERE alert_claims.at < ?`,
		key, toMillis(at), toMillis(since))
	if err != nil {
		return false, fmt.Errorf("claim alert %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim alert %s: %w", key, err)
	}
	return n == 1, nil
}
