package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/apppass/apppass/domain"
)

// BeginCredential records, before addPassword is sent, that apppass is
// about to create a credential called name on appObjectID for ownerID. It
// returns the record's id.
func (d *DB) BeginCredential(ctx context.Context, ownerID, appObjectID, name string, knownKeys []string) (int64, error) {
	if knownKeys == nil {
		knownKeys = []string{}
	}
	known, err := json.Marshal(knownKeys)
	if err != nil {
		return 0, fmt.Errorf("begin credential: %w", err)
	}
	now := d.now()
	id, err := d.db.insertID(ctx, `
		INSERT INTO credentials (owner_id, app_object_id, name, known_keys, state, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, ownerID, appObjectID, name, string(known), domain.CredentialPending, now, now)
	if err != nil {
		return 0, fmt.Errorf("begin credential: %w", err)
	}
	return id, nil
}

// CredentialIssued stores the metadata Entra returned for record id and
// moves it to state.
func (d *DB) CredentialIssued(ctx context.Context, id int64, p domain.Password, state domain.CredentialState) error {
	_, err := d.db.ExecContext(ctx, `
		UPDATE credentials SET key_id = ?, hint = ?, start_at = ?, end_at = ?, state = ?, updated_at = ?
		WHERE id = ?`, p.KeyID, p.Hint, toMillis(p.Created), toMillis(p.Expires), state, d.now(), id)
	if err != nil {
		return fmt.Errorf("credential %d issued: %w", id, err)
	}
	return nil
}

// SetCredentialState moves record id to state.
func (d *DB) SetCredentialState(ctx context.Context, id int64, state domain.CredentialState) error {
	_, err := d.db.ExecContext(ctx, `UPDATE credentials SET state = ?, updated_at = ? WHERE id = ?`, state, d.now(), id)
	if err != nil {
		return fmt.Errorf("credential %d to %s: %w", id, state, err)
	}
	return nil
}

// CredentialRemoved records that keyID was removed from ownerID's
// application, so listings hide it while Graph still shows it, with its
// hint, so the mail gateway refuses it whatever Entra still accepts.
func (d *DB) CredentialRemoved(ctx context.Context, ownerID, appObjectID string, p domain.Password) error {
	now := d.now()
	res, err := d.db.ExecContext(ctx, `UPDATE credentials SET state = ?, updated_at = ?, hint = CASE WHEN hint = '' THEN ? ELSE hint END
		WHERE owner_id = ? AND key_id = ?`,
		domain.CredentialRemoved, now, p.Hint, ownerID, p.KeyID)
	if err != nil {
		return fmt.Errorf("credential %s removed: %w", p.KeyID, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	_, err = d.db.ExecContext(ctx, `
		INSERT INTO credentials (owner_id, app_object_id, name, known_keys, key_id, hint, start_at, end_at, state, created_at, updated_at)
		VALUES (?, ?, ?, '[]', ?, ?, ?, ?, ?, ?, ?)`,
		ownerID, appObjectID, p.Name, p.KeyID, p.Hint, toMillis(p.Created), toMillis(p.Expires), domain.CredentialRemoved, now, now)
	if err != nil {
		return fmt.Errorf("credential %s removed: %w", p.KeyID, err)
	}
	return nil
}

const credentialColumns = `id, owner_id, app_object_id, name, known_keys, key_id, hint, start_at, end_at, state, created_at, updated_at`

// RecentCredentials returns ownerID's records changed at or after since,
// oldest first.
func (d *DB) RecentCredentials(ctx context.Context, ownerID string, since time.Time) ([]domain.CredentialRecord, error) {
	return d.queryCredentials(ctx, `SELECT `+credentialColumns+` FROM credentials
		WHERE owner_id = ? AND updated_at >= ? ORDER BY id`, ownerID, toMillis(since))
}

// CredentialsToReconcile returns records still pending or issued that were
// begun at or before olderThan: a secret may exist that nobody holds.
func (d *DB) CredentialsToReconcile(ctx context.Context, olderThan time.Time) ([]domain.CredentialRecord, error) {
	return d.queryCredentials(ctx, `SELECT `+credentialColumns+` FROM credentials
		WHERE state IN (?, ?) AND created_at <= ? ORDER BY id`, domain.CredentialPending, domain.CredentialIssued, toMillis(olderThan))
}

func (d *DB) queryCredentials(ctx context.Context, query string, args ...any) ([]domain.CredentialRecord, error) {
	rows, err := d.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query credentials: %w", err)
	}
	defer rows.Close()
	var out []domain.CredentialRecord
	for rows.Next() {
		var r domain.CredentialRecord
		var known string
		var start, end, created, updated int64
		if err := rows.Scan(&r.ID, &r.OwnerID, &r.AppObjectID, &r.Name, &known, &r.Password.KeyID, &r.Password.Hint,
			&start, &end, &r.State, &created, &updated); err != nil {
			return nil, fmt.Errorf("scan credential: %w", err)
		}
		if err := json.Unmarshal([]byte(known), &r.KnownKeys); err != nil {
			return nil, fmt.Errorf("credential %d known keys: %w", r.ID, err)
		}
		r.Password.Name = r.Name
		r.Password.Created, r.Password.Expires = fromMillis(start), fromMillis(end)
		r.CreatedAt, r.UpdatedAt = fromMillis(created), fromMillis(updated)
		out = append(out, r)
	}
	return out, rows.Err()
}
