package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/pipeline"
	"github.com/idgraph/idgraph/remediation"
	"github.com/idgraph/idgraph/report/alert"
	"github.com/idgraph/idgraph/serve"
	"github.com/idgraph/idgraph/store"
)

// newRemediateCmd is `idgraph remediate plan|apply|status|confirm`.
func newRemediateCmd(a *app) *cobra.Command {
	return newRemediateCmdWith(a, a.actors)
}

// actorsFunc finds the sources that can act, by application, and says
// why the others cannot.
type actorsFunc func(cfg *config.Config) (map[string]collectors.Actor, map[string]string, error)

// newRemediateCmdWith is newRemediateCmd with the sources that act given
// (tests hand in an in-process Actor).
func newRemediateCmdWith(a *app, actors actorsFunc) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "remediate plan|apply|status|confirm",
		Short: "Carry out approved revocations and role changes in the applications, and prove them",
		Long: `remediate turns the review decisions in force (revoke, modify) into changes in the
applications: remove a member from a team, change a role, revoke an invitation.

  plan     what the decisions would change, per application and team; changes nothing
  apply    carries the plan out: a dry run unless --yes
  status   every action carried out, with its state and the time from decision to
           confirmed change (median and 95th percentile per application)
  confirm  checks pending actions against a snapshot (every run does it after it
           stores its snapshot)

An action is pending until the next complete read of the application confirms it;
docs/RULES.md ("Remediation") has the rules.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.remediatePlanCmd(actors), a.remediateApplyCmd(actors), a.remediateStatusCmd(), a.remediateConfirmCmd())
	return cmd
}

// actors builds the configured sources with the code the run uses and
// returns those that can change their application (collectors.Actor), by
// application, and for the others why not.
func (a *app) actors(cfg *config.Config) (map[string]collectors.Actor, map[string]string, error) {
	srcs, err := pipeline.Build(cfg, a.getenv, a.log)
	if err != nil {
		return nil, nil, err
	}
	return actorsOf(srcs)
}

// actorsOf picks the application sources that implement collectors.Actor.
func actorsOf(srcs []collectors.Collector) (map[string]collectors.Actor, map[string]string, error) {
	acts, manual := map[string]collectors.Actor{}, map[string]string{}
	for _, c := range srcs {
		in := c.Info()
		if in.Kind != collectors.KindApp {
			continue
		}
		act, ok := c.(collectors.Actor)
		switch {
		case ok && acts[in.App] != nil:
			return nil, nil, &config.Error{Err: fmt.Errorf("two configured sources can change %s (%s and another): remediation needs exactly one", in.App, in.Name)}
		case ok:
			acts[in.App] = act
		default:
			kind := in.Type
			if kind == "" {
				kind = "this kind of"
			}
			manual[in.App] = fmt.Sprintf("source %s (%s source) reads %s but cannot change it: carry the change out by hand in the application; the next read confirms it",
				in.Name, kind, in.App)
		}
	}
	for app := range acts {
		delete(manual, app)
	}
	return acts, manual, nil
}

// engine is the remediation engine of a configuration and store.
func (a *app) engine(cfg *config.Config, st *store.Store, actors map[string]collectors.Actor, manual map[string]string) *remediation.Engine {
	return &remediation.Engine{Store: st, Actors: actors, Manual: manual, Limits: remediation.LimitsOf(cfg.Remediation), ConfigFile: cfg.File,
		CaptureDir: captureDir(cfg), LogFile: reviewingOf(cfg).LogFile}
}

// captureDir is where action captures are written: "captures" beside the
// store.
func captureDir(cfg *config.Config) string {
	return filepath.Join(filepath.Dir(cfg.Path(cfg.Store)), "captures")
}

// remediationEngine builds the remediation engine the CLI uses, for
// `idgraph serve`'s "changes waiting" page: cmd/idgraph/serve.go passes
// its Plan and Apply to serve.RemediationOptions.
func (a *app) remediationEngine(cfg *config.Config, st *store.Store) (*remediation.Engine, error) {
	acts, manual, err := a.actors(cfg)
	if err != nil {
		return nil, err
	}
	return a.engine(cfg, st, acts, manual), nil
}

// remediationOptions is the "changes waiting" page's part of
// serve.Options: the plan and apply of the CLI's engine, an apply holding
// the run lock as `remediate apply` does (refused while a run reads).
// cmd/idgraph/serve.go sets o.Remediation to it.
func (a *app) remediationOptions(cfg *config.Config, st *store.Store) (serve.RemediationOptions, error) {
	e, err := a.remediationEngine(cfg, st)
	if err != nil {
		return serve.RemediationOptions{}, err
	}
	apply := func(ctx context.Context, req remediation.Request) (*remediation.Result, error) {
		if req.Yes {
			unlock, err := store.Lock(cfg.Path(cfg.Store))
			if err != nil {
				return nil, fmt.Errorf("%w: nothing was changed: %w; apply when the run has finished", remediation.ErrRefused, err)
			}
			defer unlock()
		}
		res, err := e.Apply(ctx, req)
		if res != nil {
			if failed := res.Failed(); len(failed) > 0 {
				a.alertFailed(ctx, cfg, failed)
			}
		}
		return res, err
	}
	return serve.RemediationOptions{Plan: e.Plan, Apply: apply, Enabled: cfg.Remediation.Enabled}, nil
}

func (a *app) remediatePlanCmd(actors actorsFunc) *cobra.Command {
	var appName string
	o := &output{formats: []string{"table", "json", "csv"}}
	cmd := &cobra.Command{
		Use:   "plan [--app APP] [--format table|json|csv] [--out FILE]",
		Short: "List what the approved revoke and modify decisions would change; changes nothing",
		Long: `plan lists, per application and team, one planned action for every revoke and modify
