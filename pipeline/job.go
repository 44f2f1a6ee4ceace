package pipeline

// The whole run, as `idgraph run`, the demo and the service's schedule
// perform it: lock the store, run, then anchor the evidence log, send the
// alerts and write the reports. Callers only present the result.

import (
	"context"
	"fmt"
	"time"

	"github.com/idgraph/idgraph/remediation"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/report/alert"
	"github.com/idgraph/idgraph/store"
)

// Job is one whole run.
type Job struct {
	// StorePath is the SQLite file; the job holds its lock for the run.
	StorePath string
	// Run is the run itself; its Store is opened by Execute.
	Run Options
	// Sinks receive the alerts of what appeared or changed, from
	// MinSeverity up ("" : medium).
	Sinks       []alert.Sink
	MinSeverity string
	// ReportDir receives report.html, report.md and the exports; "" for
	// none.
	ReportDir string
	// EvidenceLog is the append-only file that learns of every snapshot
	// (config evidence.log_file); "" for none.
	EvidenceLog string
}

// Result is what a job did. Once Outcome is set the snapshot is stored: a
// failure after that is recorded here, never returned as a failed run, so
// that no caller runs again and stores the same state twice.
type Result struct {
	*Outcome
	Alerts    alert.Result
	AlertsErr error // alerts could not be processed; the next run retries them
	// LogErr: the evidence log could not be written; verify --log names
	// the gap.
	LogErr error
	// Remediation is what this snapshot proved of the actions carried out
	// before it; RemediationErr why it could not be checked (the next run
	// checks again).
	Remediation    *remediation.ConfirmResult
	RemediationErr error
	// Files are the reports written; ReportsErr says why they are not.
	Files      []string
	ReportsErr error
}

// Execute performs the job. The error is non-nil only when no snapshot was
// stored.
func Execute(ctx context.Context, job Job) (*Result, error) {
	unlock, err := store.Lock(job.StorePath)
	if err != nil {
		return nil, err
	}
	defer unlock()
	st, err := store.Open(ctx, job.StorePath)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	o := job.Run
	o.Store = st
	out, err := Run(ctx, o)
	if err != nil {
		return nil, err
	}
	res := &Result{Outcome: out}
	log := o.Logger
	if job.EvidenceLog != "" {
		// The evidence log outside the store learns of every snapshot, so
		// that one deleted later is found even when no decision followed.
		if res.LogErr = st.AnchorSnapshot(ctx, job.EvidenceLog); res.LogErr != nil && log != nil {
			log.Error("the evidence log could not be written; verify --log will name the gap", "file", job.EvidenceLog, "error", res.LogErr)
		}
	}
	// Actions carried out in the applications are proven by this read, or
	// reported unconfirmed; an alert about them is queued for the delivery
	// below.
	res.Remediation, res.RemediationErr = remediation.ConfirmWith(ctx, st, out.Snapshot.ID,
		remediation.ConfirmOptions{LogFile: job.EvidenceLog, Sinks: job.Sinks})
	if res.RemediationErr != nil && log != nil {
		log.Error("remediation actions could not be checked against the snapshot; the next run will check again", "error", res.RemediationErr)
	}
	if len(job.Sinks) > 0 {
		// A delivery problem is retried next run; it does not fail a run
		// whose snapshot is safely stored.
		res.Alerts, res.AlertsErr = alert.Process(ctx, st, out.Snapshot.ID, out.Drift, job.Sinks, job.MinSeverity, o.Logger)
		if res.AlertsErr != nil && log != nil {
			log.Error("alerts could not be processed; the next run will try again", "error", res.AlertsErr)
		}
	}
	if job.ReportDir != "" {
		res.Files, res.ReportsErr = writeReports(ctx, st, out.Snapshot.ID, job.ReportDir, o.Version)
	}
	return res, nil
}

// writeReports writes the configured reports of a snapshot, its review as
// of the snapshot's own time.
func writeReports(ctx context.Context, st *store.Store, id int64, dir, version string) ([]string, error) {
	d, err := report.Load(ctx, st, id, version)
	if err != nil {
		return nil, fmt.Errorf("loading snapshot %d: %w", id, err)
	}
	rv, err := report.LoadReview(ctx, st, d, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("loading the review of snapshot %d: %w", id, err)
	}
	return report.Render(d, dir, report.CSVOptions{Review: rv})
}
