package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// DeltaLink returns the delta link stored under name, or "" when none is.
func (d *DB) DeltaLink(ctx context.Context, name string) (string, error) {
	var link string
	err := d.db.QueryRowContext(ctx, `SELECT link FROM directory_sync WHERE name = ?`, name).Scan(&link)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("delta link %s: %w", name, err)
	}
	return link, nil
}

// SaveDeltaLink stores link under name for the next run; "" forgets it.
func (d *DB) SaveDeltaLink(ctx context.Context, name, link string) error {
	_, err := d.db.ExecContext(ctx, `
		INSERT INTO directory_sync (name, link, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET link = excluded.link, updated_at = excluded.updated_at`, name, link, d.now())
	if err != nil {
		return fmt.Errorf("save delta link %s: %w", name, err)
	}
	return nil
}
