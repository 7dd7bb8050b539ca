package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apppass/apppass/domain"
)

// AcquireLease makes instance the only runner of job until at+ttl, if
// nobody holds an unexpired lease at at: a compare-and-set, so of two
// processes asking at once exactly one gets it. An instance cannot take its
// own unexpired lease twice. It reports whether instance got it.
func (d *DB) AcquireLease(ctx context.Context, job, instance string, at time.Time, ttl time.Duration) (bool, error) {
	res, err := d.db.ExecContext(ctx, `
		INSERT INTO job_leases (job, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE job_leases.expires_at <= ?`, job, instance, toMillis(at.Add(ttl)), toMillis(at))
	if err != nil {
		return false, fmt.Errorf("acquire lease on %s: %w", job, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("acquire lease on %s: %w", job, err)
	}
	return n == 1, nil
}

// RenewLease extends instance's lease on job to at+ttl. It reports false
// when instance no longer holds it.
func (d *DB) RenewLease(ctx context.Context, job, instance string, at time.Time, ttl time.Duration) (bool, error) {
	res, err := d.db.ExecContext(ctx, `UPDATE job_leases SET expires_at = ? WHERE job = ? AND holder = ?`,
		toMillis(at.Add(ttl)), job, instance)
	if err != nil {
		return false, fmt.Errorf("renew lease on %s: %w", job, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("renew lease on %s: %w", job, err)
	}
	return n == 1, nil
}

// ReleaseLease gives up instance's lease on job; a lease someone else holds
// is left alone.
func (d *DB) ReleaseLease(ctx context.Context, job, instance string) error {
	if _, err := d.db.ExecContext(ctx, `DELETE FROM job_leases WHERE job = ? AND holder = ?`, job, instance); err != nil {
		return fmt.Errorf("release lease on %s: %w", job, err)
	}
	return nil
}

// StartJobRun records that a run of job began at at, with outcome
// "running", and returns the run's id.
func (d *DB) StartJobRun(ctx context.Context, job, instance string, at time.Time) (int64, error) {
	id, err := d.db.insertID(ctx, `INSERT INTO job_runs (job, holder, started_at, outcome) VALUES (?, ?, ?, ?)`,
		job, instance, toMillis(at), domain.JobRunning)
	if err != nil {
		return 0, fmt.Errorf("start run of %s: %w", job, err)
	}
	return id, nil
}

// FinishJobRun records run r.ID's end, outcome, counts and error.
func (d *DB) FinishJobRun(ctx context.Context, r domain.JobRun) error {
	counts, err := json.Marshal(r.Counts)
	if err != nil {
		return fmt.Errorf("finish run %d: %w", r.ID, err)
	}
	if r.Counts == nil {
		counts = []byte("{}")
	}
	_, err = d.db.ExecContext(ctx, `UPDATE job_runs SET ended_at = ?, outcome = ?, counts = ?, error = ? WHERE id = ?`,
		toMillis(r.End), r.Outcome, string(counts), r.Error, r.ID)
	if err != nil {
		return fmt.Errorf("finish run %d: %w", r.ID, err)
	}
	return nil
}

// LastJobRun returns the latest run of job, and false when it never ran.
func (d *DB) LastJobRun(ctx context.Context, job string) (domain.JobRun, bool, error) {
	r := domain.JobRun{Job: job}
	var start, end int64
	var counts string
	err := d.db.QueryRowContext(ctx, `SELECT id, holder, started_at, ended_at, outcome, counts, error
		FROM job_runs WHERE job = ? ORDER BY id DESC LIMIT 1`, job).
		Scan(&r.ID, &r.Instance, &start, &end, &r.Outcome, &counts, &r.Error)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.JobRun{}, false, nil
	}
	if err != nil {
		return domain.JobRun{}, false, fmt.Errorf("last run of %s: %w", job, err)
	}
	if err := json.Unmarshal([]byte(counts), &r.Counts); err != nil {
		return domain.JobRun{}, false, fmt.Errorf("last run of %s: counts: %w", job, err)
	}
	r.Start, r.End = fromMillis(start), fromMillis(end)
	return r, true, nil
}

// KnownPeople returns, for each of entraIDs that has used apppass, the
// Slack user, UPN and email last seen for them. Ids nobody used are
// absent. Keep entraIDs to a few hundred per call.
func (d *DB) KnownPeople(ctx context.Context, entraIDs []string) (map[string]domain.KnownPerson, error) {
	out := make(map[string]domain.KnownPerson, len(entraIDs))
	if len(entraIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(entraIDs))
	for i, id := range entraIDs {
		args[i] = id
	}
	// Oldest first, so the latest row for an id wins.
	rows, err := d.db.QueryContext(ctx, `SELECT entra_id, slack_id, upn, email FROM users
		WHERE entra_id IN (?`+strings.Repeat(", ?", len(entraIDs)-1)+`) ORDER BY updated_at, slack_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("known people: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var p domain.KnownPerson
		if err := rows.Scan(&id, &p.SlackID, &p.UPN, &p.Email); err != nil {
			return nil, fmt.Errorf("known people: %w", err)
		}
		out[id] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("known people: %w", err)
	}
	return out, nil
}

// LastNotified returns when person last got a notice of kind, or the zero
// time when never.
func (d *DB) LastNotified(ctx context.Context, kind domain.NoticeKind, person string) (time.Time, error) {
	var at sql.NullInt64
	err := d.db.QueryRowContext(ctx, `SELECT max(sent_at) FROM notifications WHERE kind = ? AND person = ?`,
		string(kind), person).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("last %s notice to %s: %w", kind, person, err)
	}
	return fromMillis(at.Int64), nil
}

// NotifiedKeys returns the keys person has had a notice of kind about.
func (d *DB) NotifiedKeys(ctx context.Context, kind domain.NoticeKind, person string) (map[string]bool, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT key FROM notifications WHERE kind = ? AND person = ?`, string(kind), person)
	if err != nil {
		return nil, fmt.Errorf("%s notices to %s: %w", kind, person, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("%s notices to %s: %w", kind, person, err)
		}
		out[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s notices to %s: %w", kind, person, err)
	}
	return out, nil
}

// RecordNotification records, in one transaction, that person got a
// notice of kind about keys at at; a key noticed before gets the new time.
func (d *DB) RecordNotification(ctx context.Context, kind domain.NoticeKind, person string, keys []string, at time.Time) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record %s notice to %s: %w", kind, person, err)
	}
	defer tx.Rollback()
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `INSERT INTO notifications (kind, person, key, sent_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (kind, person, key) DO UPDATE SET sent_at = excluded.sent_at`,
			string(kind), person, k, toMillis(at)); err != nil {
			return fmt.Errorf("record %s notice to %s: %w", kind, person, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record %s notice to %s: %w", kind, person, err)
	}
	return nil
}

