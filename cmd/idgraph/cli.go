package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/collectors"
	_ "github.com/idgraph/idgraph/collectors/all" // built-in sources
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/store"
)

// Exit codes (docs/RULES.md).
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
	var re *reportsError
	code := exitFailed
	switch {
	case errors.As(err, &ee):
		code = ee.code
	case errors.As(err, &re):
		// The snapshot is stored: not a failed run (exit 1 would make a
		// scheduler run again and store a duplicate).
		code = exitIncomplete
	case errors.As(err, &ce):
		code = exitUsage
	case errors.Is(err, store.ErrNoStore), errors.Is(err, store.ErrNotStore), errors.Is(err, store.ErrSchema),
		errors.Is(err, store.ErrNoSnapshot):
		// The store or snapshot named does not exist or cannot be read as
		// one: the configuration or the arguments are wrong, and a retry
		// will not help.
		code = exitUsage
	case isUsage(err):
		code = exitUsage
	}
	if code != exitIncomplete || err.Error() != "" {
		fmt.Fprintln(stderr, "idgraph:", err.Error()+hint(err))
	}
	return code
}

// hint is what the CLI adds to an error of the packages below it, which
// say what is wrong but not which command fixes it.
func hint(err error) string {
	switch {
	case errors.Is(err, store.ErrNoSnapshot) && strings.Contains(err.Error(), "no snapshot yet"):
		return "; run `idgraph run` first"
	case errors.Is(err, store.ErrNoSnapshot):
		return " (see `idgraph snapshots`)"
	case errors.Is(err, store.ErrNoStore):
		return " with `idgraph run`"
	case errors.Is(err, store.ErrSchemaOlder):
		return " (`idgraph run` writes)"
	case errors.Is(err, store.ErrNoDecision):
		return " (see `idgraph decisions`)"
	case errors.Is(err, store.ErrNoFinding) && strings.Contains(err.Error(), "the latest snapshot"):
		return "; `idgraph findings` lists their IDs"
	case errors.Is(err, store.ErrNoFinding) && strings.Contains(err.Error(), "has no item"):
		return "; `idgraph campaign show` lists them"
	case errors.Is(err, store.ErrNoCampaign):
		return " (see `idgraph campaign list`)"
	case errors.Is(err, store.ErrChain):
		return "; run `idgraph verify`"
	}
	return ""
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
		a.exportCmd(), a.reportCmd(), a.peopleCmd(), a.demoCmd(), a.initCmd(), a.doctorCmd(), a.serveCmd(),
		newDecideCmd(a), newDecisionsCmd(a), newCampaignCmd(a), newEvidenceCmd(a), newRemediateCmd(a))
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

// openStore opens the store for a command that writes: it is created when
// missing and migrated when older than this binary.
func (a *app) openStore(ctx context.Context, cfg *config.Config) (*store.Store, error) {
	return store.Open(ctx, cfg.Path(cfg.Store))
}

// withStore loads the configuration and opens the store for f, for a
// command that writes.
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

// withReadStore loads the configuration and opens the store read-only for
// f: the commands that only read (findings, snapshots, drift, verify,
// report, export, people) work on a store they may not write, never
// create one on a mistyped path, and never migrate one.
func (a *app) withReadStore(ctx context.Context, f func(context.Context, *config.Config, *store.Store) error) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	st, err := store.OpenReadOnly(ctx, cfg.Path(cfg.Store))
	if err != nil {
		return err
	}
	defer st.Close()
	return f(ctx, cfg, st)
}
