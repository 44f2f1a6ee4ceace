package remediation

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/report/alert"
	"github.com/idgraph/idgraph/store"
)

// Proved is an action and the proof a read gave of it.
type Proved struct {
	Action store.Action `json:"action"`
	Proof  store.Proof  `json:"proof"`
}

// ConfirmResult is what one snapshot proved.
type ConfirmResult struct {
	Snapshot    int64    `json:"snapshot"`
	Confirmed   []Proved `json:"confirmed"`
	Unconfirmed []Proved `json:"unconfirmed"`
	// Waiting counts the pending actions this snapshot could not prove:
	// their application's read was incomplete, missing, or began before
	// the action ended.
	Waiting int `json:"waiting"`
}

// ConfirmOptions configures Confirm.
type ConfirmOptions struct {
	LogFile string // the evidence log file; "" for none
	Now     func() time.Time
	// Sinks, when set, receive an alert about the unconfirmed actions:
	// it is queued in the store's outbox under the snapshot, so that the
	// run's alert delivery (alert.Process, called after Confirm) sends it
	// and retries it like every alert.
	Sinks []alert.Sink
}

// Confirm checks every pending action (carried out, not yet proven)
// against snapshot snapshotID, once the run has stored it, and records a
// proof of each action whose application that snapshot read completely,
// after the action ended: confirmed when the read shows the change (the
// account gone from its team, at the new role, the invitation gone),
// unconfirmed when it still shows the account as before. An incomplete
// read proves nothing: the action stays pending.
func Confirm(ctx context.Context, st *store.Store, snapshotID int64) (*ConfirmResult, error) {
	return ConfirmWith(ctx, st, snapshotID, ConfirmOptions{})
}

// ConfirmWith is Confirm with options.
func ConfirmWith(ctx context.Context, st *store.Store, snapshotID int64, o ConfirmOptions) (*ConfirmResult, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	sum, err := st.Get(ctx, snapshotID)
	if err != nil {
		return nil, err
	}
	res := &ConfirmResult{Snapshot: sum.ID, Confirmed: []Proved{}, Unconfirmed: []Proved{}}
	acts, proofs, err := st.Remediations(ctx)
	if err != nil {
		return nil, err
	}
	complete := map[string]bool{}
	for _, s := range sum.Sources {
		complete[s.Info.Name] = s.Completeness.Complete
	}
	read := map[string][]collectors.Account{} // by source, loaded once
	for _, a := range acts {
		if _, proved := proofs[a.ID]; proved || !done(a.Outcome) {
			continue
		}
		// A read that began before the action ended may have read the
		// account before the change: it proves nothing either way.
		if !complete[a.Source] || sum.ID <= a.PlannedSnapshot || sum.StartedAt.Before(a.EndedAt) {
			res.Waiting++
			continue
		}
		accs, ok := read[a.Source]
		if !ok {
			las, err := st.Accounts(ctx, sum.ID, a.Source)
			if err != nil {
				return nil, err
			}
			for _, la := range las {
				accs = append(accs, la.Account)
			}
			read[a.Source] = accs
		}
		state, detail := prove(a, accs, sum.ID)
		p := store.Proof{ActionID: a.ID, State: state, SnapshotID: sum.ID, Detail: detail, RecordedAt: now()}
		if err := st.RecordProof(ctx, &p, o.LogFile); err != nil {
			return nil, err
		}
		if state == store.ProofConfirmed {
			res.Confirmed = append(res.Confirmed, Proved{a, p})
		} else {
			res.Unconfirmed = append(res.Unconfirmed, Proved{a, p})
		}
	}
	if len(res.Unconfirmed) > 0 {
		if err := QueueAlert(ctx, st, sum.ID, o.Sinks, AlertOf(res, nil)); err != nil {
			return res, err
		}
	}
	return res, nil
}