// LastReportSnapshot returns when the previous hygiene report was posted
// and its figures; a zero time and nil figures when there was none.
func (d *DB) LastReportSnapshot(ctx context.Context) (time.Time, domain.Counts, error) {
	var at int64
	var figures string
	err := d.db.QueryRowContext(ctx, `SELECT at, figures FROM report_snapshots ORDER BY id DESC LIMIT 1`).Scan(&at, &figures)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil, nil
	}
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("last report: %w", err)
	}
	var c domain.Counts
	if err := json.Unmarshal([]byte(figures), &c); err != nil {
		return time.Time{}, nil, fmt.Errorf("last report figures: %w", err)
	}
	return fromMillis(at), c, nil
}

// SaveReportSnapshot records the figures of a report posted at at.
func (d *DB) SaveReportSnapshot(ctx context.Context, at time.Time, figures domain.Counts) error {
	b, err := json.Marshal(figures)
	if err != nil {
		return fmt.Errorf("save report figures: %w", err)
	}
	if _, err := d.db.ExecContext(ctx, `INSERT INTO report_snapshots (at, figures) VALUES (?, ?)`, toMillis(at), string(b)); err != nil {
		return fmt.Errorf("save report figures: %w", err)
	}
	return nil
}

// AuditCounts counts, from the audit trail since since (inclusive), the
// app passwords created (action "create", outcome "ok"), deleted by their
// owners ("delete", "ok") and revoked ("revoke", "removed").
func (d *DB) AuditCounts(ctx context.Context, since time.Time) (created, deleted, revoked int, err error) {
	err = d.db.QueryRowContext(ctx, `SELECT
			count(*) FILTER (WHERE action = 'create' AND outcome = 'ok'),
			count(*) FILTER (WHERE action = 'delete' AND outcome = 'ok'),
			count(*) FILTER (WHERE action = 'revoke' AND outcome = 'removed')
		FROM audit_events WHERE at >= ? AND action IN ('create', 'delete', 'revoke')`, toMillis(since)).
		Scan(&created, &deleted, &revoked)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("audit counts: %w", err)
	}
	return created, deleted, revoked, nil
}

// OffboardedSince counts the people whose app passwords apppass removed,
// or asked the helpdesk to remove, because their account was disabled or
// deleted (the offboarding job), since since.
func (d *DB) OffboardedSince(ctx context.Context, since time.Time) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT count(DISTINCT subject_id) FROM audit_events
		WHERE at >= ? AND actor_slack = 'apppass' AND action IN ('offboard', 'revoke-request')`, toMillis(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("offboarded count: %w", err)
	}
	return n, nil
}