decision in force (a decision that needs a second reviewer counts once confirmed) whose
finding still holds its account in the latest snapshot:

  remove             a revoked member
  revoke_invitation  a revoked invitation
  set_role           a modified role, to the decided role

Each line names the account as it was read, the decision, who decided (and confirmed)
it and when. An application whose source cannot change it is listed as manual, with
the reason. Decisions in force that plan nothing are listed with why (the finding is
resolved; an action waits for its confirming read).

The plan changes nothing. Exit 0, or 2 when the store has no snapshot.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.resolve(cmd); err != nil {
				return err
			}
			return a.withReadStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
				acts, manual, err := actors(cfg)
				if err != nil {
					// The plan changes nothing: it is still shown, with every
					// application manual and the reason.
					a.log.Warn("the sources could not be built: the plan cannot say which applications idgraph can change", "error", err)
					reason := fmt.Sprintf("the configured sources could not be built (%v): fix the configuration before applying", err)
					p, perr := a.engine(cfg, st, nil, nil).Plan(ctx, appName)
					if perr != nil {
						return perr
					}
					for i := range p.Apps {
						p.Apps[i].Manual = reason
						for j := range p.Apps[i].Items {
							p.Apps[i].Items[j].Manual = reason
						}
					}
					return a.writePlan(o, p)
				}
				p, err := a.engine(cfg, st, acts, manual).Plan(ctx, appName)
				if err != nil {
					return err
				}
				return a.writePlan(o, p)
			})
		},
	}
	cmd.Flags().StringVar(&appName, "app", "", "only this application (its short name, e.g. stonly)")
	o.addFlags(cmd, false)
	return cmd
}

// planColumns is the CSV header of a plan.
var planColumns = []string{"app", "team", "team_name", "email", "op", "role", "account_role", "account_status", "account", "decision_id",
	"decision", "decided_by", "decided_at", "confirmed_by", "finding_id", "kind", "severity", "manual", "last_outcome"}

