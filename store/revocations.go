package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/apppass/apppass/domain"
)

// CreateRevocation stores a new pending request with its targets and
// items and sets r.ID. It refuses a request naming nobody.
func (d *DB) CreateRevocation(ctx context.Context, r *domain.RevocationRequest) error {
	if len(r.Targets) == 0 {
		return fmt.Errorf("create revocation: no target")
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create revocation: %w", err)
	}
	defer tx.Rollback()
	now := d.now()
	first := r.Targets[0] // what an older apppass reads
	id, err := tx.insertID(ctx, `
		INSERT INTO revocation_requests (requester_slack, requester_id, target_slack, target_id, target_name, all_passwords,
			reason, status, created_at, expires_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.RequesterSlack, r.RequesterID, first.Slack, first.ID, first.Name, r.All, r.Reason,
		domain.RevocationPending, now, toMillis(r.ExpiresAt), now)
	if err != nil {
		return fmt.Errorf("create revocation: %w", err)
	}
	for i, t := range r.Targets {
		if _, err := tx.ExecContext(ctx, `INSERT INTO revocation_targets (request_id, position, target_slack, target_id, target_name) VALUES (?, ?, ?, ?, ?)`,
			id, i, t.Slack, t.ID, t.Name); err != nil {
			return fmt.Errorf("create revocation target: %w", err)
		}
	}
	for _, it := range r.Items {
		p := it.Password
		if _, err := tx.ExecContext(ctx, `INSERT INTO revocation_items (request_id, target_id, key_id, name, hint, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			id, it.TargetID, p.KeyID, p.Name, p.Hint, toMillis(p.Created)); err != nil {
			return fmt.Errorf("create revocation item: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create revocation: %w", err)
	}
	r.ID, r.Status, r.CreatedAt = id, domain.RevocationPending, fromMillis(now)
	return nil
}

// Revocation returns request id with its items. It returns a KindNotFound
// error when there is none.
func (d *DB) Revocation(ctx context.Context, id int64) (domain.RevocationRequest, error) {
	rs, err := d.queryRevocations(ctx, `WHERE id = ?`, id)
	if err != nil {
		return domain.RevocationRequest{}, err
	}
	if len(rs) == 0 {
		return domain.RevocationRequest{}, domain.Errorf(domain.KindNotFound, "There is no revocation request #%d.", id)
	}
	return rs[0], nil
}

// Revocations returns the requests in one of statuses, oldest first.
func (d *DB) Revocations(ctx context.Context, statuses ...domain.RevocationStatus) ([]domain.RevocationRequest, error) {
	if len(statuses) == 0 {
		return nil, nil // PostgreSQL has no empty IN ()
	}
	q := `WHERE status IN (`
	args := []any{}
	for i, s := range statuses {
		if i > 0 {
			q += ", "
		}
		q += "?"
		args = append(args, s)
	}
	return d.queryRevocations(ctx, q+`)`, args...)
}

// PendingRevocations counts requests waiting for a decision.
func (d *DB) PendingRevocations(ctx context.Context) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM revocation_requests WHERE status = ? AND expires_at > ?`,
		domain.RevocationPending, d.now()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count pending revocations: %w", err)
	}
	return n, nil
}

// ClaimRevocation moves request id from one of from to approving, on
// behalf of the decider, if — and only if — it is still in one of those
// statuses and unexpired. It reports whether this caller won: two helpdesk
// members clicking at once cannot both act.
func (d *DB) ClaimRevocation(ctx context.Context, id int64, to domain.RevocationStatus, deciderSlack, deciderID, denyReason string, from ...domain.RevocationStatus) (bool, error) {
	now := d.now()
	q := `UPDATE revocation_requests SET status = ?, decided_slack = ?, decided_id = ?, decided_at = ?, deny_reason = ?, updated_at = ?
		WHERE id = ? AND (status = ? AND expires_at > ?`
	args := []any{to, deciderSlack, deciderID, now, denyReason, now, id, domain.RevocationPending, now}
	for _, s := range from {
		if s != domain.RevocationPending {
			q += ` OR status = ?`
			args = append(args, s)
		}
	}
	res, err := d.db.ExecContext(ctx, q+`)`, args...)
	if err != nil {
		return false, fmt.Errorf("claim revocation %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim revocation %d: %w", id, err)
	}
	return n == 1, nil
}

// SetRevocationStatus records a request's new status.
func (d *DB) SetRevocationStatus(ctx context.Context, id int64, status domain.RevocationStatus) error {
	if _, err := d.db.ExecContext(ctx, `UPDATE revocation_requests SET status = ?, updated_at = ? WHERE id = ?`, status, d.now(), id); err != nil {
		return fmt.Errorf("revocation %d to %s: %w", id, status, err)
	}
	return nil
}

// SetRevocationOutcome records what happened to one password of a request.
func (d *DB) SetRevocationOutcome(ctx context.Context, id int64, keyID, outcome string) error {
	if _, err := d.db.ExecContext(ctx, `UPDATE revocation_items SET outcome = ? WHERE request_id = ? AND key_id = ?`, outcome, id, keyID); err != nil {
		return fmt.Errorf("revocation %d outcome: %w", id, err)
	}
	return nil
}

// SetRevocationNotified records that the owners of request id's
// passwords keyIDs were told of their removal.
func (d *DB) SetRevocationNotified(ctx context.Context, id int64, keyIDs []string) error {
	for _, k := range keyIDs {
		if _, err := d.db.ExecContext(ctx, `UPDATE revocation_items SET notified = 1 WHERE request_id = ? AND key_id = ?`, id, k); err != nil {
			return fmt.Errorf("revocation %d notified: %w", id, err)
		}
	}
	return nil
}

// SetRevocationMessage records where the request was posted.
func (d *DB) SetRevocationMessage(ctx context.Context, id int64, channel, ts string) error {
	if _, err := d.db.ExecContext(ctx, `UPDATE revocation_requests SET channel = ?, message_ts = ?, updated_at = ? WHERE id = ?`,
		channel, ts, d.now(), id); err != nil {
		return fmt.Errorf("revocation %d message: %w", id, err)
	}
	return nil
}

// ExpireRevocations marks pending requests whose time is up as expired and
// returns them.
func (d *DB) ExpireRevocations(ctx context.Context, now time.Time) ([]domain.RevocationRequest, error) {
	due, err := d.queryRevocations(ctx, `WHERE status = ? AND expires_at <= ?`, domain.RevocationPending, toMillis(now))
	if err != nil {
		return nil, err
	}
	var out []domain.RevocationRequest
	for _, r := range due {
		res, err := d.db.ExecContext(ctx, `UPDATE revocation_requests SET status = ?, updated_at = ? WHERE id = ? AND status = ?`,
			domain.RevocationExpired, d.now(), r.ID, domain.RevocationPending)
		if err != nil {
			return out, fmt.Errorf("expire revocation %d: %w", r.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			r.Status = domain.RevocationExpired
			out = append(out, r)
		}
	}
	return out, nil
}

func (d *DB) queryRevocations(ctx context.Context, where string, args ...any) ([]domain.RevocationRequest, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT id, requester_slack, requester_id, all_passwords,
		reason, status, decided_slack, decided_id, decided_at, deny_reason, channel, message_ts, created_at, expires_at
		FROM revocation_requests `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("query revocations: %w", err)
	}
	var out []domain.RevocationRequest
	for rows.Next() {
		var r domain.RevocationRequest
		var decided, created, expires int64
		if err := rows.Scan(&r.ID, &r.RequesterSlack, &r.RequesterID, &r.All,
			&r.Reason, &r.Status, &r.DecidedSlack, &r.DecidedID, &decided, &r.DenyReason, &r.Channel, &r.MessageTS, &created, &expires); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan revocation: %w", err)
		}
		r.DecidedAt, r.CreatedAt, r.ExpiresAt = fromMillis(decided), fromMillis(created), fromMillis(expires)
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query revocations: %w", err)
	}
	if err := d.revocationParts(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// partsBatch bounds the request ids in one IN (…) list.
const partsBatch = 500

// revocationParts fills in the targets and items of reqs (ordered by
// id), a query for each per partsBatch requests rather than two per
// request: App Home lists every request there has been.
func (d *DB) revocationParts(ctx context.Context, reqs []domain.RevocationRequest) error {
	for len(reqs) > 0 {
		batch := reqs[:min(len(reqs), partsBatch)]
		reqs = reqs[len(batch):]
		at := make(map[int64]*domain.RevocationRequest, len(batch))
		ids := make([]any, len(batch))
		for i := range batch {
			at[batch[i].ID], ids[i] = &batch[i], batch[i].ID
		}
		in := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")"
		if err := d.scanParts(ctx, `SELECT request_id, target_slack, target_id, target_name FROM revocation_targets
			WHERE request_id IN `+in+` ORDER BY request_id, position`, ids, func(rows *sql.Rows) error {
			var id int64
			var t domain.RevocationTarget
			if err := rows.Scan(&id, &t.Slack, &t.ID, &t.Name); err != nil {
				return err
			}
			at[id].Targets = append(at[id].Targets, t)
			return nil
		}); err != nil {
			return fmt.Errorf("revocation targets: %w", err)
		}
		if err := d.scanParts(ctx, `SELECT request_id, target_id, key_id, name, hint, created_at, outcome, notified FROM revocation_items
			WHERE request_id IN `+in+` ORDER BY request_id, rowid`, ids, func(rows *sql.Rows) error {
			var it domain.RevocationItem
			var id, created, notified int64
			if err := rows.Scan(&id, &it.TargetID, &it.Password.KeyID, &it.Password.Name, &it.Password.Hint, &created, &it.Outcome, &notified); err != nil {
				return err
			}
			it.Password.Created, it.Notified = fromMillis(created), notified != 0
			at[id].Items = append(at[id].Items, it)
			return nil
		}); err != nil {
			return fmt.Errorf("revocation items: %w", err)
		}
	}
	return nil
}

// scanParts runs query and hands each row to scan.
func (d *DB) scanParts(ctx context.Context, query string, args []any, scan func(rows *sql.Rows) error) error {
	rows, err := d.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ClaimResume makes holder the one process to carry out approving request
// id until at+ttl, if no unexpired claim on it exists at at: a
// compare-and-set, so of replicas resuming interrupted approvals at once
// exactly one resumes a given request, and a dead claimant's claim
// expires. It reports whether holder won; false also when the request is
// not approving (any more). A holder cannot claim its own live claim
// twice.
func (d *DB) ClaimResume(ctx context.Context, id int64, holder string, at time.Time, ttl time.Duration) (bool, error) {
	res, err := d.db.ExecContext(ctx, `UPDATE revocation_requests SET resume_holder = ?, resume_until = ?
		WHERE id = ? AND status = ? AND resume_until <= ?`,
		holder, toMillis(at.Add(ttl)), id, domain.RevocationApproving, toMillis(at))
	if err != nil {
		return false, fmt.Errorf("claim resumption of revocation %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim resumption of revocation %d: %w", id, err)
	}
	return n == 1, nil
}

// AddRevocationItems adds items to request id (a --all request covers
// the passwords its people made while it waited); ones it covers already
// are left as they are.
func (d *DB) AddRevocationItems(ctx context.Context, id int64, items []domain.RevocationItem) error {
	for _, it := range items {
		p := it.Password
		if _, err := d.db.ExecContext(ctx, `INSERT INTO revocation_items (request_id, target_id, key_id, name, hint, created_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (request_id, key_id) DO NOTHING`, id, it.TargetID, p.KeyID, p.Name, p.Hint, toMillis(p.Created)); err != nil {
			return fmt.Errorf("revocation %d: add item: %w", id, err)
		}
	}
	return nil
}
