package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/collectors"
	_ "github.com/idgraph/idgraph/collectors/all" // built-in sources
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/pipeline"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/store"
)

// Exit codes (DESIGN.md).
const (
	exitOK         = 0
	exitFailed     = 1
	exitUsage      = 2
	exitIncomplete = 3
)

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{exitUsage, fmt.Errorf(format, args...)}
}

// app is the state of one invocation; nothing is global.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	configPath string
	logFormat  string
	verbose    bool
	quiet      bool
	log        *slog.Logger
}

// Main runs the CLI and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	root := a.root()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	var ce *config.Error
	code := exitFailed
	switch {
	case errors.As(err, &ee):
		code = ee.code
	case errors.As(err, &ce):
		code = exitUsage
	case isUsage(err):
		code = exitUsage
	}
	if code != exitIncomplete || err.Error() != "" {
		fmt.Fprintln(stderr, "idgraph:", err)
	}
	return code
}

// isUsage recognises cobra's own usage errors (unknown flag or command).
func isUsage(err error) bool {
	m := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "flag needs an argument",
		"invalid argument", "accepts ", "requires at least", "required flag"} {
		if strings.Contains(m, p) {
			return true
		}
	}
	return false
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "idgraph",
		Short: "Reconcile who has access to Stonly with who should, according to Okta and Entra ID",
		Long: `idgraph collects users, groups and app assignments from the identity providers
(Okta, Microsoft Entra ID) and the members of the application (Stonly), correlates
them into people, reports orphaned, unassigned, missing and mis-roled accounts, and
keeps every run as a snapshot.

Exit codes: 0 success; 1 the run failed; 2 bad usage or configuration;
3 the run finished but at least one source was incomplete.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.setupLog()
		},
	}
	pf := root.PersistentFlags()
	pf.StringVarP(&a.configPath, "config", "c", "idgraph.yaml", "configuration file")
	pf.StringVar(&a.logFormat, "log-format", "text", "log format: text or json")
	pf.BoolVarP(&a.verbose, "verbose", "v", false, "log debug details")
	pf.BoolVarP(&a.quiet, "quiet", "q", false, "log warnings and errors only")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{exitUsage, err} })
	root.AddCommand(a.runCmd(), a.collectCmd(), a.findingsCmd(), a.snapshotsCmd(), a.driftCmd(), a.verifyCmd(), a.versionCmd(),
		a.exportCmd(), a.reportCmd(), a.demoCmd(), a.initCmd(), a.doctorCmd(), a.serveCmd())
	return root
}

func (a *app) setupLog() error {
	level := slog.LevelInfo
	switch {
	case a.verbose && a.quiet:
		return usageErr("--verbose and --quiet exclude each other")
	case a.verbose:
		level = slog.LevelDebug
	case a.quiet, terminal(a.stderr):
		// On a terminal the progress bars say what info lines would, and
		// interleaved lines would garble them; --verbose brings them back.
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	switch a.logFormat {
	case "text":
		a.log = slog.New(slog.NewTextHandler(a.stderr, opts))
	case "json":
		a.log = slog.New(slog.NewJSONHandler(a.stderr, opts))
	default:
		return usageErr("--log-format must be text or json, not %q", a.logFormat)
	}
	return nil
}

func (a *app) loadConfig() (*config.Config, error) {
	return config.Load(a.configPath, collectors.Names())
}

func (a *app) openStore(ctx context.Context, cfg *config.Config) (*store.Store, error) {
	return store.Open(ctx, cfg.Path(cfg.Store))
}

// withStore loads the configuration and opens the store for f.
func (a *app) withStore(ctx context.Context, f func(context.Context, *config.Config, *store.Store) error) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	st, err := a.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	return f(ctx, cfg, st)
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func (a *app) runCmd() *cobra.Command {
	var full bool
	var accept []string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Collect from every source, correlate, find, and store a snapshot",
		Long: `run performs one full run: it reads every configured source concurrently,
correlates the accounts into people, evaluates the findings, writes an immutable
snapshot to the store and prints a summary.

Exit codes: 0 success; 1 the run failed; 2 bad configuration; 3 the snapshot was
written but at least one source was incomplete (its findings are recorded as unknown).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			out, _, err := a.execute(ctx, cfg, a.getenv, pipeline.Options{Full: full, AcceptDrop: accept}, true)
			if err != nil {
				return err
			}
			if len(out.Incomplete) > 0 {
				return &exitError{exitIncomplete, fmt.Errorf("snapshot %d written, but %d source(s) were incomplete; their findings are recorded as unknown:\n  %s",
					out.Snapshot.ID, len(out.Incomplete), strings.Join(out.Incomplete, "\n  "))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&full, "full", false, "read every source in full, ignoring delta state")
	cmd.Flags().StringSliceVar(&accept, "accept-drop", nil, "accept a large drop in a source's account count (source names)")
	return cmd
}

