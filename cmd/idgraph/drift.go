package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/store"
)

func (a *app) driftCmd() *cobra.Command {
	var from, to int64
	o := &output{formats: []string{"table", "json", "csv"}}
	cmd := &cobra.Command{
		Use:   "drift [--from ID] [--to ID] [--format table|json|csv] [--out FILE]",
		Short: "Show what changed between two snapshots",
		Long: `drift compares two snapshots: findings that appeared, were resolved or escalated,
accounts created or removed, role and status changes. Without --to, the latest snapshot;
without --from, the last snapshot before it in which the same sources were complete.
CSV has one row per change, its first column naming the change.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.resolve(cmd); err != nil {
				return err
			}
			return a.withReadStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
				toSum, err := st.Get(ctx, to)
				if err != nil {
					return err
				}
				if from == 0 {
					if from, err = st.BaselineOf(ctx, toSum); err != nil {
						return err
					}
					if from == 0 {
						return usageErr("no earlier snapshot of snapshot %d's complete sources to compare with; pass --from", toSum.ID)
					}
				} else if _, err := st.Get(ctx, from); err != nil {
					return err
				}
				d, err := st.Drift(ctx, from, toSum.ID)
				if err != nil {
					return err
				}
				err = a.write(o, func(w io.Writer, tty bool) error {
					switch o.format {
					case "json":
						return encodeJSON(w, d)
					case "csv":
						return driftCSV(w, d)
					}
					return report.DriftTextIn(w, d, toSum.Sources, tty)
				})
				if err == nil && !o.toStdout() {
					fmt.Fprintf(a.stdout, "wrote %s (drift from snapshot %d to %d)\n", o.out, d.From, d.To)
				}
				return err
			})
		},
	}
	cmd.Flags().Int64Var(&from, "from", 0, "older snapshot ID")
	cmd.Flags().Int64Var(&to, "to", 0, "newer snapshot ID (default: the latest)")
	o.addFlags(cmd, true)
	return cmd
}

// driftCSV writes one row per change of d.
func driftCSV(w io.Writer, d *diff.Drift) error {
	cw, err := report.NewCSVWriter(w, report.CSVOptions{})
	if err != nil {
		return err
	}
	cw.Write([]string{"change", "finding_id", "severity", "kind", "reason", "app", "team", "email", "account", "source",
		"role", "status", "from", "to", "explanation"})
	for _, s := range []struct {
		change string
		fs     []diff.Finding
	}{{"finding_appeared", d.Appeared}, {"finding_escalated", d.Escalated}, {"finding_resolved", d.Resolved}} {
		for _, f := range s.fs {
			team := f.TeamName
			if team == "" {
				team = f.Team
			}
			cw.Write([]string{s.change, f.ID, f.Severity, f.Kind, f.Reason, f.App, team, f.Email, f.Account, "", f.ActualRole, "", "", "", f.Explanation})
		}
	}
	for _, s := range []struct {
		change string
		as     []diff.AccountRef
	}{{"account_created", d.AccountsCreated}, {"account_removed", d.AccountsRemoved}} {
		for _, x := range s.as {
			cw.Write([]string{s.change, "", "", "", "", "", x.Team, x.Email, x.Account, x.Source, x.Role, x.Status, "", "", ""})
		}
	}
	for _, s := range []struct {
		change string
		cs     []diff.Change
	}{{"role_change", d.RoleChanges}, {"status_change", d.StatusChanges}} {
		for _, x := range s.cs {
			team := x.TeamName
			if team == "" {
				team = x.Team
			}
			cw.Write([]string{s.change, "", "", "", "", "", team, x.Email, x.Account, x.Source, "", "", x.From, x.To, ""})
		}
	}
	return cw.Flush()
}