func (a *app) writePlan(o *output, p *remediation.Plan) error {
	return a.write(o, func(w io.Writer, tty bool) error {
		switch o.format {
		case "json":
			return encodeJSON(w, p)
		case "csv":
			cw := csv.NewWriter(w)
			cw.Write(planColumns)
			for _, ap := range p.Apps {
				for _, it := range ap.Items {
					last := ""
					if it.Last != nil {
						last = it.Last.Outcome
					}
					cw.Write(safeCSV([]string{ap.App, it.Team, it.TeamName, it.Email, string(it.Op), it.Role, it.Account.Role, string(it.Account.Status),
						it.Account.Key(), strconv.FormatInt(it.DecisionID, 10), it.Decision, it.DecidedBy, it.DecidedAt.UTC().Format(time.RFC3339),
						it.ConfirmedBy, it.FindingID, it.Kind, it.Severity, it.Manual, last}))
				}
			}
			cw.Flush()
			return cw.Error()
		}
		printPlan(w, p, tty)
		return nil
	})
}

// safeCSV prefixes cells that a spreadsheet would run as a formula.
func safeCSV(rec []string) []string {
	for i, c := range rec {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			rec[i] = "'" + c
		}
	}
	return rec
}

func printPlan(w io.Writer, p *remediation.Plan, tty bool) {
	fmt.Fprintf(w, "plan as of snapshot %d (%s)\n", p.Snapshot, p.SnapshotAt.UTC().Format(time.RFC3339))
	if len(p.Apps) == 0 {
		fmt.Fprintln(w, "nothing to change: no revoke or modify decision in force holds an account of the latest snapshot")
	}
	for _, ap := range p.Apps {
		fmt.Fprintf(w, "\n%s: %d accounts read in snapshot %d", ap.App, ap.Accounts, ap.Read.Snapshot)
		switch {
		case !ap.CanAct:
			fmt.Fprintf(w, "; manual: %s", cell(ap.Manual, 200, tty))
		case ap.Read.Problem != "":
			fmt.Fprintf(w, "; waiting: %s", cell(ap.Read.Problem, 300, tty))
		}
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTEAM\tACCOUNT\tROLE\tACTION\tDECISION\tDECIDED BY\tDECIDED AT\tNOTE")
		for _, it := range ap.Items {
			team := it.TeamName
			if team == "" {
				team = it.Team
			}
			action := string(it.Op)
			if it.Role != "" {
				action += " " + it.Role
			}
			by := it.DecidedBy
			if it.ConfirmedBy != "" {
				by += " + " + it.ConfirmedBy
			}
			note := ""
			switch {
			case it.Manual != "" && ap.CanAct:
				note = "manual: " + it.Manual
			case it.Manual != "":
				note = "manual"
			case it.Changed != "":
				note = it.Changed
			case it.Last != nil:
				note = "last attempt " + it.Last.Outcome + ": " + it.Last.Detail
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d %s\t%s\t%s\t%s\n", it.ID, cell(team, 30, tty), cell(it.Email, 40, tty), cell(it.Account.Role, 20, tty),
				action, it.DecisionID, it.Decision, cell(by, 60, tty), it.DecidedAt.UTC().Format("2006-01-02 15:04"), cell(note, 80, tty))
		}
		tw.Flush()
	}
	if len(p.Unplanned) > 0 {
		fmt.Fprintf(w, "\nnot planned (%d):\n", len(p.Unplanned))
		for _, u := range p.Unplanned {
			fmt.Fprintf(w, "  decision %d: %s\n", u.DecisionID, cell(u.Why, 200, tty))
		}
	}
}

