package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/store"
)

func (a *app) snapshotsCmd() *cobra.Command {
	o := &output{formats: []string{"table", "json", "csv"}}
	cmd := &cobra.Command{
		Use:   "snapshots [--format table|json|csv] [--out FILE]",
		Short: "List the stored snapshots with their sources' completeness",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.resolve(cmd); err != nil {
				return err
			}
			return a.withReadStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
				list, err := st.List(ctx)
				if err != nil {
					return err
				}
				if list == nil {
					list = []store.Summary{}
				}
				err = a.write(o, func(w io.Writer, tty bool) error {
					switch o.format {
					case "json":
						return encodeJSON(w, list)
					case "csv":
						return snapshotsCSV(w, list)
					}
					return snapshotsTable(w, list, tty)
				})
				if err == nil && !o.toStdout() {
					fmt.Fprintf(a.stdout, "wrote %s (%s)\n", o.out, report.Plural(len(list), "snapshot", "snapshots"))
				}
				return err
			})
		},
	}
	o.addFlags(cmd, true)
	return cmd
}

func snapshotsTable(w io.Writer, list []store.Summary, tty bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tFINISHED (UTC)\tCOMPLETE\tACCOUNTS\tFINDINGS\tSOURCES")
	for _, s := range list {
		var srcs []string
		for _, src := range s.Sources {
			mark := "ok"
			if !src.Completeness.Complete {
				mark = "INCOMPLETE"
			}
			srcs = append(srcs, fmt.Sprintf("%s:%d %s", cell(src.Info.Name, 40, tty), src.Completeness.Records, mark))
		}
		fmt.Fprintf(tw, "%d\t%s\t%v\t%d\t%d\t%s\n", s.ID, s.FinishedAt.UTC().Format("2006-01-02 15:04:05"), s.Complete, s.Accounts, s.Findings, strings.Join(srcs, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(w, "(no snapshots yet: `idgraph run` writes the first)")
	}
	return nil
}

// snapshotsCSV writes one row per snapshot and source, so that a
// spreadsheet can filter on a source's completeness.
func snapshotsCSV(w io.Writer, list []store.Summary) error {
	cw, err := report.NewCSVWriter(w, report.CSVOptions{})
	if err != nil {
		return err
	}
	cw.Write([]string{"snapshot_id", "finished_at", "complete", "accounts", "findings", "hash", "source", "source_kind",
		"source_complete", "source_records", "source_errors"})
	for _, s := range list {
		head := []string{strconv.FormatInt(s.ID, 10), s.FinishedAt.UTC().Format(time.RFC3339), strconv.FormatBool(s.Complete),
			strconv.Itoa(s.Accounts), strconv.Itoa(s.Findings), s.Hash}
		if len(s.Sources) == 0 {
			cw.Write(append(head, "", "", "", "", ""))
		}
		for _, src := range s.Sources {
			c := src.Completeness
			cw.Write(append(head[:len(head):len(head)], src.Info.Name, string(src.Info.Kind), strconv.FormatBool(c.Complete),
				strconv.Itoa(c.Records), strings.Join(c.Errors, "; ")))
		}
	}
	return cw.Flush()
}
