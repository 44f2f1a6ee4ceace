package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/pipeline"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/report/alert"
	"github.com/idgraph/idgraph/store"
)

// afterRun sends the alerts of a fresh snapshot and, when reports is set,
// writes the configured reports.
func (a *app) afterRun(ctx context.Context, cfg *config.Config, st *store.Store, out *pipeline.Outcome, sinks []alert.Sink, reports bool) (alert.Result, error) {
	var res alert.Result
	if len(sinks) > 0 {
		// A delivery problem is logged and retried next run; it does not
		// fail a run whose snapshot is safely stored.
		var err error
		res, err = alert.Process(ctx, st, out.Snapshot.ID, out.Drift, sinks, cfg.Alerts.MinSeverity, a.log)
		if err != nil {
			a.log.Error("alerts could not be processed; the next run will try again", "error", err)
		} else {
			fmt.Fprintf(a.stdout, "alerts: %d queued, %d delivered, %d pending\n", res.Queued, res.Delivered, res.Pending)
		}
	}
	if !reports || cfg.Report.Dir == "" {
		return res, nil
	}
	d, err := report.Load(ctx, st, out.Snapshot.ID, version())
	if err != nil {
		return res, err
	}
	files, err := report.Render(d, cfg.Path(cfg.Report.Dir), report.CSVOptions{})
	if err != nil {
		return res, fmt.Errorf("writing the reports (the snapshot %d is stored; rerun `idgraph report`): %w", out.Snapshot.ID, err)
	}
	for _, f := range files {
		fmt.Fprintln(a.stdout, "wrote", f)
	}
	return res, nil
}

func (a *app) exportCmd() *cobra.Command {
	var snapshot int64
	var kind, out string
	var bom bool
	cmd := &cobra.Command{
		Use:   "export --out FILE [--kind accounts|findings] [--snapshot ID]",
		Short: "Write auditor CSV evidence with a manifest beside it",
		Long: `export writes the population of a snapshot (one row per Stonly account per team, plus
one row per missing account) or its findings as RFC 4180 CSV, and FILE.manifest.json with
row counts, source completeness, collector versions, the configuration's hash and the
CSV's SHA-256. The same snapshot always gives the same bytes. Cells that a spreadsheet
would run as a formula are prefixed with a quote.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageErr("--out is required")
			}
			if kind != "accounts" && kind != "findings" {
				return usageErr("--kind must be accounts or findings, not %q", kind)
			}
			d, done, err := a.loadReport(cmd.Context(), snapshot)
			if err != nil {
				return err
			}
			defer done()
			e, err := report.WriteExport(d, kind, out, report.CSVOptions{BOM: bom})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s (%d rows, sha256 %s) and %s\n", e.File, e.Rows, e.SHA256, filepath.Base(e.Manifest))
			return nil
		},
	}
	cmd.Flags().Int64Var(&snapshot, "snapshot", 0, "snapshot ID (default: the latest)")
	cmd.Flags().StringVar(&kind, "kind", "accounts", "accounts (the population) or findings")
	cmd.Flags().StringVarP(&out, "out", "o", "", "CSV file to write")
	cmd.Flags().BoolVar(&bom, "bom", false, "start with a UTF-8 byte-order mark, for Excel")
	return cmd
}

func (a *app) reportCmd() *cobra.Command {
	var snapshot int64
	var format, out string
	cmd := &cobra.Command{
		Use:   "report --out FILE [--format html|md] [--snapshot ID]",
		Short: "Write the access-review report of a snapshot",
		Long: `report writes the access-review report: one self-contained HTML file that opens offline
(sources and their completeness, findings by kind and severity, changes since the last
comparable snapshot, every finding with its evidence, roles per team, and a chart of
findings over the history), or a short Markdown summary for e-mail or chat.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageErr("--out is required")
			}
			if format != "html" && format != "md" {
				return usageErr("--format must be html or md, not %q", format)
			}
			d, done, err := a.loadReport(cmd.Context(), snapshot)
			if err != nil {
				return err
			}
			defer done()
			var b bytes.Buffer
			if format == "html" {
				err = report.WriteHTML(&b, d)
			} else {
				err = report.WriteMarkdown(&b, d)
			}
			if err != nil {
				return err
			}
			if err := report.WriteFile(out, b.Bytes()); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s (snapshot %d)\n", out, d.Snapshot.ID)
			return nil
		},
	}
	cmd.Flags().Int64Var(&snapshot, "snapshot", 0, "snapshot ID (default: the latest)")
	cmd.Flags().StringVarP(&format, "format", "f", "html", "html or md")
	cmd.Flags().StringVarP(&out, "out", "o", "", "file to write")
	return cmd
}

func (a *app) loadReport(ctx context.Context, id int64) (*report.Data, func(), error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	st, err := a.openStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	d, err := report.Load(ctx, st, id, version())
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return d, func() { st.Close() }, nil
}
