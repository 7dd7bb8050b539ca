package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/apppass/apppass/domain"
)

// RecordFinding records f, unless its application was recorded before;
// the first finding of an application stands.
func (d *DB) RecordFinding(ctx context.Context, f domain.ApplicationFinding) error {
	at := d.millisOrNow(f.FoundAt)
	_, err := d.db.ExecContext(ctx, `
		INSERT INTO application_findings (object_id, owner_id, app_id, kind, passwords, found_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (object_id) DO NOTHING`, f.ObjectID, f.OwnerID, f.AppID, f.Kind, f.Passwords, at)
	if err != nil {
		return fmt.Errorf("record %s application %s: %w", f.Kind, f.ObjectID, err)
	}
	return nil
}

// Finding returns what was found about application objectID, and false
// when nothing was.
func (d *DB) Finding(ctx context.Context, objectID string) (domain.ApplicationFinding, bool, error) {
	f := domain.ApplicationFinding{ObjectID: objectID}
	var at int64
	err := d.db.QueryRowContext(ctx, `SELECT owner_id, app_id, kind, passwords, found_at FROM application_findings WHERE object_id = ?`,
		objectID).Scan(&f.OwnerID, &f.AppID, &f.Kind, &f.Passwords, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.ApplicationFinding{}, false, nil
	}
	if err != nil {
		return domain.ApplicationFinding{}, false, fmt.Errorf("finding of application %s: %w", objectID, err)
	}
	f.FoundAt = fromMillis(at)
	return f, true, nil
}

// UnreportedFindings returns the findings the helpdesk has not been told
// of, oldest first.
func (d *DB) UnreportedFindings(ctx context.Context) ([]domain.ApplicationFinding, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT object_id, owner_id, app_id, kind, passwords, found_at
		FROM application_findings WHERE reported_at = 0 ORDER BY found_at, object_id`)
	if err != nil {
		return nil, fmt.Errorf("unreported findings: %w", err)
	}
	defer rows.Close()
	var out []domain.ApplicationFinding
	for rows.Next() {
		var f domain.ApplicationFinding
		var at int64
		if err := rows.Scan(&f.ObjectID, &f.OwnerID, &f.AppID, &f.Kind, &f.Passwords, &at); err != nil {
			return nil, fmt.Errorf("unreported findings: %w", err)
		}
		f.FoundAt = fromMillis(at)
		out = append(out, f)
	}
	return out, rows.Err()
}

// FindingReported records that the helpdesk was told of application
// objectID at at.
func (d *DB) FindingReported(ctx context.Context, objectID string, at time.Time) error {
	if _, err := d.db.ExecContext(ctx, `UPDATE application_findings SET reported_at = ? WHERE object_id = ?`, toMillis(at), objectID); err != nil {
		return fmt.Errorf("finding %s reported: %w", objectID, err)
	}
	return nil
}

// FindingCounts counts the applications found, by kind.
func (d *DB) FindingCounts(ctx context.Context) (map[string]int, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT kind, count(*) FROM application_findings GROUP BY kind`)
	if err != nil {
		return nil, fmt.Errorf("finding counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var kind string
		var n int
		if err := rows.Scan(&kind, &n); err != nil {
			return nil, fmt.Errorf("finding counts: %w", err)
		}
		out[kind] = n
	}
	return out, rows.Err()
}
