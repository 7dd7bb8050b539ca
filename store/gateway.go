package store

import (
	"context"
	"fmt"
	"time"

	"github.com/apppass/apppass/domain"
)

// PasswordUsed records that ownerID's password keyID signed in to the mail
// gateway at at; an earlier time never replaces a later one.
func (d *DB) PasswordUsed(ctx context.Context, ownerID, keyID string, at time.Time) error {
	_, err := d.db.ExecContext(ctx, `
		INSERT INTO password_last_used (owner_id, key_id, used_at) VALUES (?, ?, ?)
		ON CONFLICT (owner_id, key_id) DO UPDATE SET used_at = CASE WHEN excluded.used_at > password_last_used.used_at THEN excluded.used_at ELSE password_last_used.used_at END`,
		ownerID, keyID, toMillis(at))
	if err != nil {
		return fmt.Errorf("password %s used: %w", keyID, err)
	}
	return nil
}

// PasswordsLastUsed returns when each of ownerID's passwords last signed
// in to the mail gateway, by key id; passwords never used are absent.
func (d *DB) PasswordsLastUsed(ctx context.Context, ownerID string) (map[string]time.Time, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT key_id, used_at FROM password_last_used WHERE owner_id = ?`, ownerID)
	if err != nil {
		return nil, fmt.Errorf("last used of %s: %w", ownerID, err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var key string
		var at int64
		if err := rows.Scan(&key, &at); err != nil {
			return nil, fmt.Errorf("last used of %s: %w", ownerID, err)
		}
		out[key] = fromMillis(at)
	}
	return out, rows.Err()
}

// RecordRemoval records r (a zero At is stamped with now) so that every
// gateway replica drops cached logins it ends: the offboarding job records
// a disabled or deleted owner with an empty KeyID.
func (d *DB) RecordRemoval(ctx context.Context, r domain.Removal) error {
	at := d.millisOrNow(r.At)
	_, err := d.db.ExecContext(ctx, `INSERT INTO removals (at, owner_id, key_id, reason, hint) VALUES (?, ?, ?, ?, ?)`,
		at, r.OwnerID, r.KeyID, r.Reason, r.Hint)
	if err != nil {
		return fmt.Errorf("record removal for %s: %w", r.OwnerID, err)
	}
	return nil
}

// RemovalsSince returns the removals recorded at or after since, oldest
// first: those of RecordRemoval, and the passwords apppass deleted or
// revoked (credentials moved to removed, with reason "removed"), each
// with the password's hint when known.
func (d *DB) RemovalsSince(ctx context.Context, since time.Time) ([]domain.Removal, error) {
	rows, err := d.db.QueryContext(ctx, `
		SELECT at, owner_id, key_id, reason, hint FROM removals WHERE at >= ?
		UNION ALL
		SELECT updated_at, owner_id, key_id, 'removed', hint FROM credentials WHERE state = ? AND updated_at >= ?
		ORDER BY 1`, toMillis(since), domain.CredentialRemoved, toMillis(since))
	if err != nil {
		return nil, fmt.Errorf("removals since %s: %w", since.Format(time.RFC3339), err)
	}
	defer rows.Close()
	var out []domain.Removal
	for rows.Next() {
		var r domain.Removal
		var at int64
		if err := rows.Scan(&at, &r.OwnerID, &r.KeyID, &r.Reason, &r.Hint); err != nil {
			return nil, fmt.Errorf("removals since: %w", err)
		}
		r.At = fromMillis(at)
		out = append(out, r)
	}
	return out, rows.Err()
}
