package store

import (
	"context"
	"fmt"
	"time"

	"github.com/apppass/apppass/domain"
)

// Prune deletes the audit events, notifications sent, job runs and
// gateway removal records older than before, and returns how many of
// each it deleted, by table name. Nothing else ages out: users,
// applications, credentials and revocation requests are kept.
func (d *DB) Prune(ctx context.Context, before time.Time) (domain.Counts, error) {
	cut := toMillis(before)
	counts := domain.Counts{}
	for _, q := range []struct{ table, where string }{
		{"audit_events", "at < ?"},
		{"notifications", "sent_at < ?"},
		{"job_runs", "started_at < ? AND outcome <> 'running'"},
		{"removals", "at < ?"},
	} {
		res, err := d.db.ExecContext(ctx, `DELETE FROM `+q.table+` WHERE `+q.where, cut)
		if err != nil {
			return counts, fmt.Errorf("prune %s: %w", q.table, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return counts, fmt.Errorf("prune %s: %w", q.table, err)
		}
		counts[q.table] = int(n)
	}
	return counts, nil
}

// AuditSince calls fn with every audit event at or after since, in the
// order they were recorded, reading in batches so that memory does not grow with the trail.
// It stops at fn's first error and returns it.
func (d *DB) AuditSince(ctx context.Context, since time.Time, fn func(domain.AuditEvent) error) error {
	const batch = 1000
	var afterID int64
	for {
		rows, err := d.db.QueryContext(ctx, `
			SELECT id, at, actor_slack, actor_id, subject_id, action, key_id, name, outcome, ref
			FROM audit_events WHERE at >= ? AND id > ? ORDER BY id LIMIT ?`, toMillis(since), afterID, batch)
		if err != nil {
			return fmt.Errorf("audit since: %w", err)
		}
		var page []domain.AuditEvent
		for rows.Next() {
			var e domain.AuditEvent
			var at int64
			if err := rows.Scan(&e.ID, &at, &e.ActorSlack, &e.ActorID, &e.SubjectID, &e.Action, &e.KeyID, &e.Name, &e.Outcome, &e.Ref); err != nil {
				rows.Close()
				return fmt.Errorf("audit since: %w", err)
			}
			e.At = fromMillis(at)
			page = append(page, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("audit since: %w", err)
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(page) < batch {
			return nil
		}
		afterID = page[len(page)-1].ID
	}
}