func (a *app) remediateApplyCmd(actors actorsFunc) *cobra.Command {
	var appName, reviewer string
	var maxN int
	var yes bool
	o := &output{formats: []string{"table", "json"}}
	cmd := &cobra.Command{
		Use:   "apply [--app APP] [--max N] [--yes --reviewer EMAIL]",
		Short: "Carry out the approved plan in the applications (a dry run unless --yes)",
		Long: `apply carries out the plan (see ` + "`idgraph remediate plan`" + `) through the sources that can
change their application. Without --yes it is a dry run: it prints the plan, what would
run and what would refuse, and changes nothing.

Nothing runs when:
  remediation.enabled is false (the default: the kill switch);
  the batch has more actions than remediation.max_actions (default 10) or --max, which
    can only lower it, or more than remediation.max_share (default 5%) of an
    application's accounts in the latest snapshot;
  an application's latest read is incomplete, or its last complete read is older than
    remediation.max_age (default 24h): run ` + "`idgraph run`" + ` first.
An action decided by the reviewer applying it is refused (another reviewer applies it).

--yes needs --reviewer EMAIL: the person approving and applying the plan, recorded with
every action. Each action re-reads the account first and is refused when it changed
since the decision; the Owner of a team and the account idgraph signs in with are never
touched; the first unexpected state stops the batch. Every action is recorded in the
evidence chain with its captures (written to the "captures" folder beside the store,
with their SHA-256 in the record). It is pending until the next complete read of the
application confirms it.

Exit codes: 0 carried out (or a dry run); 1 an action failed or the batch stopped
(the message names it and its capture); 2 refused before anything ran (kill switch,
caps, stale or incomplete read, missing --reviewer, every action decided by --reviewer,
another run holding the store).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.resolve(cmd); err != nil {
				return err
			}
			if yes && strings.TrimSpace(reviewer) == "" {
				return usageErr("--yes needs --reviewer EMAIL: the person who approves and applies the plan, recorded with every action")
			}
			if !yes && reviewer != "" {
				// A dry run with the reviewer shows what that reviewer may apply.
				a.log.Debug("dry run for reviewer", "reviewer", reviewer)
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
				acts, manual, err := actors(cfg)
				if err != nil {
					return err
				}
				// A run reading the application while actions change it would
				// prove nothing either way: one at a time.
				unlock, err := store.Lock(cfg.Path(cfg.Store))
				if errors.Is(err, store.ErrLocked) {
					return &exitError{exitUsage, fmt.Errorf("nothing was changed: %w; apply when it has finished", err)}
				}
				if err != nil {
					return err
				}
				defer unlock()
				e := a.engine(cfg, st, acts, manual)
				res, err := e.Apply(ctx, remediation.Request{App: appName, Max: maxN, Yes: yes, Applier: reviewer})
				if res != nil {
					if werr := a.writeApply(o, res); werr != nil && err == nil {
						err = werr
					}
					if failed := res.Failed(); len(failed) > 0 {
						a.alertFailed(ctx, cfg, failed)
					}
				}
				switch {
				case errors.Is(err, remediation.ErrDisabled), errors.Is(err, remediation.ErrRefused):
					return &exitError{exitUsage, fmt.Errorf("nothing was changed: %w", err)}
				case errors.Is(err, remediation.ErrStopped):
					return &exitError{exitFailed, err}
				}
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&appName, "app", "", "only this application (its short name, e.g. stonly)")
	f.IntVar(&maxN, "max", 0, "at most this many actions (lowers remediation.max_actions for this batch)")
	f.BoolVar(&yes, "yes", false, "carry the plan out (without it: a dry run)")
	f.StringVar(&reviewer, "reviewer", "", "who approves and applies the plan (an email address; required with --yes)")
	o.addFlags(cmd, false)
	return cmd
}

// alertFailed sends the configured alerts about failed actions at once.
func (a *app) alertFailed(ctx context.Context, cfg *config.Config, failed []store.Action) {
	sinks, err := alert.Sinks(cfg.Alerts, cfg.File, a.getenv)
	if err != nil {
		a.log.Error("the alert about failed actions could not be sent: the alert sinks are misconfigured", "error", err)
		return
	}
	if err := remediation.SendAlert(ctx, sinks, remediation.AlertOf(nil, failed)); err != nil {
		a.log.Error("the alert about failed actions could not be delivered", "error", err)
	}
}

func (a *app) writeApply(o *output, res *remediation.Result) error {
	return a.write(o, func(w io.Writer, tty bool) error {
		if o.format == "json" {
			return encodeJSON(w, res)
		}
		printPlan(w, res.Plan, tty)
		fmt.Fprintln(w)
		if res.DryRun {
			fmt.Fprintln(w, "dry run: nothing was changed; `idgraph remediate apply --yes --reviewer EMAIL` carries out what would run")
		}
		for _, r := range res.Refused {
			verb := "refused"
			if res.DryRun {
				verb = "--yes would refuse"
			}
			fmt.Fprintf(w, "%s: %s\n", verb, cell(r, 400, tty))
		}
		for _, b := range res.Batches {
			if b.Stopped != "" {
				fmt.Fprintf(w, "%s: the batch stopped: %s\n", b.App, cell(b.Stopped, 400, tty))
			}
			for _, run := range b.Runs {
				line := fmt.Sprintf("%s %s: %s", b.App, run.Item.ID, run.Item.Change())
				switch {
				case run.Record != nil:
					line += fmt.Sprintf(" -> %s (action %d", run.Outcome, run.Record.ID)
					if done := run.Outcome == string(collectors.OutcomeDone) || run.Outcome == string(collectors.OutcomeAlreadyDone); done {
						line += ", pending until the next complete read"
					}
					line += ")"
				default:
					line += " -> " + run.Outcome
				}
				if run.Detail != "" {
					line += ": " + run.Detail
				}
				if run.Record != nil {
					for _, c := range run.Record.Captures {
						line += fmt.Sprintf("\n    %s capture %s (sha256 %s)", c.Name, c.File, c.SHA256)
					}
				}
				fmt.Fprintln(w, cell(line, 600, tty))
			}
		}
		return nil
	})
}

func (a *app) remediateStatusCmd() *cobra.Command {
	var appName string
	o := &output{formats: []string{"table", "json", "csv"}}
	cmd := &cobra.Command{
		Use:   "status [--app APP] [--format table|json|csv] [--out FILE]",
		Short: "List the actions carried out, their state, and the time from decision to confirmed change",
		Long: `status lists every action idgraph recorded, oldest first, with its state:

  pending      carried out; waiting for the next complete read of the application
  confirmed    a complete read showed the change (with that snapshot)
  unconfirmed  a complete read after the action still showed the account as before
  refused, failed, skipped   as the application or idgraph answered

and, per application, the time from decision to confirmed change (median and 95th
percentile). Exit 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.resolve(cmd); err != nil {
				return err
			}
			return a.withReadStore(cmd.Context(), func(ctx context.Context, _ *config.Config, st *store.Store) error {
				s, err := remediation.StatusOf(ctx, st, appName)
				if err != nil {
					return err
				}
				return a.write(o, func(w io.Writer, tty bool) error { return writeStatus(w, o.format, s, tty) })
			})
		},
	}
	cmd.Flags().StringVar(&appName, "app", "", "only this application")
	o.addFlags(cmd, false)
	return cmd
}

