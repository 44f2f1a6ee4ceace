package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// FindingCounts returns, per snapshot, the number of open findings by
// severity: the history chart of the report.
func (s *Store) FindingCounts(ctx context.Context) (map[int64]map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT snapshot_id, severity, COUNT(*) FROM findings WHERE state = 'open' GROUP BY snapshot_id, severity`)
	if err != nil {
		return nil, fmt.Errorf("store: counting findings: %w", err)
	}
	defer rows.Close()
	out := map[int64]map[string]int{}
	for rows.Next() {
		var id int64
		var sev string
		var n int
		if err := rows.Scan(&id, &sev, &n); err != nil {
			return nil, err
		}
		if out[id] == nil {
			out[id] = map[string]int{}
		}
		out[id][sev] = n
	}
	return out, rows.Err()
}

// Alerted returns the ledger: finding key -> severity it was alerted at.
func (s *Store) Alerted(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT finding_key, severity FROM alert_ledger`)
	if err != nil {
		return nil, fmt.Errorf("store: reading the alert ledger: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, sev string
		if err := rows.Scan(&k, &sev); err != nil {
			return nil, err
		}
		out[k] = sev
	}
	return out, rows.Err()
}

// Outbound is one alert in the outbox.
type Outbound struct {
	ID         int64
	SnapshotID int64
	Sink       string
	Payload    string
	Attempts   int
	LastError  string
}

// Enqueue records alerts for delivery and updates the ledger in one
// transaction: alerted keys are added (or their severity raised), resolved
// keys removed.
func (s *Store) Enqueue(ctx context.Context, snapshot int64, out []Outbound, alerted map[string]string, resolved []string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := ts(time.Now())
	for _, o := range out {
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_outbox (snapshot_id, sink, payload, status, created_at, updated_at) VALUES (?,?,?,'pending',?,?)`,
			snapshot, o.Sink, o.Payload, now, now); err != nil {
			return fmt.Errorf("store: queueing an alert: %w", err)
		}
	}
	for k, sev := range alerted {
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_ledger VALUES (?,?,?) ON CONFLICT(finding_key) DO UPDATE SET severity = excluded.severity, snapshot_id = excluded.snapshot_id`,
			k, snapshot, sev); err != nil {
			return err
		}
	}
	for _, k := range resolved {
		if _, err := tx.ExecContext(ctx, `DELETE FROM alert_ledger WHERE finding_key = ?`, k); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Pending returns undelivered alerts, oldest first.
func (s *Store) Pending(ctx context.Context) ([]Outbound, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, snapshot_id, sink, payload, attempts, last_error FROM alert_outbox WHERE status = 'pending' ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Outbound
	for rows.Next() {
		var o Outbound
		if err := rows.Scan(&o.ID, &o.SnapshotID, &o.Sink, &o.Payload, &o.Attempts, &o.LastError); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// MarkDelivery records the outcome of one delivery attempt.
func (s *Store) MarkDelivery(ctx context.Context, id int64, attempts int, deliveryErr error) error {
	status, msg := "delivered", ""
	if deliveryErr != nil {
		status, msg = "pending", deliveryErr.Error()
	}
	var res sql.Result
	res, err := s.db.ExecContext(ctx, `UPDATE alert_outbox SET status = ?, attempts = attempts + ?, last_error = ?, updated_at = ? WHERE id = ?`,
		status, attempts, msg, ts(time.Now()), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("store: no alert %d", id)
	}
	return nil
}