func (a *app) printRunSummary(out *pipeline.Outcome) {
	s := out.Snapshot
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "snapshot %d  %s  accounts %d  people %d  findings %d\n", s.ID, s.FinishedAt.Format(time.RFC3339),
		len(s.Graph.Accounts), len(s.Graph.People), len(s.Findings))
	fmt.Fprintln(w, "SOURCE\tKIND\tCOMPLETE\tRECORDS\tPAGES\tRETRIES\tDURATION")
	for _, src := range s.Sources {
		c := src.Completeness
		fmt.Fprintf(w, "%s\t%s\t%v\t%d\t%d\t%d\t%s\n", src.Info.Name, src.Info.Kind, c.Complete, c.Records, c.Pages, c.Retries, c.Duration.Round(time.Millisecond))
	}
	w.Flush()
	counts := map[string]int{}
	unknown := 0
	for _, f := range s.Findings {
		if f.State == diff.StateUnknown {
			unknown++
			continue
		}
		counts[f.Kind]++
	}
	var parts []string
	for _, k := range []string{diff.KindOrphaned, diff.KindUnassigned, diff.KindMissing, diff.KindRoleMismatch, diff.KindIdPConflict, diff.KindDuplicate, diff.KindConflict} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "none")
	}
	fmt.Fprintf(a.stdout, "findings: %s", strings.Join(parts, ", "))
	if unknown > 0 {
		fmt.Fprintf(a.stdout, " (and %d unknown: a source they depend on was incomplete)", unknown)
	}
	fmt.Fprintln(a.stdout)
	if out.Drift != nil {
		d := out.Drift
		fmt.Fprintf(a.stdout, "since snapshot %d: %d appeared, %d resolved, %d escalated, %d accounts created, %d removed, %d role changes, %d status changes\n",
			d.From, len(d.Appeared), len(d.Resolved), len(d.Escalated), len(d.AccountsCreated), len(d.AccountsRemoved), len(d.RoleChanges), len(d.StatusChanges))
	}
}

func (a *app) collectCmd() *cobra.Command {
	var source string
	cmd := &cobra.Command{
		Use:   "collect --source NAME",
		Short: "Run one source and print what it read as JSON; nothing is stored",
		Long: `collect runs one configured source and prints its accounts (addresses, status,
assignment and role) and its completeness record as JSON. Nothing is stored. Use it to
check credentials and selectors. Exits 3 when the source was incomplete.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			srcs, err := pipeline.Build(cfg, a.getenv, a.log)
			if err != nil {
				return err
			}
			var names []string
			for _, s := range srcs {
				if s.Info().Name == source {
					bars := a.newBars()
					res := pipeline.Collect(cmd.Context(), []collectors.Collector{s}, nil, true, a.log, bars.callback())[0]
					bars.done()
					enc := json.NewEncoder(a.stdout)
					enc.SetIndent("", "  ")
					if res.Result.Accounts == nil {
						res.Result.Accounts = []collectors.Account{}
					}
					if err := enc.Encode(struct {
						Source       collectors.Info         `json:"source"`
						Completeness collectors.Completeness `json:"completeness"`
						Accounts     []collectors.Account    `json:"accounts"`
					}{res.Info, res.Result.Completeness, res.Result.Accounts}); err != nil {
						return err
					}
					if !res.Result.Completeness.Complete {
						return &exitError{exitIncomplete, fmt.Errorf("source %s was incomplete: %s", source, strings.Join(res.Result.Completeness.Errors, "; "))}
					}
					return nil
				}
				names = append(names, s.Info().Name)
			}
			return usageErr("--source %q is not configured in %s (configured: %s)", source, cfg.File, strings.Join(names, ", "))
		},
	}
	cmd.Flags().StringVarP(&source, "source", "s", "", "source name (okta, entra, stonly, or a csvfile name)")
	cmd.MarkFlagRequired("source")
	return cmd
}

func (a *app) findingsCmd() *cobra.Command {
	var snapshot int64
	var format, state string
	cmd := &cobra.Command{
		Use:   "findings",
		Short: "List the findings of a snapshot (default: the latest)",
		Long: `findings prints the findings of a snapshot as a table, JSON or CSV.

By default only facts are listed (state "open"); findings that depend on a source
that was incomplete in that run have state "unknown" and are listed with --state
unknown or --state all.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" && format != "csv" {
				return usageErr("--format must be table, json or csv, not %q", format)
			}
			if state != "open" && state != "unknown" && state != "all" {
				return usageErr("--state must be open, unknown or all, not %q", state)
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
				sum, err := st.Get(ctx, snapshot)
				if err != nil {
					return err
				}
				all, err := st.Findings(ctx, sum.ID)
				if err != nil {
					return err
				}
				var fs []diff.Finding
				unknown := 0
				for _, f := range all {
					if f.State == diff.StateUnknown {
						unknown++
					}
					if state == "all" || f.State == state {
						fs = append(fs, f)
					}
				}
				if unknown > 0 && state == "open" {
					fmt.Fprintf(a.stderr, "note: %d findings of snapshot %d are unknown because a source was incomplete; see --state unknown\n", unknown, sum.ID)
				}
				switch format {
				case "json":
					return report.WriteFindingsJSON(a.stdout, fs)
				case "csv":
					return report.WriteFindingsCSV(a.stdout, sum.ID, fs, report.CSVOptions{})
				}
				return report.FindingsTable(a.stdout, fs)
			})
		},
	}
	cmd.Flags().Int64Var(&snapshot, "snapshot", 0, "snapshot ID (default: the latest)")
	cmd.Flags().StringVarP(&format, "format", "f", "table", "output format: table, json or csv")
	cmd.Flags().StringVar(&state, "state", "open", "which findings: open (facts), unknown, or all")
	return cmd
}

