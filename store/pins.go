package store

import (
	"context"
	"fmt"

	"github.com/apppass/apppass/domain"
)

// PinUser records, on first use, that Slack user slackID is Entra user u,
// and returns the Entra id slackID is pinned to. A later call with another
// Entra user changes nothing and returns the first one, so the caller can
// refuse instead of re-pointing a Slack account at someone else's
// passwords; a call with the same user refreshes its UPN, email and name.
func (d *DB) PinUser(ctx context.Context, slackID string, u domain.User) (string, error) {
	_, err := d.db.ExecContext(ctx, `
		INSERT INTO users (slack_id, entra_id, upn, email, display_name, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (slack_id) DO UPDATE SET upn = excluded.upn, email = excluded.email,
			display_name = excluded.display_name, updated_at = excluded.updated_at
		WHERE users.entra_id = excluded.entra_id`,
		slackID, u.ID, u.UserPrincipalName, u.Mail, u.DisplayName, d.now())
	if err != nil {
		return "", fmt.Errorf("pin user %s: %w", slackID, err)
	}
	var pinned string
	if err := d.db.QueryRowContext(ctx, `SELECT entra_id FROM users WHERE slack_id = ?`, slackID).Scan(&pinned); err != nil {
		return "", fmt.Errorf("pinned user of %s: %w", slackID, err)
	}
	return pinned, nil
}
