package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/serve"
	"github.com/idgraph/idgraph/store"
)

// findingFilter selects findings as the API's query does (serve/api.go:
// kind, severity, team, decision), plus the application; every value is
// checked, so that a typo is an error instead of an empty list.
type findingFilter struct {
	kind, severity, team, app, decision string
}

var (
	severities = []string{diff.SevInfo, diff.SevLow, diff.SevMedium, diff.SevHigh, diff.SevCritical}
	// reviewStates are the values of --decision: the decision in force, or
	// none, or an approval that has expired.
	reviewStates = []string{"undecided", "approve", "revoke", "modify", "exception", "expired"}
)

func (f *findingFilter) addFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.kind, "kind", "", "only this kind: "+strings.Join(findingKinds, ", "))
	fl.StringVar(&f.severity, "severity", "", "only this severity or higher: "+strings.Join(severities, ", "))
	fl.StringVar(&f.team, "team", "", "only this team (its id or name)")
	fl.StringVar(&f.app, "app", "", "only this application (its short name or title)")
	fl.StringVar(&f.decision, "decision", "", "only findings whose review is: "+strings.Join(reviewStates, ", "))
}

func (f *findingFilter) check() error {
	for _, c := range []struct {
		flag, v string
		allowed []string
	}{{"--kind", f.kind, findingKinds}, {"--severity", f.severity, severities}, {"--decision", f.decision, reviewStates}} {
		if c.v != "" && !slices.Contains(c.allowed, c.v) {
			return usageErr("%s must be %s, not %q", c.flag, orList(c.allowed), c.v)
		}
	}
	return nil
}

func (f *findingFilter) match(it *reviewItem) bool {
	x := &it.Finding
	return (f.kind == "" || x.Kind == f.kind) &&
		(f.severity == "" || diff.SeverityRank(x.Severity) >= diff.SeverityRank(f.severity)) &&
		(f.team == "" || x.Team == f.team || strings.EqualFold(x.TeamName, f.team)) &&
		(f.app == "" || strings.EqualFold(x.App, f.app)) &&
		(f.decision == "" || it.review == f.decision)
}

// reviewItem is a finding with the decision in force, as the API shows it,
// and the review state that --decision matches.
type reviewItem struct {
	serve.Item
	review string
}

// reviewItems joins findings with the decisions in force at now, with the
// review status the API and UI give them, and each application's title.
func reviewItems(fs []diff.Finding, apps []report.Application, decisions map[string]store.Decision, now time.Time) []reviewItem {
	out := make([]reviewItem, 0, len(fs))
	for _, f := range fs {
		it := reviewItem{Item: serve.Item{Finding: f, AppTitle: report.TitleIn(apps, f.App), Status: "undecided"}, review: "undecided"}
		if d, ok := decisions[f.Key]; ok {
			it.Decision = &d
			it.review = d.Decision
			switch {
			case d.Decision == "approve" && !d.Active(now):
				it.Status, it.review = "approval expired", "expired"
			case d.Decision == "approve":
				it.Status = "approved"
			case d.Decision == "revoke":
				it.Status = "revoke pending"
			default:
				it.Status = d.Decision
			}
		}
		out = append(out, it)
	}
	return out
}

