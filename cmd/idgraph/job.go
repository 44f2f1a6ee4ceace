package main

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/pipeline"
	"github.com/idgraph/idgraph/report/alert"
)

// job decodes the configuration into one whole run: the sources, the
// policy, the alert sinks and the report folder. run, demo and serve all
// build their runs here, with the same source construction as doctor.
func (a *app) job(cfg *config.Config, getenv func(string) string, o pipeline.Options) (pipeline.Job, error) {
	// The heap's soft limit for a batch run (run.memory_limit), unless
	// GOMEMLIMIT already set one.
	if n, _ := cfg.Run.Bytes(); n > 0 && getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(n)
	}
	srcs, err := pipeline.Build(cfg, getenv, a.log)
	if err != nil {
		return pipeline.Job{}, err
	}
	pol, err := pipeline.PolicyOf(cfg, srcs)
	if err != nil {
		return pipeline.Job{}, err
	}
	sinks, err := alert.Sinks(cfg.Alerts, cfg.File, getenv)
	if err != nil {
		return pipeline.Job{}, err
	}
	o.Sources, o.Policy, o.Logger, o.Version = srcs, pol, a.log, version()
	job := pipeline.Job{StorePath: cfg.Path(cfg.Store), Run: o, Sinks: sinks, MinSeverity: cfg.Alerts.MinSeverity,
		EvidenceLog: reviewingOf(cfg).LogFile}
	if cfg.Report.Dir != "" {
		job.ReportDir = cfg.Path(cfg.Report.Dir)
	}
	return job, nil
}

// execute performs a job at the terminal: progress bars while it reads,
// the run summary and what followed once the snapshot is stored. A
// snapshot stored whose reports failed returns the result and a
// *reportsError, which is not a failed run.
func (a *app) execute(ctx context.Context, job pipeline.Job) (*pipeline.Result, error) {
	bars := a.newBars()
	job.Run.Progress = bars.callback()
	res, err := pipeline.Execute(ctx, job)
	bars.done()
	if err != nil {
		return nil, err
	}
	a.printRunSummary(res.Outcome)
	if rm := res.Remediation; rm != nil && len(rm.Confirmed)+len(rm.Unconfirmed)+rm.Waiting > 0 {
		fmt.Fprintf(a.stdout, "remediation: %d confirmed, %d unconfirmed, %d pending\n", len(rm.Confirmed), len(rm.Unconfirmed), rm.Waiting)
	}
	if len(job.Sinks) > 0 && res.AlertsErr == nil {
		fmt.Fprintf(a.stdout, "alerts: %d queued, %d delivered, %d pending\n", res.Alerts.Queued, res.Alerts.Delivered, res.Alerts.Pending)
	}
	for _, f := range res.Files {
		fmt.Fprintln(a.stdout, "wrote", f)
	}
	if res.ReportsErr != nil {
		return res, &reportsError{snapshot: res.Snapshot.ID, dir: job.ReportDir, err: res.ReportsErr}
	}
	return res, nil
}
