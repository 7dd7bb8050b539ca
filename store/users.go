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

// SaveApplication records app as the application apppass uses for
// app.OwnerID, replacing any other, with whether its service principal is
// known to exist.
func (d *DB) SaveApplication(ctx context.Context, app domain.Application) error {
	_, err := d.db.ExecContext(ctx, `
		INSERT INTO applications (owner_id, object_id, app_id, created_at, has_sp) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (owner_id) DO UPDATE SET object_id = excluded.object_id, app_id = excluded.app_id, has_sp = excluded.has_sp`,
		app.OwnerID, app.ObjectID, app.AppID, d.now(), app.HasServicePrincipal)
	if err != nil {
		return fmt.Errorf("save application of %s: %w", app.OwnerID, err)
	}
	return nil
}

// ClaimApplication records app as the application apppass uses for
// app.OwnerID unless one is recorded already, and returns the one
// recorded: app, or the earlier one. Of two replicas claiming different
// applications for one person at once, both get the same answer.
func (d *DB) ClaimApplication(ctx context.Context, app domain.Application) (domain.Application, error) {
	_, err := d.db.ExecContext(ctx, `
		INSERT INTO applications (owner_id, object_id, app_id, created_at, has_sp) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (owner_id) DO NOTHING`,
		app.OwnerID, app.ObjectID, app.AppID, d.now(), app.HasServicePrincipal)
	if err != nil {
		return domain.Application{}, fmt.Errorf("claim application of %s: %w", app.OwnerID, err)
	}
	return d.Application(ctx, app.OwnerID)
}

// SetServicePrincipal records that the service principal of ownerID's
// application objectID exists.
func (d *DB) SetServicePrincipal(ctx context.Context, ownerID, objectID string) error {
	_, err := d.db.ExecContext(ctx, `UPDATE applications SET has_sp = ? WHERE owner_id = ? AND object_id = ?`, true, ownerID, objectID)
	if err != nil {
		return fmt.Errorf("service principal of %s: %w", ownerID, err)
	}
	return nil
}

// Application returns the application recorded for ownerID. It returns
// a KindNotFound domain error when there is none.
func (d *DB) Application(ctx context.Context, ownerID string) (domain.Application, error) {
	app := domain.Application{OwnerID: ownerID}
	err := d.db.QueryRowContext(ctx,
		`SELECT object_id, app_id, has_sp FROM applications WHERE owner_id = ?`, ownerID).Scan(&app.ObjectID, &app.AppID, &app.HasServicePrincipal)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Application{}, domain.Errorf(domain.KindNotFound, "no application recorded for %s", ownerID)
	}
	if err != nil {
		return domain.Application{}, fmt.Errorf("application of %s: %w", ownerID, err)
	}
	return app, nil
}
