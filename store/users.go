package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/apppass/apppass/domain"
)

// SaveUser records that Slack user slackID is Entra user u.
func (d *DB) SaveUser(ctx context.Context, slackID string, u domain.User) error {
	_, err := d.db.ExecContext(ctx, `
		INSERT INTO users (slack_id, entra_id, upn, email, display_name, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (slack_id) DO UPDATE SET entra_id = excluded.entra_id, upn = excluded.upn,
			email = excluded.email, display_name = excluded.display_name, updated_at = excluded.updated_at`,
		slackID, u.ID, u.UserPrincipalName, u.Mail, u.DisplayName, d.now())
	if err != nil {
		return fmt.Errorf("save user %s: %w", slackID, err)
	}
	return nil
}

// SaveApplication remembers the application apppass created for an
// employee.
func (d *DB) SaveApplication(ctx context.Context, app domain.Application) error {
	_, err := d.db.ExecContext(ctx, `
		INSERT INTO applications (owner_id, object_id, app_id, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (owner_id) DO UPDATE SET object_id = excluded.object_id, app_id = excluded.app_id`,
		app.OwnerID, app.ObjectID, app.AppID, d.now())
	if err != nil {
		return fmt.Errorf("save application of %s: %w", app.OwnerID, err)
	}
	return nil
}

// Application returns the application remembered for ownerID. It returns
// a KindNotFound domain error when there is none.
func (d *DB) Application(ctx context.Context, ownerID string) (domain.Application, error) {
	app := domain.Application{OwnerID: ownerID}
	err := d.db.QueryRowContext(ctx,
		`SELECT object_id, app_id FROM applications WHERE owner_id = ?`, ownerID).Scan(&app.ObjectID, &app.AppID)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Application{}, domain.Errorf(domain.KindNotFound, "no application recorded for %s", ownerID)
	}
	if err != nil {
		return domain.Application{}, fmt.Errorf("application of %s: %w", ownerID, err)
	}
	return app, nil
}
