package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/stonly"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/demo"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/pipeline"
	"github.com/idgraph/idgraph/report/alert"
	"github.com/idgraph/idgraph/store"
)

func (a *app) demoCmd() *cobra.Command {
	var dir string
	var people int
	cmd := &cobra.Command{
		Use:   "demo [--dir idgraph-demo] [--people 300]",
		Short: "Run idgraph end to end against built-in simulators of Okta, Entra ID and Stonly",
		Long: `demo starts local simulators of the Okta API, Microsoft Graph and Stonly's web app (read
in headless Chromium, so Chromium must be installed) with a demo company of a few hundred
people, and runs idgraph twice: "yesterday" and "today", after overnight changes. It writes
into --dir a configuration, a fresh store, the access-review report, the auditor CSVs with
their manifests, and the alerts the security team's webhook received. Nothing leaves
this machine.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if _, err := stonly.ChromiumPath(""); err != nil {
				return fmt.Errorf("the demo reads the Stonly replica in a real headless browser, and %v.\nOn Debian or Ubuntu: sudo apt-get install -y chromium", err)
			}
			if people < 40 {
				return usageErr("--people must be at least 40")
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			for _, old := range []string{"idgraph.db", "idgraph.db-wal", "idgraph.db-shm", "alerts.jsonl", "report", "stonly-debug"} {
				os.RemoveAll(filepath.Join(abs, old)) // a fresh store each time; nothing else is touched
			}
			env, err := demo.Start(demo.New(people), abs)
			if err != nil {
				return fmt.Errorf("starting the simulators: %w", err)
			}
			defer env.Close()
			fmt.Fprintf(a.stdout, "simulators: Okta %s, Microsoft Graph %s, Stonly %s (%d people)\n", env.Okta.URL, env.Graph.URL, env.Stonly.URL, len(env.Company.People))
			cfg, err := config.Load(env.Config, collectors.Names())
			if err != nil {
				return err
			}
			yesterday := func() time.Time { return time.Now().Add(-24 * time.Hour) }
			fmt.Fprintln(a.stdout, "\n== run 1 (yesterday)")
			if _, _, err := a.execute(ctx, cfg, env.Getenv, pipeline.Options{Now: yesterday}, false); err != nil {
				return err
			}
			env.Overnight()
			fmt.Fprintln(a.stdout, "\n== overnight: Quentin leaves but keeps Stonly Admin, Frank is made Stonly Admin, Carol is assigned, Nora joins")
			fmt.Fprintln(a.stdout, "\n== run 2 (today)")
			out, _, err := a.execute(ctx, cfg, env.Getenv, pipeline.Options{}, true)
			if err != nil {
				return err
			}
			a.demoSummary(env, out)
			if len(out.Incomplete) > 0 {
				return &exitError{exitIncomplete, fmt.Errorf("a source was incomplete: %s", strings.Join(out.Incomplete, "; "))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "idgraph-demo", "folder for the demo's configuration, store and reports")
	cmd.Flags().IntVar(&people, "people", 300, "people in the demo company")
	return cmd
}

func (a *app) demoSummary(env *demo.Env, out *pipeline.Outcome) {
	counts := map[string]int{}
	for _, f := range out.Snapshot.Findings {
		if f.State == diff.StateOpen {
			counts[f.Kind]++
		}
	}
	wd, _ := os.Getwd()
	rel := func(p string) string {
		if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
		return p
	}
	fmt.Fprintf(a.stdout, "\n== done\nfindings today:")
	for _, k := range []string{diff.KindOrphaned, diff.KindUnassigned, diff.KindMissing, diff.KindRoleMismatch, diff.KindIdPConflict, diff.KindDuplicate, diff.KindConflict} {
		fmt.Fprintf(a.stdout, " %s %d,", k, counts[k])
	}
	fmt.Fprintf(a.stdout, "\n\nopen the report:     %s\n", rel(filepath.Join(env.Dir, "report", "report.html")))
	fmt.Fprintf(a.stdout, "auditor evidence:    %s (+ .manifest.json), %s\n", rel(filepath.Join(env.Dir, "report", "accounts.csv")), rel(filepath.Join(env.Dir, "report", "findings.csv")))
	fmt.Fprintf(a.stdout, "alerts received:     %s (HMAC-verified by the demo's webhook)\n", rel(env.AlertsFile))
	fmt.Fprintf(a.stdout, "explore the store:   go run ./cmd/idgraph findings -c %s   (also: snapshots, drift, verify, export, report)\n", rel(env.Config))
}

// execute is one run with its alerts and, when reports is set, the
// configured reports: shared by run, demo and serve.
func (a *app) execute(ctx context.Context, cfg *config.Config, getenv func(string) string, o pipeline.Options, reports bool) (*pipeline.Outcome, alert.Result, error) {
	var ares alert.Result
	srcs, err := pipeline.Build(cfg, getenv, a.log)
	if err != nil {
		return nil, ares, err
	}
	sinks, err := alert.Sinks(cfg.Alerts, cfg.File, getenv)
	if err != nil {
		return nil, ares, err
	}
	unlock, err := store.Lock(cfg.Path(cfg.Store))
	if err != nil {
		return nil, ares, err
	}
	defer unlock()
	st, err := a.openStore(ctx, cfg)
	if err != nil {
		return nil, ares, err
	}
	defer st.Close()
	o.Config, o.Sources, o.Store, o.Logger, o.Version = cfg, srcs, st, a.log, version()
	bars := a.newBars()
	o.Progress = bars.callback()
	out, err := pipeline.Run(ctx, o)
	bars.done()
	if err != nil {
		return nil, ares, err
	}
	a.printRunSummary(out)
	ares, err = a.afterRun(ctx, cfg, st, out, sinks, reports)
	if err != nil {
		return nil, ares, err
	}
	return out, ares, nil
}
