package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Remediation records (docs/RULES.md, "Remediation"): the actions idgraph
// carried out in applications and the proofs the next reads gave of them.
// Both are rows of one table and entries of kind "action" in the evidence
// chain; a row is written once, with its entry, and never updated, so that
// an action's later state (confirmed by a read, or not) is a new record
// naming it and `idgraph verify` finds any record that was edited, deleted
// or backdated.

// Capture is one evidence file of an action (a screenshot, an API
// resource), written beside the store; its SHA-256 is in the record, so
// that a file changed later no longer matches.
type Capture struct {
	Name   string `json:"name"` // "before", "after"
	File   string `json:"file"` // path as written
	SHA256 string `json:"sha256"`
	Type   string `json:"type"` // media type: image/png, application/scim+json
}

// Action is one action carried out (or refused, failed, skipped) in an
// application, as recorded.
type Action struct {
	ID              int64     `json:"id"`
	Batch           string    `json:"batch"`
	DecisionID      int64     `json:"decision_id"`
	FindingKey      string    `json:"finding_key"`
	App             string    `json:"app"`
	Source          string    `json:"source"`
	Team            string    `json:"team,omitempty"`
	AccountKey      string    `json:"account_key"`
	Email           string    `json:"email"`
	Op              string    `json:"op"`
	Role            string    `json:"role,omitempty"` // set_role: the role set
	Account         string    `json:"account"`        // JSON of the account as the plan read it
	DecidedBy       string    `json:"decided_by"`
	ConfirmedBy     string    `json:"confirmed_by,omitempty"`
	AppliedBy       string    `json:"applied_by"`
	PlannedSnapshot int64     `json:"planned_snapshot"`
	StartedAt       time.Time `json:"started_at"`
	EndedAt         time.Time `json:"ended_at"`
	Outcome         string    `json:"outcome"`
	Detail          string    `json:"detail"`
	Captures        []Capture `json:"captures,omitempty"`
	RecordedAt      time.Time `json:"recorded_at"`
}

// Proof is what a complete read of the application after an action showed
// of it: confirmed (the account gone, at the new role, the invitation
// withdrawn) or unconfirmed (still as before).
type Proof struct {
	ID         int64     `json:"id"`
	ActionID   int64     `json:"action_id"`
	State      string    `json:"state"` // confirmed | unconfirmed
	SnapshotID int64     `json:"snapshot_id"`
	Detail     string    `json:"detail"`
	RecordedAt time.Time `json:"recorded_at"`
}

// Proof states.
const (
	ProofConfirmed   = "confirmed"
	ProofUnconfirmed = "unconfirmed"
)

// remediationRow is a remediation record's canonical body: every column as
// stored, in a fixed order.
type remediationRow struct {
	ID              int64  `json:"id"`
	Record          string `json:"record"`
	ActionID        int64  `json:"action_id"`
	Batch           string `json:"batch"`
	DecisionID      int64  `json:"decision_id"`
	FindingKey      string `json:"finding_key"`
	App             string `json:"app"`
	Source          string `json:"source"`
	Team            string `json:"team"`
	AccountKey      string `json:"account_key"`
	Email           string `json:"email"`
	Op              string `json:"op"`
	Role            string `json:"role"`
	Account         string `json:"account"`
	DecidedBy       string `json:"decided_by"`
	ConfirmedBy     string `json:"confirmed_by"`
	AppliedBy       string `json:"applied_by"`
	PlannedSnapshot int64  `json:"planned_snapshot"`
	StartedAt       string `json:"started_at"`
	EndedAt         string `json:"ended_at"`
	Outcome         string `json:"outcome"`
	Detail          string `json:"detail"`
	Captures        string `json:"captures"`
	State           string `json:"state"`
	SnapshotID      int64  `json:"snapshot_id"`
	RecordedAt      string `json:"recorded_at"`
}