func (a *app) findingsCmd() *cobra.Command {
	var snapshot int64
	var state string
	var filter findingFilter
	o := &output{formats: []string{"table", "json", "csv"}}
	cmd := &cobra.Command{
		Use:   "findings [--snapshot ID] [--format table|json|csv] [--out FILE] [filters]",
		Short: "List the findings of a snapshot (default: the latest)",
		Long: `findings prints the findings of a snapshot as a table, JSON (the same objects as
GET /api/v1/findings) or CSV, to standard output or to --out FILE.

By default only facts are listed (state "open"); findings that depend on a source
that was incomplete in that run have state "unknown" and are listed with --state
unknown or --state all. --kind, --severity (that severity or higher), --team, --app
and --decision narrow the list; the ID column is what review decisions name.

A table on a terminal cuts long explanations; written to a file or a pipe, it
keeps them whole.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if state != "open" && state != "unknown" && state != "all" {
				return usageErr("--state must be open, unknown or all, not %q", state)
			}
			if err := filter.check(); err != nil {
				return err
			}
			if err := o.resolve(cmd); err != nil {
				return err
			}
			return a.withReadStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
				sum, err := st.Get(ctx, snapshot)
				if err != nil {
					return err
				}
				if filter.app != "" {
					// Like the other filters, an application the snapshot
					// does not hold is a mistake to say, not an empty list.
					apps := report.Apps(sum.Sources)
					found, ok := report.FindApp(apps, filter.app)
					if !ok {
						return usageErr("--app must be %s (the applications of snapshot %d), not %q", orList(report.AppNames(apps)), sum.ID, filter.app)
					}
					filter.app = found.Name
				}
				all, err := st.Findings(ctx, sum.ID)
				if err != nil {
					return err
				}
				decisions, _, err := st.Decisions(ctx, false)
				if err != nil {
					return err
				}
				var items []reviewItem
				unknown := 0
				for _, it := range reviewItems(all, report.Apps(sum.Sources), decisions, time.Now()) {
					if it.State == diff.StateUnknown {
						unknown++
					}
					if (state == "all" || it.State == state) && filter.match(&it) {
						items = append(items, it)
					}
				}
				// Whatever the state asked for, say what is partial and why.
				if unknown > 0 {
					see := ""
					if state == "open" {
						see = " They are not listed here: see --state unknown or --state all."
					}
					fmt.Fprintf(a.stderr, "note: snapshot %d: %s%s\n", sum.ID, report.UncheckedSentence(unknown, report.IncompleteSources(sum.Sources, all), 200), see)
				}
				err = a.write(o, func(w io.Writer, tty bool) error {
					switch o.format {
					case "json":
						api := make([]serve.Item, len(items))
						for i := range items {
							api[i] = items[i].Item
						}
						return encodeJSON(w, api)
					case "csv":
						fs := make([]diff.Finding, len(items))
						for i := range items {
							fs[i] = items[i].Finding
						}
						return report.WriteFindingsCSV(w, sum.ID, fs, report.CSVOptions{})
					}
					return findingsTable(w, items, sum, state != "open", tty)
				})
				if err == nil && !o.toStdout() {
					fmt.Fprintf(a.stdout, "wrote %s (%s of snapshot %d)\n", o.out, report.Plural(len(items), "finding", "findings"), sum.ID)
				}
				return err
			})
		},
	}
	cmd.Flags().Int64Var(&snapshot, "snapshot", 0, "snapshot ID (default: the latest)")
	cmd.Flags().StringVar(&state, "state", "open", "which findings: open (facts), unknown, or all")
	filter.addFlags(cmd)
	o.addFlags(cmd, false)
	return cmd
}

// findingsTable prints findings as an aligned table, sanitised for a
// terminal (source values can hold escape sequences and bidirectional
// overrides); long values are cut only when tty.
//
// The APP column, each finding's application by its title, is shown only
// when the snapshot holds more than one application.
func findingsTable(w io.Writer, items []reviewItem, sum *store.Summary, showState, tty bool) error {
	apps := report.Apps(sum.Sources)
	showApp := len(apps) > 1
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"ID", "SEVERITY", "KIND", "REASON"}
	if showState {
		head = append(head, "STATE")
	}
	if showApp {
		head = append(head, "APP")
	}
	head = append(head, "TEAM", "EMAIL", "ACTUAL", "EXPECTED", "FIRST SEEN", "REVIEW", "EXPLANATION")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, it := range items {
		f := &it.Finding
		team := f.TeamName
		if team == "" {
			team = f.Team
		}
		first := ""
		if !f.FirstSeen.IsZero() {
			first = f.FirstSeen.UTC().Format("2006-01-02")
		}
		row := []string{f.ID, f.Severity, f.Kind, cell(f.Reason, 30, tty)}
		if showState {
			row = append(row, f.State)
		}
		if showApp {
			row = append(row, cell(report.TitleIn(apps, f.App), 30, tty))
		}
		row = append(row, cell(team, 30, tty), cell(f.Email, 60, tty), cell(f.ActualRole, 20, tty), cell(f.ExpectedRole, 20, tty),
			first, it.Status, cell(f.Explanation, 160, tty))
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(items) == 0 {
		if sum.Complete {
			fmt.Fprintln(w, "(no findings)")
		} else {
			fmt.Fprintln(w, "(no findings among what could be checked: a source of this snapshot was incomplete; see --state unknown and `idgraph snapshots`)")
		}
	}
	return nil
}
