package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/store"
)

func (a *app) exportCmd() *cobra.Command {
	var snapshot int64
	var kind, asOf string
	var bom bool
	o := &output{formats: []string{"csv"}, required: true}
	cmd := &cobra.Command{
		Use:   "export --out FILE [--kind accounts|findings] [--snapshot ID]",
		Short: "Write auditor CSV evidence with a manifest beside it",
		Long: `export writes the population of a snapshot (one row per Stonly account per team, plus
one row per missing account) or its findings as RFC 4180 CSV, and FILE.manifest.json with
row counts, source completeness, collector versions, the configuration's hash and the
CSV's SHA-256. The same snapshot always gives the same bytes. Cells that a spreadsheet
would run as a formula are prefixed with a quote.

--out - writes the CSV to standard output, without a manifest (there is no file to
put it beside).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if kind != "accounts" && kind != "findings" {
				return usageErr("--kind must be accounts or findings, not %q", kind)
			}
			if err := o.resolve(cmd); err != nil {
				return err
			}
			at, err := parseWhen("--as-of", asOf)
			if err != nil {
				return err
			}
			d, rv, done, err := a.loadReport(cmd.Context(), snapshot, at)
			if err != nil {
				return err
			}
			defer done()
			opt := report.CSVOptions{BOM: bom, Review: rv}
			if o.toStdout() {
				var data []byte
				if kind == "accounts" {
					data, _, _, err = report.AccountsCSV(d, opt)
				} else {
					data, _, _, err = report.FindingsCSV(d, opt)
				}
				if err != nil {
					return err
				}
				if _, err := a.stdout.Write(data); err != nil {
					return err
				}
				fmt.Fprintf(a.stderr, "note: no manifest was written for standard output; --out FILE writes FILE.manifest.json beside it\n")
				return nil
			}
			e, err := report.WriteExport(d, kind, o.out, opt)
			if err != nil {
				return fmt.Errorf("writing %s: %w", o.out, err)
			}
			fmt.Fprintf(a.stdout, "wrote %s (%s, sha256 %s) and %s\n", e.File, report.Plural(e.Rows, "row", "rows"), e.SHA256, filepath.Base(e.Manifest))
			return nil
		},
	}
	cmd.Flags().Int64Var(&snapshot, "snapshot", 0, "snapshot ID (default: the latest)")
	cmd.Flags().StringVar(&kind, "kind", "accounts", "accounts (the population) or findings")
	cmd.Flags().BoolVar(&bom, "bom", false, "start with a UTF-8 byte-order mark, for Excel")
	cmd.Flags().StringVar(&asOf, "as-of", "", "show decisions as of this time (RFC 3339 or YYYY-MM-DD; default: the snapshot's own time)")
	o.addFlags(cmd, false)
	return cmd
}

func (a *app) reportCmd() *cobra.Command {
	var snapshot int64
	var asOf string
	o := &output{formats: []string{"html", "md"}, required: true}
	cmd := &cobra.Command{
		Use:   "report --out FILE [--format html|md] [--snapshot ID]",
		Short: "Write the access-review report of a snapshot",
		Long: `report writes the access-review report: one self-contained HTML file that opens offline
(sources and their completeness, findings by kind and severity, changes since the last
comparable snapshot, every finding with its evidence, roles per team, and a chart of
findings over the history), or a short Markdown summary for e-mail or chat.

Without --format, the extension of --out chooses (.md: Markdown, else HTML); an
extension that names the other format is an error. --out - writes to standard output.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.resolve(cmd); err != nil {
				return err
			}
			at, err := parseWhen("--as-of", asOf)
			if err != nil {
				return err
			}
			d, _, done, err := a.loadReport(cmd.Context(), snapshot, at)
			if err != nil {
				return err
			}
			defer done()
			err = a.write(o, func(w io.Writer, _ bool) error {
				if o.format == "html" {
					return report.WriteHTML(w, d)
				}
				return report.WriteMarkdown(w, d)
			})
			if err != nil {
				return err
			}
			if !o.toStdout() {
				fmt.Fprintf(a.stdout, "wrote %s (snapshot %d)\n", o.out, d.Snapshot.ID)
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&snapshot, "snapshot", 0, "snapshot ID (default: the latest)")
	cmd.Flags().StringVar(&asOf, "as-of", "", "show decisions as of this time (RFC 3339 or YYYY-MM-DD; default: the snapshot's own time)")
	o.addFlags(cmd, false)
	return cmd
}

// loadReport opens the store read-only and loads a snapshot's report data.
// Its review (decisions, remediations) is the one in force at asOf, by
// default the snapshot's own finish time, so that the same snapshot and
// moment always give the same bytes.
func (a *app) loadReport(ctx context.Context, id int64, asOf time.Time) (*report.Data, *report.Review, func(), error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := store.OpenReadOnly(ctx, cfg.Path(cfg.Store))
	if err != nil {
		return nil, nil, nil, err
	}
	d, err := report.Load(ctx, st, id, version())
	if err == nil {
		var rv *report.Review
		if rv, err = report.LoadReview(ctx, st, d, asOf); err == nil {
			return d, rv, func() { st.Close() }, nil
		}
	}
	st.Close()
	return nil, nil, nil, err
}
