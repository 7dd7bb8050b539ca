package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/apppass/apppass/domain"
)

// SavePasswordScope records what ownerID's password keyID may be used for
// (SPEC §16). Saving again replaces it: callers narrow, never widen.
func (d *DB) SavePasswordScope(ctx context.Context, ownerID, keyID string, s domain.Scope) error {
	_, err := d.db.ExecContext(ctx, `
		INSERT INTO password_scopes (owner_id, key_id, can_send, can_read, networks, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (owner_id, key_id) DO UPDATE SET can_send = excluded.can_send, can_read = excluded.can_read,
			networks = excluded.networks, updated_at = excluded.updated_at`,
		strings.ToLower(ownerID), strings.ToLower(keyID), boolInt(s.Send), boolInt(s.Read), s.NetworksString(), d.now())
	if err != nil {
		return fmt.Errorf("scope of password %s: %w", keyID, err)
	}
	return nil
}

// PasswordScope returns the recorded scope of ownerID's password keyID,
// or domain.SendOnly when none was recorded (a password made before
// scopes existed, SPEC §16).
func (d *DB) PasswordScope(ctx context.Context, ownerID, keyID string) (domain.Scope, error) {
	var send, read int
	var networks string
	err := d.db.QueryRowContext(ctx, `SELECT can_send, can_read, networks FROM password_scopes WHERE owner_id = ? AND key_id = ?`,
		strings.ToLower(ownerID), strings.ToLower(keyID)).Scan(&send, &read, &networks)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return domain.SendOnly, nil
	case err != nil:
		return domain.Scope{}, fmt.Errorf("scope of password %s: %w", keyID, err)
	}
	return scopeOf(send, read, networks)
}

// PasswordScopes returns the recorded scopes of ownerID's passwords by
// lower-case key id; passwords without one are absent (send-only).
func (d *DB) PasswordScopes(ctx context.Context, ownerID string) (map[string]domain.Scope, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT key_id, can_send, can_read, networks FROM password_scopes WHERE owner_id = ?`, strings.ToLower(ownerID))
	if err != nil {
		return nil, fmt.Errorf("scopes of %s: %w", ownerID, err)
	}
	defer rows.Close()
	out := map[string]domain.Scope{}
	for rows.Next() {
		var key, networks string
		var send, read int
		if err := rows.Scan(&key, &send, &read, &networks); err != nil {
			return nil, fmt.Errorf("scopes of %s: %w", ownerID, err)
		}
		s, err := scopeOf(send, read, networks)
		if err != nil {
			return nil, err
		}
		out[key] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scopes of %s: %w", ownerID, err)
	}
	return out, nil
}

func scopeOf(send, read int, networks string) (domain.Scope, error) {
	s := domain.Scope{Send: send != 0, Read: read != 0}
	if networks != "" {
		n, err := domain.ParseNetworks(networks)
		if err != nil {
			return domain.Scope{}, fmt.Errorf("stored networks %q: %w", networks, err)
		}
		s.Networks = n
	}
	return s, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
