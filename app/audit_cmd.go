package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/store"
)

// auditLine is one audit event as `apppass audit export` writes it: one
// JSON object per line, for a SIEM.
type auditLine struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	ActorSlack string    `json:"actor_slack,omitempty"`
	ActorID    string    `json:"actor_id,omitempty"`
	SubjectID  string    `json:"subject_id,omitempty"`
	Action     string    `json:"action"`
	KeyID      string    `json:"key_id,omitempty"`
	Name       string    `json:"name,omitempty"`
	Outcome    string    `json:"outcome,omitempty"`
	Ref        string    `json:"ref,omitempty"`
}

// ExportAudit writes the audit trail from since on (zero: all of it) to
// out as JSON lines, in the order it was recorded. It opens only the
// database.
func (m *Main) ExportAudit(ctx context.Context, since time.Time, out io.Writer) (err error) {
	db, err := store.Open(ctx, m.Config.DBPath)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	err = db.AuditSince(ctx, since, func(e domain.AuditEvent) error {
		return enc.Encode(auditLine{ID: e.ID, At: e.At, ActorSlack: e.ActorSlack, ActorID: e.ActorID, SubjectID: e.SubjectID,
			Action: e.Action, KeyID: e.KeyID, Name: e.Name, Outcome: e.Outcome, Ref: e.Ref})
	})
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	return w.Flush()
}

// parseSince reads --since: an RFC 3339 time, or a duration back from
// now ("720h").
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, UsageError{fmt.Sprintf("--since %q: want an RFC 3339 time (2026-01-31T00:00:00Z) or a duration back from now (720h)", s)}
}
