package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// casTries bounds the compare-and-set loop of AllowWrite: each lost
// round means another replica recorded a write for the same person.
const casTries = 20

// AllowWrite records a create or delete by person at at and reports
// whether it is within limit in any window, counting every replica's
// (SPEC §11: 10 a minute). A refused attempt is not recorded. The
// person's recent times are one row, changed by compare-and-set on its
// version, which SQLite and PostgreSQL both do atomically. It returns the
// database's error, wrapped.
func (d *DB) AllowWrite(ctx context.Context, person string, at time.Time, window time.Duration, limit int) (bool, error) {
	for range casTries {
		var raw string
		var version int64
		err := d.db.QueryRowContext(ctx, `SELECT stamps, version FROM write_rates WHERE person = ?`, person).Scan(&raw, &version)
		if errors.Is(err, sql.ErrNoRows) {
			res, err := d.db.ExecContext(ctx, `INSERT INTO write_rates (person, stamps, version) VALUES (?, ?, 1) ON CONFLICT (person) DO NOTHING`,
				person, fmt.Sprintf("[%d]", toMillis(at)))
			if err != nil {
				return false, fmt.Errorf("write rate of %s: %w", person, err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				return limit > 0, nil
			}
			continue // another replica inserted first
		}
		if err != nil {
			return false, fmt.Errorf("write rate of %s: %w", person, err)
		}
		var stamps []int64
		if err := json.Unmarshal([]byte(raw), &stamps); err != nil {
			stamps = nil // unreadable: start again rather than lock the person out
		}
		cut := toMillis(at.Add(-window))
		kept := stamps[:0]
		for _, s := range stamps {
			if s > cut {
				kept = append(kept, s)
			}
		}
		if len(kept) >= limit {
			return false, nil
		}
		kept = append(kept, toMillis(at))
		b, _ := json.Marshal(kept)
		res, err := d.db.ExecContext(ctx, `UPDATE write_rates SET stamps = ?, version = version + 1 WHERE person = ? AND version = ?`,
			string(b), person, version)
		if err != nil {
			return false, fmt.Errorf("write rate of %s: %w", person, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return true, nil
		}
	}
	return false, fmt.Errorf("write rate of %s: %d concurrent updates in a row", person, casTries)
}
