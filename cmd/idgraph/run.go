package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/pipeline"
	"github.com/idgraph/idgraph/report"
)

func (a *app) runCmd() *cobra.Command {
	var full bool
	var accept []string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Collect from every source, correlate, find, and store a snapshot",
		Long: `run performs one full run: it reads every configured source concurrently,
correlates the accounts into people, evaluates the findings, writes an immutable
snapshot to the store, writes the configured reports and prints a summary.

Exit codes: 0 success; 1 the run failed and no snapshot was written; 2 bad
configuration; 3 the snapshot was written but at least one source was incomplete
(its findings are recorded as unknown) or the reports could not be written. After
exit 3 do not simply run again: the snapshot is stored, and the message says what
to do.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			job, err := a.job(cfg, a.getenv, pipeline.Options{Full: full, AcceptDrop: accept})
			if err != nil {
				return err
			}
			out, err := a.execute(ctx, job)
			var rerr *reportsError
			if err != nil && !errors.As(err, &rerr) {
				return err
			}
			var problems []string
			if n := len(out.Incomplete); n > 0 {
				were := "sources were"
				if n == 1 {
					were = "source was"
				}
				problems = append(problems, fmt.Sprintf("%d %s incomplete; their findings are recorded as unknown:\n  %s",
					n, were, strings.Join(out.Incomplete, "\n  ")))
			}
			if rerr != nil {
				problems = append(problems, rerr.problem())
			}
			if len(problems) > 0 {
				return &exitError{exitIncomplete, fmt.Errorf("snapshot %d stored, but %s", out.Snapshot.ID, strings.Join(problems, "\nand "))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&full, "full", false, "read every source in full, ignoring delta state")
	cmd.Flags().StringSliceVar(&accept, "accept-drop", nil, "accept a large drop in a source's account count (source names)")
	return cmd
}

// reportsError is a run whose snapshot is stored but whose reports could
// not be written. It is not a failed run: running again would store a
// second snapshot of the same state, so the message says how to write the
// reports of this one, and the exit code is 3, not 1.
type reportsError struct {
	snapshot int64
	dir      string
	err      error
}

func (e *reportsError) Error() string {
	return fmt.Sprintf("snapshot %d stored, but %s", e.snapshot, e.problem())
}

func (e *reportsError) problem() string {
	return fmt.Sprintf("the reports could not be written to %s: %v\n  (do not run again: fix the folder, then write them with "+
		"`idgraph report --snapshot %d --out FILE` and `idgraph export --snapshot %d --out FILE`)", e.dir, e.err, e.snapshot, e.snapshot)
}

func (e *reportsError) Unwrap() error { return e.err }

func (a *app) printRunSummary(out *pipeline.Outcome) {
	s := out.Snapshot
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	// IdP and app accounts are different things: counted apart, never added.
	var idp, app int
	for _, src := range s.Sources {
		if src.Info.Kind == collectors.KindIdP {
			idp += src.Completeness.Records
		} else {
			app += src.Completeness.Records
		}
	}
	fmt.Fprintf(w, "snapshot %d  %s  IdP accounts %d  app accounts %d  people %d  findings %d\n", s.ID, s.FinishedAt.Format(time.RFC3339),
		idp, app, len(s.Graph.People), len(s.Findings))
	fmt.Fprintln(w, "SOURCE\tKIND\tCOMPLETE\tRECORDS\tPAGES\tRETRIES\tDURATION")
	for _, src := range s.Sources {
		c := src.Completeness
		fmt.Fprintf(w, "%s\t%s\t%v\t%d\t%d\t%d\t%s\n", src.Info.Name, src.Info.Kind, c.Complete, c.Records, c.Pages, c.Retries, c.Duration.Round(time.Millisecond))
	}
	w.Flush()
	fmt.Fprintln(a.stdout, "findings: "+findingCounts(s.Findings, !s.Complete()))
	if out.Drift != nil {
		d := out.Drift
		fmt.Fprintf(a.stdout, "since snapshot %d: %s, %s, %s, %s, %s, %s, %s\n", d.From,
			fmt.Sprintf("%d appeared", len(d.Appeared)), fmt.Sprintf("%d resolved", len(d.Resolved)), fmt.Sprintf("%d escalated", len(d.Escalated)),
			report.Plural(len(d.AccountsCreated), "account created", "accounts created"), fmt.Sprintf("%d removed", len(d.AccountsRemoved)),
			report.Plural(len(d.RoleChanges), "role change", "role changes"), report.Plural(len(d.StatusChanges), "status change", "status changes"))
	}
}

// findingKinds is the order in which summaries count kinds.
var findingKinds = []string{diff.KindOrphaned, diff.KindUnassigned, diff.KindMissing, diff.KindRoleMismatch, diff.KindIdPConflict,
	diff.KindDuplicate, diff.KindOpenAccess, diff.KindConflict}

// findingCounts is "orphaned 4, missing 2 and conflict 1" for the facts
// of fs, with the unknown ones counted apart. With an incomplete source it
// never says "none" alone: what could not be checked is not absent.
func findingCounts(fs []diff.Finding, incomplete bool) string {
	counts := map[string]int{}
	unknown := 0
	for _, f := range fs {
		if f.State == diff.StateUnknown {
			unknown++
			continue
		}
		counts[f.Kind]++
	}
	var parts []string
	for _, k := range findingKinds {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
			delete(counts, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(counts)) { // kinds this list does not know yet
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	s := report.List(parts)
	switch {
	case s == "" && incomplete:
		s = "none among what could be checked"
	case s == "":
		s = "none"
	}
	switch {
	case unknown > 0:
		s += fmt.Sprintf(" (and %d unknown: a source they depend on was incomplete)", unknown)
	case incomplete:
		s += " (a source was incomplete: what depends on it could not be checked)"
	}
	return s
}