const remediationCols = `id, record, action_id, batch, decision_id, finding_key, app, source, team, account_key, email, op, role, account,
	decided_by, confirmed_by, applied_by, planned_snapshot, started_at, ended_at, outcome, detail, captures, state, snapshot_id, recorded_at`

func (r *remediationRow) dest() []any {
	return []any{&r.ID, &r.Record, &r.ActionID, &r.Batch, &r.DecisionID, &r.FindingKey, &r.App, &r.Source, &r.Team, &r.AccountKey,
		&r.Email, &r.Op, &r.Role, &r.Account, &r.DecidedBy, &r.ConfirmedBy, &r.AppliedBy, &r.PlannedSnapshot, &r.StartedAt, &r.EndedAt,
		&r.Outcome, &r.Detail, &r.Captures, &r.State, &r.SnapshotID, &r.RecordedAt}
}

// actionBody returns the canonical body of a remediation record.
func actionBody(ctx context.Context, q querier, ref int64) (string, error) {
	var r remediationRow
	err := q.QueryRowContext(ctx, `SELECT `+remediationCols+` FROM remediation WHERE id = ?`, ref).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errNoRow
	}
	if err != nil {
		return "", fmt.Errorf("store: reading remediation record %d: %w", ref, err)
	}
	b, _ := json.Marshal(r)
	return string(b), nil
}

// tsOrEmpty is ts, with the zero time as "".
func tsOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return ts(t)
}

