package store

import (
	"context"
	"fmt"

	"github.com/apppass/apppass/domain"
)

// Audit appends e to the audit trail; a zero At is stamped with now.
func (d *DB) Audit(ctx context.Context, e domain.AuditEvent) error {
	at := d.millisOrNow(e.At)
	_, err := d.db.ExecContext(ctx, `
		INSERT INTO audit_events (at, actor_slack, actor_id, subject_id, action, key_id, name, outcome, ref)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		at, e.ActorSlack, e.ActorID, e.SubjectID, e.Action, e.KeyID, e.Name, e.Outcome, e.Ref)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditFor returns the newest limit audit events about subjectID, newest
// first.
func (d *DB) AuditFor(ctx context.Context, subjectID string, limit int) ([]domain.AuditEvent, error) {
	rows, err := d.db.QueryContext(ctx, `
		SELECT id, at, actor_slack, actor_id, subject_id, action, key_id, name, outcome, ref
		FROM audit_events WHERE subject_id = ? ORDER BY at DESC, id DESC LIMIT ?`, subjectID, limit)
	if err != nil {
		return nil, fmt.Errorf("audit of %s: %w", subjectID, err)
	}
	defer rows.Close()
	var out []domain.AuditEvent
	for rows.Next() {
		var e domain.AuditEvent
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.ActorSlack, &e.ActorID, &e.SubjectID, &e.Action, &e.KeyID, &e.Name, &e.Outcome, &e.Ref); err != nil {
			return nil, fmt.Errorf("audit of %s: %w", subjectID, err)
		}
		e.At = fromMillis(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
