package remediation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/store"
)

// Errors of Apply, for callers that map them to exit codes and HTTP
// statuses. Each is wrapped with what to do.
var (
	// ErrDisabled: remediation.enabled is false (the kill switch).
	ErrDisabled = errors.New("remediation is disabled")
	// ErrRefused: a check refused the batch before anything ran.
	ErrRefused = errors.New("the batch was refused before it started")
	// ErrStopped: a batch ran and stopped, or an action failed.
	ErrStopped = errors.New("the batch stopped")
)

// Request asks for the plan to be applied.
type Request struct {
	App string // "" for every application
	// Max lowers the configured cap of actions for this batch (0: the
	// configured cap); it can never raise it.
	Max int
	// Yes carries the plan out; without it, Apply is a dry run.
	Yes bool
	// Applier is the reviewer who approves and applies the plan; it must
	// be another person than each action's decider.
	Applier string
	// Digests, when set, are the plans (AppPlan.Digest by application)
	// that the applier was shown: a plan that changed since is refused.
	Digests map[string]string
}

// Run is one planned item and what became of it.
type Run struct {
	Item Item `json:"item"`
	// Outcome is the action's (done, already_done, refused, failed,
	// skipped), or "would run" in a dry run.
	Outcome string        `json:"outcome"`
	Detail  string        `json:"detail,omitempty"`
	Record  *store.Action `json:"record,omitempty"` // the evidence record, once recorded
}

// Batch is what was (or would be) carried out in one application.
type Batch struct {
	App     string `json:"app"`
	Runs    []Run  `json:"runs"`
	Stopped string `json:"stopped,omitempty"` // why the source stopped the batch
}

// Result is what Apply did, or would do.
type Result struct {
	Plan    *Plan    `json:"plan"`
	DryRun  bool     `json:"dry_run"`
	Refused []string `json:"refused,omitempty"` // why the batch does (or would) not start
	Batches []Batch  `json:"batches"`
}

// Counts returns how many runs ended in each outcome.
func (r *Result) Counts() map[string]int {
	out := map[string]int{}
	for _, b := range r.Batches {
		for _, run := range b.Runs {
			out[run.Outcome]++
		}
	}
	return out
}

