package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/idgraph/idgraph/review"
)

// Decision is a reviewer's decision about a finding (the review package
// holds its vocabulary and rules).
type Decision = review.Decision

// Decide records a decision as one entry of the evidence chain, without
// an evidence log file. The rules (review.Check) are the caller's: the
// store records what it is given, chained.
func (s *Store) Decide(ctx context.Context, d *Decision) error {
	return s.Record(ctx, d, "")
}

// Record records decision d as one entry of the evidence chain and, when
// logFile is set, appends the entry to that append-only file.
func (s *Store) Record(ctx context.Context, d *Decision, logFile string) error {
	exp := ""
	if !d.ExpiresAt.IsZero() {
		exp = ts(d.ExpiresAt)
	}
	e, err := s.appendEntry(ctx, "decision", ts(d.DecidedAt), func(tx *sql.Tx) (int64, string, error) {
		res, err := tx.ExecContext(ctx, `INSERT INTO decisions (finding_key, finding_id, decision, justification, role, expires_at, reviewer, decided_at, snapshot_id, needs_second)
			VALUES (?,?,?,?,?,?,?,?,?,?)`, d.FindingKey, d.FindingID, d.Decision, d.Justification, d.Role, exp, d.Reviewer, ts(d.DecidedAt), d.SnapshotID, d.NeedsSecond)
		if err != nil {
			return 0, "", fmt.Errorf("store: recording the decision: %w", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return 0, "", err
		}
		body, err := decisionBody(ctx, tx, id)
		return id, body, err
	})
	if err != nil {
		return err
	}
	d.ID = e.Ref
	return s.logEntry(ctx, logFile, e)
}

// Confirm records a second reviewer's confirmation of pending decision id
// as an entry of the evidence chain (review.CheckConfirm's rules are the
// caller's).
func (s *Store) Confirm(ctx context.Context, id int64, reviewer string, at time.Time, logFile string) error {
	e, err := s.appendEntry(ctx, "confirmation", ts(at), func(tx *sql.Tx) (int64, string, error) {
		res, err := tx.ExecContext(ctx, `INSERT INTO confirmations (decision_id, reviewer, confirmed_at) VALUES (?,?,?)`, id, reviewer, ts(at))
		if err != nil {
			return 0, "", fmt.Errorf("store: recording the confirmation of decision %d: %w", id, err)
		}
		cid, err := res.LastInsertId()
		if err != nil {
			return 0, "", err
		}
		body, err := confirmationBody(ctx, tx, cid)
		return cid, body, err
	})
	if err != nil {
		return err
	}
	return s.logEntry(ctx, logFile, e)
}

// Decisions returns the decision in force for every finding key, and with
// history every decision, newest first, as of now.
func (s *Store) Decisions(ctx context.Context, history bool) (map[string]Decision, []Decision, error) {
	cur, all, err := s.DecisionsAsOf(ctx, time.Time{})
	if !history {
		all = nil
	}
	return cur, all, err
}

// DecisionsAsOf returns the review as it stood at asOf (zero: now): the
// decision in force for every finding key (the newest that is not waiting
// for its second reviewer) and every decision made by then, newest first,
// with the confirmations made by then. A decision or confirmation made
// after asOf is not shown, so that an export of a past moment never
// changes; nor is one that is not in the evidence chain (written into the
// store around idgraph: `idgraph verify` names it).
func (s *Store) DecisionsAsOf(ctx context.Context, asOf time.Time) (map[string]Decision, []Decision, error) {
	q := `SELECT d.id, d.finding_key, d.finding_id, d.decision, d.justification, d.role, d.expires_at, d.reviewer, d.decided_at, d.snapshot_id, d.needs_second,
		COALESCE(c.reviewer, ''), COALESCE(c.confirmed_at, '')
		FROM decisions d JOIN evidence e ON e.kind = 'decision' AND e.ref = d.id
		LEFT JOIN (SELECT c.* FROM confirmations c JOIN evidence ce ON ce.kind = 'confirmation' AND ce.ref = c.id) c ON c.decision_id = d.id
		ORDER BY d.id`
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return nil, nil, fmt.Errorf("store: reading decisions: %w", err)
	}
	defer rows.Close()
	byKey := map[string][]Decision{}
	var all []Decision
	for rows.Next() {
		var d Decision
		var exp, at, cby, cat string
		if err := rows.Scan(&d.ID, &d.FindingKey, &d.FindingID, &d.Decision, &d.Justification, &d.Role, &exp, &d.Reviewer, &at, &d.SnapshotID, &d.NeedsSecond, &cby, &cat); err != nil {
			return nil, nil, err
		}
		if exp != "" {
			d.ExpiresAt = parseTS(exp)
		}
		d.DecidedAt = parseTS(at)
		if !asOf.IsZero() && d.DecidedAt.After(asOf) {
			continue
		}
		if cby != "" && (asOf.IsZero() || !parseTS(cat).After(asOf)) {
			d.ConfirmedBy, d.ConfirmedAt = cby, parseTS(cat)
		}
		byKey[d.FindingKey] = append(byKey[d.FindingKey], d)
		all = append(all, d)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	cur := map[string]Decision{}
	for k, h := range byKey {
		if d := review.InForce(h); d != nil {
			cur[k] = *d
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID > all[j].ID })
	return cur, all, nil
}

// History returns every decision about a finding, oldest first.
func (s *Store) History(ctx context.Context, key string) ([]Decision, error) {
	_, all, err := s.DecisionsAsOf(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	var out []Decision
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].FindingKey == key {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// ErrNoDecision: the decision named does not exist.
var ErrNoDecision = errors.New("no such decision")

// GetDecision returns one decision with its confirmation.
func (s *Store) GetDecision(ctx context.Context, id int64) (*Decision, error) {
	_, all, err := s.DecisionsAsOf(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].ID == id {
			return &all[i], nil
		}
	}
	return nil, fmt.Errorf("%w: decision %d is not in %s", ErrNoDecision, id, s.path)
}