var statusColumns = []string{"action_id", "app", "team", "email", "op", "role", "decision_id", "decided_by", "confirmed_by", "applied_by",
	"decided_at", "started_at", "ended_at", "outcome", "state", "proof_snapshot", "proved_at", "took_seconds", "detail", "proof_detail", "captures"}

func writeStatus(w io.Writer, format string, s *remediation.Status, tty bool) error {
	switch format {
	case "json":
		return encodeJSON(w, s)
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(statusColumns)
		for _, a := range s.Actions {
			var snap, proved, took, pd string
			if a.Proof != nil {
				snap, pd = strconv.FormatInt(a.Proof.SnapshotID, 10), a.Proof.Detail
				proved = a.ProvedAt.UTC().Format(time.RFC3339)
			}
			if a.Took > 0 {
				took = strconv.FormatFloat(a.Took.Seconds(), 'f', 0, 64)
			}
			var caps []string
			for _, c := range a.Captures {
				caps = append(caps, c.File+" sha256:"+c.SHA256)
			}
			cw.Write(safeCSV([]string{strconv.FormatInt(a.ID, 10), a.App, a.Team, a.Email, a.Op, a.Role, strconv.FormatInt(a.DecisionID, 10), a.DecidedBy,
				a.ConfirmedBy, a.AppliedBy, utcOrEmpty(a.DecidedAt), utcOrEmpty(a.StartedAt), utcOrEmpty(a.EndedAt), a.Outcome, a.State, snap, proved,
				took, a.Detail, pd, strings.Join(caps, "; ")}))
		}
		cw.Flush()
		return cw.Error()
	}
	if len(s.Actions) == 0 {
		fmt.Fprintln(w, "no action has been carried out")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tAPP\tACCOUNT\tCHANGE\tDECISION\tAPPLIED BY\tENDED\tSTATE\tDETAIL")
	for _, a := range s.Actions {
		change := a.Op
		if a.Role != "" {
			change += " " + a.Role
		}
		state, detail := a.State, a.Detail
		if a.Proof != nil {
			state += fmt.Sprintf(" (snapshot %d)", a.Proof.SnapshotID)
			detail = a.Proof.Detail
		}
		if a.Took > 0 {
			state += ", " + roundDuration(a.Took) + " after the decision"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d by %s\t%s\t%s\t%s\t%s\n", a.ID, a.App, cell(a.Email, 40, tty), change, a.DecisionID, cell(a.DecidedBy, 40, tty),
			cell(a.AppliedBy, 40, tty), utcOrEmpty(a.EndedAt), state, cell(detail, 100, tty))
	}
	tw.Flush()
	for _, t := range s.Times {
		fmt.Fprintf(w, "%s: %d confirmed; decision to confirmed change: median %s, 95th percentile %s\n", t.App, t.Confirmed,
			roundDuration(t.Median), roundDuration(t.P95))
	}
	return nil
}

func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	case d >= time.Second:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}

func utcOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (a *app) remediateConfirmCmd() *cobra.Command {
	var snapshot int64
	cmd := &cobra.Command{
		Use:   "confirm [--snapshot ID]",
		Short: "Check the pending actions against a snapshot (the run does it after each snapshot)",
		Long: `confirm checks every pending action against a snapshot (default: the latest) whose read
of the action's application is complete and began after the action ended: confirmed
when the read shows the change, unconfirmed (and alerted through the configured sinks)
when it still shows the account as before. Each result is an entry of the evidence
chain. Exit 0; 1 when an action is unconfirmed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
				sum, err := st.Get(ctx, snapshot)
				if err != nil {
					return err
				}
				res, err := remediation.ConfirmWith(ctx, st, sum.ID, remediation.ConfirmOptions{LogFile: reviewingOf(cfg).LogFile})
				if err != nil {
					return err
				}
				for _, c := range res.Confirmed {
					fmt.Fprintf(a.stdout, "action %d confirmed: %s\n", c.Action.ID, c.Proof.Detail)
				}
				for _, u := range res.Unconfirmed {
					fmt.Fprintf(a.stdout, "action %d UNCONFIRMED: %s\n", u.Action.ID, u.Proof.Detail)
				}
				fmt.Fprintf(a.stdout, "snapshot %d: %d confirmed, %d unconfirmed, %d still pending\n", res.Snapshot, len(res.Confirmed), len(res.Unconfirmed), res.Waiting)
				if len(res.Unconfirmed) > 0 {
					if sinks, err := alert.Sinks(cfg.Alerts, cfg.File, a.getenv); err != nil {
						a.log.Error("the alert about unconfirmed actions could not be sent: the alert sinks are misconfigured", "error", err)
					} else if err := remediation.SendAlert(ctx, sinks, remediation.AlertOf(res, nil)); err != nil {
						a.log.Error("the alert about unconfirmed actions could not be delivered", "error", err)
					}
					return &exitError{exitFailed, fmt.Errorf("%d actions are not confirmed by snapshot %d: see `idgraph remediate status`", len(res.Unconfirmed), res.Snapshot)}
				}
				return nil
			})
		},
	}
	cmd.Flags().Int64Var(&snapshot, "snapshot", 0, "the snapshot to check against (default: the latest)")
	return cmd
}