// Apply carries out the plan of req.App (a dry run unless req.Yes). Every
// check runs before anything changes: with req.Yes a refusal is
// ErrDisabled or ErrRefused and nothing ran; a dry run returns the same
// refusals in Result.Refused without an error. A batch that a source
// stopped, or an action that failed, is ErrStopped; every action handed
// to a source is recorded, whatever its outcome.
func (e *Engine) Apply(ctx context.Context, req Request) (*Result, error) {
	if req.Yes {
		e.applying.Lock()
		defer e.applying.Unlock()
	}
	p, err := e.Plan(ctx, req.App)
	if err != nil {
		return nil, err
	}
	res := &Result{Plan: p, DryRun: !req.Yes, Batches: []Batch{}}
	applier := strings.ToLower(strings.TrimSpace(req.Applier))
	refuse := func(format string, args ...any) { res.Refused = append(res.Refused, fmt.Sprintf(format, args...)) }
	disabled := false
	if !e.Limits.Enabled {
		disabled = true
		where := ""
		if e.ConfigFile != "" {
			where = " in " + e.ConfigFile
		}
		refuse("remediation.enabled is false%s (the default), so idgraph changes nothing in any application: set `remediation: {enabled: true}` there to allow approved changes", where)
	}
	if req.Yes && (applier == "" || applier == "token") {
		refuse("applying needs a named reviewer (an email address) who approves the plan and is not its decider")
	}
	limit := e.Limits.MaxActions
	switch {
	case req.Max < 0:
		refuse("--max must be a positive number, not %d", req.Max)
	case req.Max > limit:
		refuse("--max %d is above remediation.max_actions (%d): --max can only lower the cap", req.Max, limit)
	case req.Max > 0:
		limit = req.Max
	}
	total := 0
	for i := range p.Apps {
		ap := &p.Apps[i]
		b := Batch{App: ap.App, Runs: []Run{}}
		n := 0
		for _, it := range ap.Items {
			switch {
			case it.Manual != "":
				b.Runs = append(b.Runs, Run{Item: it, Outcome: "manual", Detail: it.Manual})
			case applier != "" && strings.EqualFold(it.DecidedBy, applier):
				b.Runs = append(b.Runs, Run{Item: it, Outcome: string(collectors.OutcomeRefused),
					Detail: fmt.Sprintf("%s decided it: applying needs a reviewer other than the decider", it.DecidedBy)})
			default:
				b.Runs = append(b.Runs, Run{Item: it, Outcome: "would run"})
				n++
			}
		}
		total += n
		if n > 0 {
			if ap.Read.Problem != "" {
				refuse("%s", ap.Read.Problem)
			}
			if share := float64(n) / float64(max(ap.Accounts, 1)); share > e.Limits.MaxShare {
				refuse("%s: %d actions are %.1f%% of its %d accounts, above remediation.max_share (%.1f%%): nothing was run; check the plan, then raise remediation.max_share or apply fewer decisions",
					ap.App, n, 100*share, ap.Accounts, 100*e.Limits.MaxShare)
			}
			if want, ok := req.Digests[ap.App]; ok && want != ap.Digest {
				refuse("the plan of %s changed since it was shown (a decision or a read came in between): review it again before applying", ap.App)
			}
		}
		res.Batches = append(res.Batches, b)
	}
	if total > limit {
		refuse("the batch has %d actions, more than the cap of %d (remediation.max_actions or --max): nothing was run; apply one application at a time (--app) or fewer decisions",
			total, limit)
	}
	if !req.Yes {
		return res, nil
	}
	if len(res.Refused) > 0 {
		if disabled {
			return res, fmt.Errorf("%w: %s", ErrDisabled, res.Refused[0])
		}
		return res, fmt.Errorf("%w: %s", ErrRefused, strings.Join(res.Refused, "; "))
	}
	if total == 0 {
		for _, b := range res.Batches {
			for _, run := range b.Runs {
				if run.Outcome == string(collectors.OutcomeRefused) {
					return res, fmt.Errorf("%w: %s decided every action of the plan that idgraph can carry out: another reviewer must apply them", ErrRefused, applier)
				}
			}
		}
		return res, nil
	}
	batch := "b" + e.now().Format("20060102T150405.000Z")
	var stopped []string
	for i := range res.Batches {
		b := &res.Batches[i]
		if len(stopped) > 0 {
			for j := range b.Runs {
				if b.Runs[j].Outcome == "would run" {
					b.Runs[j].Outcome, b.Runs[j].Detail = "not started", "an earlier batch stopped: nothing was handed to "+b.App
				}
			}
			continue
		}
		if err := e.run(ctx, batch, applier, p.Snapshot, b); err != nil {
			return res, err
		}
		if b.Stopped != "" {
			stopped = append(stopped, b.App+": "+b.Stopped)
		}
		for _, run := range b.Runs {
			if run.Outcome == string(collectors.OutcomeFailed) && b.Stopped == "" {
				stopped = append(stopped, fmt.Sprintf("%s: %s failed: %s", b.App, run.Item.Change(), run.Detail))
			}
		}
	}
	if len(stopped) > 0 {
		return res, fmt.Errorf("%w: %s", ErrStopped, strings.Join(stopped, "; "))
	}
	return res, nil
}