func (a *app) snapshotsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "snapshots",
		Short: "List the stored snapshots with their sources' completeness",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
				list, err := st.List(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					if list == nil {
						list = []store.Summary{}
					}
					enc := json.NewEncoder(a.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(list)
				}
				w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tFINISHED (UTC)\tCOMPLETE\tACCOUNTS\tFINDINGS\tSOURCES")
				for _, s := range list {
					var srcs []string
					for _, src := range s.Sources {
						mark := "ok"
						if !src.Completeness.Complete {
							mark = "INCOMPLETE"
						}
						srcs = append(srcs, fmt.Sprintf("%s:%d %s", src.Info.Name, src.Completeness.Records, mark))
					}
					fmt.Fprintf(w, "%d\t%s\t%v\t%d\t%d\t%s\n", s.ID, s.FinishedAt.Format("2006-01-02 15:04:05"), s.Complete, s.Accounts, s.Findings, strings.Join(srcs, ", "))
				}
				return w.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) driftCmd() *cobra.Command {
	var from, to int64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "drift --from ID --to ID",
		Short: "Show what changed between two snapshots",
		Long: `drift compares two snapshots: findings that appeared, were resolved or escalated,
accounts created or removed, role and status changes. Without --to, the latest snapshot;
without --from, the last snapshot before it in which the same sources were complete.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
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
				}
				d, err := st.Drift(ctx, from, toSum.ID)
				if err != nil {
					return err
				}
				if asJSON {
					enc := json.NewEncoder(a.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(d)
				}
				return report.DriftText(a.stdout, d)
			})
		},
	}
	cmd.Flags().Int64Var(&from, "from", 0, "older snapshot ID")
	cmd.Flags().Int64Var(&to, "to", 0, "newer snapshot ID (default: the latest)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) verifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Check the tamper-evident hash chain of every snapshot",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
				res, err := st.Verify(ctx)
				if err != nil {
					return err
				}
				if res.BadID != 0 {
					return fmt.Errorf("snapshot %d does not verify: %s (%d earlier snapshots verified)", res.BadID, res.Problem, res.Checked)
				}
				fmt.Fprintf(a.stdout, "%d snapshots verified: every hash and link of the chain matches\n", res.Checked)
				return nil
			})
		},
	}
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, commit, date, dirty := version(), "unknown", "unknown", ""
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					switch s.Key {
					case "vcs.revision":
						commit = s.Value
					case "vcs.time":
						date = s.Value
					case "vcs.modified":
						if s.Value == "true" {
							dirty = " (modified)"
						}
					}
				}
			}
			fmt.Fprintf(a.stdout, "idgraph %s\ncommit %s%s\nbuilt from a tree dated %s\n", v, commit, dirty, date)
			return nil
		},
	}
}