// prove says what a complete read (the accounts of the action's source)
// shows of action a.
func prove(a store.Action, accs []collectors.Account, snap int64) (string, string) {
	var was collectors.Account
	json.Unmarshal([]byte(a.Account), &was)
	// The account as the action found it, or another account of the same
	// address in the same team: the application may have given the
	// re-invited person a new id, which is not a removal.
	var same []collectors.Account
	for _, acc := range accs {
		if acc.Team != a.Team {
			continue
		}
		if acc.Key() == a.AccountKey || (a.Email != "" && strings.EqualFold(strings.TrimSpace(acc.Email), strings.TrimSpace(a.Email))) {
			same = append(same, acc)
		}
	}
	team := was.TeamName
	if team == "" {
		team = a.Team
	}
	where := ""
	if team != "" {
		where = " in team " + team
	}
	switch collectors.Op(a.Op) {
	case collectors.OpRemove:
		// Gone, or still listed but inactive: a SCIM application deactivates
		// (active=false) rather than deletes, and an inactive account
		// grants nothing.
		for _, acc := range same {
			if acc.Status == collectors.StatusActive || acc.Status == collectors.StatusStaged {
				return store.ProofUnconfirmed, fmt.Sprintf("snapshot %d still shows %s%s (role %s, %s)", snap, acc.Email, where, orDash(acc.Role), acc.Status)
			}
		}
		for _, acc := range same {
			if acc.Status == collectors.StatusInactive {
				return store.ProofConfirmed, fmt.Sprintf("snapshot %d shows %s%s deactivated (%s)", snap, a.Email, where, orDash(acc.RawStatus))
			}
		}
		return store.ProofConfirmed, fmt.Sprintf("snapshot %d shows no member %s%s", snap, a.Email, where)
	case collectors.OpRevokeInvitation:
		for _, acc := range same {
			if acc.Status == collectors.StatusInvited {
				return store.ProofUnconfirmed, fmt.Sprintf("snapshot %d still shows the invitation of %s%s", snap, acc.Email, where)
			}
		}
		return store.ProofConfirmed, fmt.Sprintf("snapshot %d shows no invitation of %s%s", snap, a.Email, where)
	case collectors.OpSetRole:
		if len(same) == 0 {
			return store.ProofUnconfirmed, fmt.Sprintf("snapshot %d shows no %s%s at all: the role change cannot be confirmed (the account went another way)", snap, a.Email, where)
		}
		for _, acc := range same {
			if !strings.EqualFold(strings.TrimSpace(acc.Role), strings.TrimSpace(a.Role)) {
				return store.ProofUnconfirmed, fmt.Sprintf("snapshot %d shows %s%s as %s, not %s", snap, acc.Email, where, orDash(acc.Role), a.Role)
			}
		}
		return store.ProofConfirmed, fmt.Sprintf("snapshot %d shows %s%s as %s", snap, a.Email, where, a.Role)
	}
	return store.ProofUnconfirmed, fmt.Sprintf("action %d has an operation idgraph cannot check (%q)", a.ID, a.Op)
}

// States of a recorded action.
const (
	StatePending     = "pending"     // carried out; waiting for the next complete read
	StateConfirmed   = "confirmed"   // a complete read showed it carried out
	StateUnconfirmed = "unconfirmed" // a complete read showed it not carried out
)

// ActionState is a recorded action with its state.
type ActionState struct {
	store.Action
	// State is pending, confirmed or unconfirmed for an action carried
	// out; otherwise its outcome (refused, failed, skipped).
	State     string       `json:"state"`
	Proof     *store.Proof `json:"proof,omitempty"`
	DecidedAt time.Time    `json:"decided_at,omitzero"`
	// ProvedAt is when the proving read finished; Took is the time from
	// decision to confirmed change.
	ProvedAt time.Time     `json:"proved_at,omitzero"`
	Took     time.Duration `json:"took_ns,omitempty"`
}

// AppTimes is the time from decision to confirmed change in one
// application.
type AppTimes struct {
	App       string        `json:"app"`
	Confirmed int           `json:"confirmed"`
	Median    time.Duration `json:"median_ns"`
	P95       time.Duration `json:"p95_ns"`
}

// Status is the remediation log with every action's state.
type Status struct {
	Actions []ActionState `json:"actions"`
	Times   []AppTimes    `json:"times"`
}

// Counts returns how many actions are in each state.
func (s *Status) Counts() map[string]int {
	out := map[string]int{}
	for _, a := range s.Actions {
		out[a.State]++
	}
	return out
}

// StatusOf returns every recorded action of app ("" for all), oldest
// first, with its state, and the time from decision to confirmed change
// (median and 95th percentile) per application.
func StatusOf(ctx context.Context, st *store.Store, app string) (*Status, error) {
	acts, proofs, err := st.Remediations(ctx)
	if err != nil {
		return nil, err
	}
	_, all, err := st.Decisions(ctx, true)
	if err != nil {
		return nil, err
	}
	decided := map[int64]time.Time{}
	for _, d := range all {
		decided[d.ID] = d.DecidedAt
	}
	finished := map[int64]time.Time{}
	out := &Status{Actions: []ActionState{}, Times: []AppTimes{}}
	took := map[string][]time.Duration{}
	for _, a := range acts {
		if app != "" && a.App != app {
			continue
		}
		s := ActionState{Action: a, State: a.Outcome, DecidedAt: decided[a.DecisionID]}
		if done(a.Outcome) {
			s.State = StatePending
		}
		if p, ok := proofs[a.ID]; ok {
			s.Proof, s.State = &p, p.State
			if _, ok := finished[p.SnapshotID]; !ok {
				sum, err := st.Get(ctx, p.SnapshotID)
				if err != nil {
					return nil, err
				}
				finished[p.SnapshotID] = sum.FinishedAt
			}
			s.ProvedAt = finished[p.SnapshotID]
			if p.State == store.ProofConfirmed && !s.DecidedAt.IsZero() {
				s.Took = s.ProvedAt.Sub(s.DecidedAt)
				took[a.App] = append(took[a.App], s.Took)
			}
		}
		out.Actions = append(out.Actions, s)
	}
	for _, a := range sortedKeys(took) {
		d := took[a]
		slices.Sort(d)
		out.Times = append(out.Times, AppTimes{App: a, Confirmed: len(d), Median: percentile(d, 0.5), P95: percentile(d, 0.95)})
	}
	return out, nil
}

// percentile is the nearest-rank percentile of sorted durations: the
// smallest value that at least q of them do not exceed.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
