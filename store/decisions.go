package store

import (
	"context"
	"fmt"
	"time"
)

// Decision is a reviewer's decision about a finding.
type Decision struct {
	ID            int64     `json:"id"`
	FindingKey    string    `json:"finding_key"`
	Decision      string    `json:"decision"` // approve, revoke, exception
	Justification string    `json:"justification"`
	ExpiresAt     time.Time `json:"expires_at,omitzero"`
	Reviewer      string    `json:"reviewer"`
	DecidedAt     time.Time `json:"decided_at"`
	SnapshotID    int64     `json:"snapshot_id"`
}

// Active reports whether an approval is still in force at t (revokes and
// exceptions do not expire).
func (d *Decision) Active(t time.Time) bool {
	return d.ExpiresAt.IsZero() || t.Before(d.ExpiresAt)
}

// Decide records a decision.
func (s *Store) Decide(ctx context.Context, d *Decision) error {
	exp := ""
	if !d.ExpiresAt.IsZero() {
		exp = ts(d.ExpiresAt)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO decisions (finding_key, decision, justification, expires_at, reviewer, decided_at, snapshot_id)
		VALUES (?,?,?,?,?,?,?)`, d.FindingKey, d.Decision, d.Justification, exp, d.Reviewer, ts(d.DecidedAt), d.SnapshotID)
	if err != nil {
		return fmt.Errorf("store: recording the decision: %w", err)
	}
	d.ID, _ = res.LastInsertId()
	return nil
}

// Decisions returns the decision in force for every finding key (the
// newest), and with history the full list, newest first.
func (s *Store) Decisions(ctx context.Context, history bool) (map[string]Decision, []Decision, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, finding_key, decision, justification, expires_at, reviewer, decided_at, snapshot_id FROM decisions ORDER BY id DESC`)
	if err != nil {
		return nil, nil, fmt.Errorf("store: reading decisions: %w", err)
	}
	defer rows.Close()
	cur := map[string]Decision{}
	var all []Decision
	for rows.Next() {
		var d Decision
		var exp, at string
		if err := rows.Scan(&d.ID, &d.FindingKey, &d.Decision, &d.Justification, &exp, &d.Reviewer, &at, &d.SnapshotID); err != nil {
			return nil, nil, err
		}
		if exp != "" {
			d.ExpiresAt = parseTS(exp)
		}
		d.DecidedAt = parseTS(at)
		if _, ok := cur[d.FindingKey]; !ok {
			cur[d.FindingKey] = d
		}
		if history {
			all = append(all, d)
		}
	}
	return cur, all, rows.Err()
}