// run hands one application's runs to its source and records each result.
func (e *Engine) run(ctx context.Context, batch, applier string, planned int64, b *Batch) error {
	actor := e.Actors[b.App]
	var acts []collectors.Action
	var idx []int
	for j, run := range b.Runs {
		if run.Outcome != "would run" {
			continue
		}
		acts = append(acts, collectors.Action{ID: run.Item.ID, Op: run.Item.Op, Account: run.Item.Account, Role: run.Item.Role})
		idx = append(idx, j)
	}
	started := e.now()
	results, actErr := actor.Act(ctx, acts)
	if actErr != nil {
		b.Stopped = actErr.Error()
	}
	byID := map[string]collectors.ActionResult{}
	for _, r := range results {
		byID[r.ID] = r
	}
	for _, j := range idx {
		run := &b.Runs[j]
		r, ok := byID[run.Item.ID]
		if !ok {
			r = collectors.ActionResult{ID: run.Item.ID, Outcome: collectors.OutcomeFailed, Started: started, Ended: e.now(),
				Detail: "the source returned no result for this action: its state in the application is unknown; check it by hand"}
			if actErr != nil {
				r.Outcome, r.Detail = collectors.OutcomeSkipped, "not attempted: the batch stopped ("+actErr.Error()+")"
			}
		}
		rec, err := e.record(ctx, batch, applier, planned, run.Item, r)
		if err != nil {
			return fmt.Errorf("remediation: %s was carried out with outcome %s but could not be recorded: %w; the evidence chain lacks it, record it by hand",
				run.Item.Change(), r.Outcome, err)
		}
		run.Outcome, run.Detail, run.Record = string(r.Outcome), r.Detail, rec
	}
	return nil
}

// record writes an action's captures and its evidence record.
func (e *Engine) record(ctx context.Context, batch, applier string, planned int64, it Item, r collectors.ActionResult) (*store.Action, error) {
	acc, _ := json.Marshal(it.Account)
	rec := &store.Action{Batch: batch, DecisionID: it.DecisionID, FindingKey: it.FindingKey, App: it.App, Source: it.Source, Team: it.Team,
		AccountKey: it.Account.Key(), Email: it.Email, Op: string(it.Op), Role: it.Role, Account: string(acc), DecidedBy: it.DecidedBy,
		ConfirmedBy: it.ConfirmedBy, AppliedBy: applier, PlannedSnapshot: planned, StartedAt: r.Started, EndedAt: r.Ended,
		Outcome: string(r.Outcome), Detail: r.Detail}
	if rec.EndedAt.IsZero() {
		rec.EndedAt = e.now()
	}
	for _, c := range []struct {
		name string
		data []byte
	}{{"before", r.Before}, {"after", r.After}} {
		if len(c.data) == 0 {
			continue
		}
		capture, err := e.writeCapture(batch, it, c.name, r.CaptureType, c.data)
		if err != nil {
			// The action happened: its record must exist even when its
			// capture could not be kept, and say so.
			rec.Detail = strings.TrimSpace(rec.Detail + "; the " + c.name + " capture could not be written: " + err.Error())
			continue
		}
		rec.Captures = append(rec.Captures, capture)
	}
	if err := e.Store.RecordAction(ctx, rec, e.LogFile); err != nil {
		return nil, err
	}
	return rec, nil
}

func (e *Engine) writeCapture(batch string, it Item, name, typ string, data []byte) (store.Capture, error) {
	dir := e.CaptureDir
	if dir == "" {
		return store.Capture{}, errors.New("no capture folder is configured")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return store.Capture{}, err
	}
	ext := ".bin"
	switch {
	case typ == "image/png":
		ext = ".png"
	case strings.Contains(typ, "json"):
		ext = ".json"
	case strings.HasPrefix(typ, "text/html"):
		ext = ".html"
	}
	file := filepath.Join(dir, fmt.Sprintf("%s-%s-%s-%s%s", batch, safeName(it.App), it.ID, name, ext))
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return store.Capture{}, err
	}
	_, err = f.Write(data)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return store.Capture{}, err
	}
	sum := sha256.Sum256(data)
	return store.Capture{Name: name, File: file, SHA256: hex.EncodeToString(sum[:]), Type: typ}, nil
}

// safeName keeps letters, digits, '-' and '_' of s, for a file name.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "app"
	}
	return b.String()
}
