package remediation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/report/alert"
	"github.com/idgraph/idgraph/store"
)

// Changes of alert items about remediation (alert.Item.Change).
const (
	ChangeUnconfirmed = "remediation unconfirmed" // a read after the action still shows the account as before
	ChangeFailed      = "remediation failed"      // the application refused the action, or its state is unknown
)

// AlertOf returns the alert about actions that a read did not confirm
// and actions that failed, or nil when there are none. Each is an item
// about the finding the action was to resolve, with what happened in its
// explanation.
func AlertOf(cr *ConfirmResult, failed []store.Action) *alert.Alert {
	a := &alert.Alert{Version: 1, Findings: []alert.Item{}, RoleChange: []diff.Change{}, Incomplete: []alert.SourceProblem{}, Unknown: []alert.Item{}}
	item := func(change string, act store.Action, why string) alert.Item {
		var acc collectors.Account
		json.Unmarshal([]byte(act.Account), &acc)
		return alert.Item{Change: change, Finding: diff.Finding{Key: act.FindingKey, Kind: "remediation", Reason: act.Op, Severity: diff.SevHigh,
			App: act.App, Team: act.Team, TeamName: acc.TeamName, Email: act.Email, Account: act.AccountKey, ActualRole: acc.Role,
			Explanation: why}}
	}
	if cr != nil {
		a.Snapshot = cr.Snapshot
		for _, u := range cr.Unconfirmed {
			a.Findings = append(a.Findings, item(ChangeUnconfirmed, u.Action, fmt.Sprintf("action %d (%s, decision %d, applied by %s on %s) is not confirmed: %s",
				u.Action.ID, u.Action.Op, u.Action.DecisionID, u.Action.AppliedBy, stamp(u.Action.EndedAt), u.Proof.Detail)))
		}
	}
	for _, f := range failed {
		why := fmt.Sprintf("action %d (%s, decision %d, applied by %s on %s) %s: %s", f.ID, f.Op, f.DecisionID, f.AppliedBy, stamp(f.EndedAt), f.Outcome, f.Detail)
		for _, c := range f.Captures {
			why += fmt.Sprintf("; capture %s (sha256 %s)", c.File, c.SHA256)
		}
		a.Findings = append(a.Findings, item(ChangeFailed, f, why))
	}
	if len(a.Findings) == 0 {
		return nil
	}
	a.FinishedAt = time.Now().UTC()
	for _, it := range a.Findings {
		if it.App != "" && (len(a.Apps) == 0 || a.Apps[len(a.Apps)-1] != it.App) {
			a.Apps = append(a.Apps, it.App)
		}
	}
	return a
}

// QueueAlert puts alert a in the store's outbox for every sink, under
// snapshot snapshotID, so that the run's alert delivery (alert.Process)
// sends it, and retries it like any other alert. A nil alert queues
// nothing.
func QueueAlert(ctx context.Context, st *store.Store, snapshotID int64, sinks []alert.Sink, a *alert.Alert) error {
	if a == nil || len(sinks) == 0 {
		return nil
	}
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	out := make([]store.Outbound, 0, len(sinks))
	for _, s := range sinks {
		out = append(out, store.Outbound{Sink: s.Name(), Payload: string(body)})
	}
	if err := st.Enqueue(ctx, snapshotID, out, nil, nil); err != nil {
		return fmt.Errorf("remediation: queueing the alert about %d actions: %w", len(a.Findings), err)
	}
	return nil
}

// SendAlert delivers alert a to every sink at once (apply reports its
// failures when they happen, not at the next run). Every sink is tried;
// the errors are joined.
func SendAlert(ctx context.Context, sinks []alert.Sink, a *alert.Alert) error {
	if a == nil {
		return nil
	}
	var errs []error
	for _, s := range sinks {
		if err := s.Send(ctx, a, 0); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// Failed returns the records of a result's actions that failed, or were
// skipped because the batch stopped.
func (r *Result) Failed() []store.Action {
	var out []store.Action
	for _, b := range r.Batches {
		for _, run := range b.Runs {
			if run.Record != nil && (run.Outcome == string(collectors.OutcomeFailed) || (b.Stopped != "" && run.Outcome == string(collectors.OutcomeSkipped))) {
				out = append(out, *run.Record)
			}
		}
	}
	return out
}
