package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/store"
)

// DecisionColumns is the CSV header of `idgraph decisions`: stable, add
// only at the end.
var DecisionColumns = []string{"id", "decided_at", "finding_id", "finding_key", "decision", "role", "expires", "reviewer",
	"justification", "needs_second_reviewer", "second_reviewer", "confirmed_at", "state", "snapshot_id"}

func newDecisionsCmd(a *app) *cobra.Command {
	var finding, asOf string
	o := &output{formats: []string{"table", "json", "csv"}}
	cmd := &cobra.Command{
		Use:   "decisions [--finding ID] [--as-of TIME] [--format table|json|csv] [--out FILE]",
		Short: "List every review decision, newest first, with its second reviewer",
		Long: `decisions lists every decision recorded about findings, newest first: a later
decision never replaces an earlier one, so this is each finding's full history. Each
row names the reviewer, the time, the justification, the expiry or end date and, for a
decision that needs four eyes, its second reviewer or that it is still pending.

--as-of TIME shows the review as it stood then (YYYY-MM-DD: the end of that day, UTC):
decisions and confirmations made later are left out. The evidence chain's head is
printed after a table, so that it can be recorded elsewhere and checked with
` + "`idgraph verify --head`" + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.resolve(cmd); err != nil {
				return err
			}
			at, err := parseWhen("--as-of", asOf)
			if err != nil {
				return err
			}
			return a.withReadStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
				_, all, err := st.DecisionsAsOf(ctx, at)
				if err != nil {
					return err
				}
				out := []store.Decision{}
				for _, d := range all {
					if finding == "" || d.FindingID == finding || d.FindingKey == finding {
						out = append(out, d)
					}
				}
				head, err := st.ChainHead(ctx)
				if err != nil {
					return err
				}
				now := at
				if now.IsZero() {
					now = time.Now()
				}
				return a.write(o, func(w io.Writer, tty bool) error {
					switch o.format {
					case "json":
						return encodeJSON(w, out)
					case "csv":
						return decisionsCSV(w, out, now)
					}
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "ID\tDECIDED (UTC)\tFINDING\tDECISION\tUNTIL\tREVIEWER\tSECOND REVIEWER\tSTATE\tJUSTIFICATION")
					for _, d := range out {
						what := decided(&d)
						second := ""
						switch {
						case d.ConfirmedBy != "":
							second = d.ConfirmedBy
						case d.NeedsSecond:
							second = "(waiting)"
						}
						fid := d.FindingID
						if fid == "" {
							fid = d.FindingKey
						}
						fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.DecidedAt.UTC().Format("2006-01-02 15:04"), cell(fid, 40, tty),
							cell(what, 30, tty), decisionDay(d.ExpiresAt), cell(d.Reviewer, 40, tty), cell(second, 40, tty), d.State(now), cell(d.Justification, 60, tty))
					}
					if len(out) == 0 {
						fmt.Fprintln(tw, "(no decisions)")
					}
					if err := tw.Flush(); err != nil {
						return err
					}
					_, err := fmt.Fprintf(w, "chain head: %s\n", head)
					return err
				})
			})
		},
	}
	cmd.Flags().StringVar(&finding, "finding", "", "only the decisions about this finding (ID or key)")
	cmd.Flags().StringVar(&asOf, "as-of", "", "the review as it stood at this time (YYYY-MM-DD or RFC 3339)")
	o.addFlags(cmd, false)
	return cmd
}

func decisionDay(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

func decisionsCSV(w io.Writer, ds []store.Decision, now time.Time) error {
	cw, err := report.NewCSVWriter(w, report.CSVOptions{})
	if err != nil {
		return err
	}
	cw.Write(DecisionColumns)
	for _, d := range ds {
		if err := cw.Write([]string{strconv.FormatInt(d.ID, 10), decisionTime(d.DecidedAt), d.FindingID, d.FindingKey, d.Decision, d.Role,
			decisionTime(d.ExpiresAt), d.Reviewer, d.Justification, strconv.FormatBool(d.NeedsSecond), d.ConfirmedBy, decisionTime(d.ConfirmedAt),
			d.State(now), strconv.FormatInt(d.SnapshotID, 10)}); err != nil {
			return err
		}
	}
	return cw.Flush()
}

func decisionTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