// insertRemediation writes one record as one evidence entry and, when
// logFile is set, appends the entry to that file.
func (s *Store) insertRemediation(ctx context.Context, r *remediationRow, logFile string) (int64, error) {
	e, err := s.appendEntry(ctx, "action", r.RecordedAt, func(tx *sql.Tx) (int64, string, error) {
		res, err := tx.ExecContext(ctx, `INSERT INTO remediation (record, action_id, batch, decision_id, finding_key, app, source, team, account_key,
			email, op, role, account, decided_by, confirmed_by, applied_by, planned_snapshot, started_at, ended_at, outcome, detail, captures,
			state, snapshot_id, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			r.Record, r.ActionID, r.Batch, r.DecisionID, r.FindingKey, r.App, r.Source, r.Team, r.AccountKey, r.Email, r.Op, r.Role, r.Account,
			r.DecidedBy, r.ConfirmedBy, r.AppliedBy, r.PlannedSnapshot, r.StartedAt, r.EndedAt, r.Outcome, r.Detail, r.Captures, r.State,
			r.SnapshotID, r.RecordedAt)
		if err != nil {
			return 0, "", fmt.Errorf("store: recording the %s: %w", r.Record, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return 0, "", err
		}
		body, err := actionBody(ctx, tx, id)
		return id, body, err
	})
	if err != nil {
		return 0, err
	}
	return e.Ref, s.logEntry(ctx, logFile, e)
}

// RecordAction records action a as one entry of the evidence chain (and of
// logFile, when set) and sets its ID. RecordedAt is set to now when zero.
func (s *Store) RecordAction(ctx context.Context, a *Action, logFile string) error {
	if a.RecordedAt.IsZero() {
		a.RecordedAt = time.Now()
	}
	caps := ""
	if len(a.Captures) > 0 {
		b, _ := json.Marshal(a.Captures)
		caps = string(b)
	}
	id, err := s.insertRemediation(ctx, &remediationRow{Record: "action", Batch: a.Batch, DecisionID: a.DecisionID, FindingKey: a.FindingKey,
		App: a.App, Source: a.Source, Team: a.Team, AccountKey: a.AccountKey, Email: a.Email, Op: a.Op, Role: a.Role, Account: a.Account,
		DecidedBy: a.DecidedBy, ConfirmedBy: a.ConfirmedBy, AppliedBy: a.AppliedBy, PlannedSnapshot: a.PlannedSnapshot,
		StartedAt: tsOrEmpty(a.StartedAt), EndedAt: tsOrEmpty(a.EndedAt), Outcome: a.Outcome, Detail: a.Detail, Captures: caps,
		RecordedAt: ts(a.RecordedAt)}, logFile)
	if err != nil {
		return err
	}
	a.ID = id
	return nil
}

// RecordProof records what snapshot p.SnapshotID showed of action
// p.ActionID, as one entry of the evidence chain. An action has at most
// one proof: a second is refused.
func (s *Store) RecordProof(ctx context.Context, p *Proof, logFile string) error {
	if p.State != ProofConfirmed && p.State != ProofUnconfirmed {
		return fmt.Errorf("store: a proof is %s or %s, not %q", ProofConfirmed, ProofUnconfirmed, p.State)
	}
	if p.RecordedAt.IsZero() {
		p.RecordedAt = time.Now()
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM remediation WHERE record = 'proof' AND action_id = ?`, p.ActionID).Scan(&n); err != nil {
		return fmt.Errorf("store: reading the proofs of action %d: %w", p.ActionID, err)
	}
	if n > 0 {
		return fmt.Errorf("store: action %d has a proof already", p.ActionID)
	}
	id, err := s.insertRemediation(ctx, &remediationRow{Record: "proof", ActionID: p.ActionID, State: p.State, SnapshotID: p.SnapshotID,
		Detail: p.Detail, RecordedAt: ts(p.RecordedAt)}, logFile)
	if err != nil {
		return err
	}
	p.ID = id
	return nil
}

// Remediations returns every action, oldest first, and every proof by the
// action it proves. A record that is not in the evidence chain (written
// into the store around idgraph) is not returned: it counts for nothing.
func (s *Store) Remediations(ctx context.Context) ([]Action, map[int64]Proof, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+prefixed("r.", remediationCols)+` FROM remediation r
		JOIN evidence e ON e.kind = 'action' AND e.ref = r.id ORDER BY r.id`)
	if err != nil {
		return nil, nil, fmt.Errorf("store: reading the remediation log: %w", err)
	}
	defer rows.Close()
	var acts []Action
	proofs := map[int64]Proof{}
	for rows.Next() {
		var r remediationRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, nil, err
		}
		if r.Record == "proof" {
			proofs[r.ActionID] = Proof{ID: r.ID, ActionID: r.ActionID, State: r.State, SnapshotID: r.SnapshotID, Detail: r.Detail,
				RecordedAt: parseTS(r.RecordedAt)}
			continue
		}
		a := Action{ID: r.ID, Batch: r.Batch, DecisionID: r.DecisionID, FindingKey: r.FindingKey, App: r.App, Source: r.Source, Team: r.Team,
			AccountKey: r.AccountKey, Email: r.Email, Op: r.Op, Role: r.Role, Account: r.Account, DecidedBy: r.DecidedBy,
			ConfirmedBy: r.ConfirmedBy, AppliedBy: r.AppliedBy, PlannedSnapshot: r.PlannedSnapshot, Outcome: r.Outcome, Detail: r.Detail,
			RecordedAt: parseTS(r.RecordedAt)}
		if r.StartedAt != "" {
			a.StartedAt = parseTS(r.StartedAt)
		}
		if r.EndedAt != "" {
			a.EndedAt = parseTS(r.EndedAt)
		}
		if r.Captures != "" {
			if err := json.Unmarshal([]byte(r.Captures), &a.Captures); err != nil {
				return nil, nil, fmt.Errorf("store: remediation record %d: corrupt captures: %w (%w)", r.ID, err, ErrChain)
			}
		}
		acts = append(acts, a)
	}
	return acts, proofs, rows.Err()
}

// prefixed qualifies every column of a column list with p.
func prefixed(p, cols string) string {
	out := make([]byte, 0, len(cols)*2)
	start := true
	for i := 0; i < len(cols); i++ {
		c := cols[i]
		if start && c != ' ' && c != '\t' && c != '\n' {
			out = append(out, p...)
			start = false
		}
		out = append(out, c)
		if c == ',' {
			start = true
		}
	}
	return string(out)
}
