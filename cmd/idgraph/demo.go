package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/stonly"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/internal/demo"
	"github.com/idgraph/idgraph/pipeline"
	"github.com/idgraph/idgraph/remediation"
	"github.com/idgraph/idgraph/review"
	"github.com/idgraph/idgraph/store"
)

func (a *app) demoCmd() *cobra.Command {
	var dir string
	var people int
	var force bool
	cmd := &cobra.Command{
		Use:   "demo [--dir idgraph-demo] [--people 300] [--force]",
		Short: "Run idgraph end to end against built-in simulators of Okta, Entra ID and Stonly",
		Long: `demo starts local simulators of the Okta API, Microsoft Graph and Stonly's web app (read
in headless Chromium, so Chromium must be installed) with a demo company of a few hundred
people, and runs idgraph twice: "yesterday" and "today", after overnight changes. It writes
into --dir a configuration, a fresh store, the access-review report, the auditor CSVs with
their manifests, and the alerts the security team's webhook received. Nothing leaves
this machine.

--dir must be new, empty, or a folder the demo made before (it leaves a
.idgraph-demo file there): each demo replaces its own configuration, store and
reports, so it refuses a folder holding anything else, as init does, unless --force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if people < 40 {
				return usageErr("--people must be at least 40")
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			if err := checkDemoDir(abs, force); err != nil {
				return err
			}
			if _, err := stonly.ChromiumPath(""); err != nil {
				return fmt.Errorf("the demo reads the Stonly replica in a real headless browser, and %v.\nOn Debian or Ubuntu: sudo apt-get install -y chromium", err)
			}
			if err := prepareDemoDir(abs); err != nil {
				return err
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
			job, err := a.job(cfg, env.Getenv, pipeline.Options{Now: yesterday})
			if err != nil {
				return err
			}
			reports := job.ReportDir
			job.ReportDir = "" // yesterday's run writes no reports
			if _, err := a.execute(ctx, job); err != nil {
				return err
			}
			env.Overnight()
			fmt.Fprintln(a.stdout, "\n== overnight: Quentin leaves but keeps Stonly Admin, Frank is made Stonly Admin, Carol is assigned, Nora joins")
			fmt.Fprintln(a.stdout, "\n== run 2 (today)")
			job.Run.Now, job.ReportDir = nil, reports
			out, err := a.execute(ctx, job)
			if err != nil {
				return err
			}
			if len(out.Incomplete) > 0 {
				return &exitError{exitIncomplete, fmt.Errorf("a source was incomplete: %s", strings.Join(out.Incomplete, "; "))}
			}
			fmt.Fprintln(a.stdout, "\n== review and remediation: Mallory's Stonly Admin account and Peggy's Notion account revoked, carried out in the apps")
			if err := a.demoRemediate(ctx, cfg, env.Getenv, out.Outcome); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, "\n== run 3 (the next read proves the changes)")
			if out, err = a.execute(ctx, job); err != nil {
				return err
			}
			a.demoSummary(env, out.Outcome)
			if len(out.Incomplete) > 0 {
				return &exitError{exitIncomplete, fmt.Errorf("a source was incomplete: %s", strings.Join(out.Incomplete, "; "))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "idgraph-demo", "folder for the demo's configuration, store and reports: new, empty, or made by the demo")
	cmd.Flags().BoolVar(&force, "force", false, "use a folder that was not made by the demo, replacing the demo's files there (idgraph.yaml, idgraph.db, report/, …)")
	cmd.Flags().IntVar(&people, "people", 300, "people in the demo company")
	return cmd
}

// demoMarker is the file by which the demo knows a folder it made.
const demoMarker = ".idgraph-demo"

// demoFiles are what a demo writes into its folder and replaces on the
// next demo. Nothing else there is touched.
var demoFiles = []string{"idgraph.yaml", "idgraph.db", "idgraph.db-wal", "idgraph.db-shm", "alerts.jsonl", "report", "stonly-debug"}

// checkDemoDir refuses a folder the demo did not make: new, empty, and
// marked folders are the demo's, any other is refused unless force,
// because the demo would replace a real store and configuration there
// (docs/RULES.md: no command silently replaces an existing store or
// configuration).
func checkDemoDir(dir string, force bool) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		if fi, serr := os.Stat(dir); serr == nil && !fi.IsDir() {
			return usageErr("--dir %s is a file, not a folder", dir)
		}
		return fmt.Errorf("reading the demo folder: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, demoMarker)); len(entries) == 0 || err == nil || force {
		return nil
	}
	var names []string
	for _, e := range entries[:min(len(entries), 5)] {
		names = append(names, e.Name())
	}
	if len(entries) > 5 {
		names = append(names, "…")
	}
	return usageErr("%s is not empty and was not made by the demo (it holds %s); the demo would replace "+
		"idgraph.yaml, idgraph.db and report/ there. Use a new or empty folder (--dir), or pass --force to replace them",
		dir, strings.Join(names, ", "))
}

// prepareDemoDir makes a folder that checkDemoDir accepted ready: it
// removes the files an earlier demo wrote (nothing else) and marks it.
func prepareDemoDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the demo folder: %w", err)
	}
	for _, name := range demoFiles {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("removing the previous demo's %s: %w", name, err)
		}
	}
	marker := []byte("This folder was made by `idgraph demo`, which replaces its files here on every run.\n")
	if err := os.WriteFile(filepath.Join(dir, demoMarker), marker, 0o600); err != nil {
		return fmt.Errorf("marking the demo folder: %w", err)
	}
	return nil
}

func (a *app) demoSummary(env *demo.Env, out *pipeline.Outcome) {
	wd, _ := os.Getwd()
	rel := func(p string) string {
		if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
		return p
	}
	fmt.Fprintf(a.stdout, "\n== done\nfindings today: %s\n", findingCounts(out.Snapshot.Findings, !out.Snapshot.Complete()))
	fmt.Fprintf(a.stdout, "\nopen the report:     %s\n", rel(filepath.Join(env.Dir, "report", "report.html")))
	fmt.Fprintf(a.stdout, "auditor evidence:    %s (+ .manifest.json), %s\n", rel(filepath.Join(env.Dir, "report", "accounts.csv")), rel(filepath.Join(env.Dir, "report", "findings.csv")))
	fmt.Fprintf(a.stdout, "alerts received:     %s (HMAC-verified by the demo's webhook)\n", rel(env.AlertsFile))
	fmt.Fprintf(a.stdout, "explore the store:   go run ./cmd/idgraph findings -c %s   (also: snapshots, drift, verify, export, report)\n", rel(env.Config))
}

// demoRemediate is the review's end of the demo: two revocations decided
// (the privileged one confirmed by a second reviewer) and carried out in
// the applications by a third person, through the same engine as
// `idgraph remediate apply --yes`. The next run proves them.
func (a *app) demoRemediate(ctx context.Context, cfg *config.Config, getenv func(string) string, out *pipeline.Outcome) error {
	unlock, err := store.Lock(cfg.Path(cfg.Store))
	if err != nil {
		return err
	}
	defer unlock()
	st, err := a.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	rv := reviewingOf(cfg)
	targets := []struct{ app, email, why string }{
		{"stonly", "mallory.ext@gmail.com", "unknown to every IdP, Admin in Sales Playbooks: not ours"},
		{"notion", "peggy.suspended@acme.com", "suspended in November; the account should have gone with her"},
	}
	for _, t := range targets {
		var key string
		for _, f := range out.Snapshot.Findings {
			if f.App == t.app && f.Email == t.email && f.Kind == diff.KindOrphaned {
				key = f.Key
			}
		}
		if key == "" {
			return fmt.Errorf("demo: no orphaned finding of %s in %s to revoke", t.email, t.app)
		}
		d, _, err := st.Submit(ctx, rv, key, review.Request{Decision: string(review.Revoke), Justification: t.why, Reviewer: "security@acme.com", Now: time.Now()})
		if err != nil {
			return fmt.Errorf("demo: revoking %s in %s: %w", t.email, t.app, err)
		}
		fmt.Fprintf(a.stdout, "decided: revoke %s in %s (security@acme.com)", t.email, t.app)
		if d.NeedsSecond {
			if _, _, err := st.ConfirmFinding(ctx, rv, key, "it-apps@acme.com", time.Now()); err != nil {
				return fmt.Errorf("demo: confirming the revocation of %s: %w", t.email, err)
			}
			fmt.Fprint(a.stdout, ", confirmed by it-apps@acme.com (four eyes: privileged access)")
		}
		fmt.Fprintln(a.stdout)
	}
	srcs, err := pipeline.Build(cfg, getenv, a.log)
	if err != nil {
		return err
	}
	acts, manual, err := actorsOf(srcs)
	if err != nil {
		return err
	}
	res, err := a.engine(cfg, st, acts, manual).Apply(ctx, remediation.Request{Yes: true, Applier: "it-admin@acme.com"})
	if err != nil {
		return fmt.Errorf("demo: remediation: %w", err)
	}
	for _, b := range res.Batches {
		for _, r := range b.Runs {
			fmt.Fprintf(a.stdout, "applied by it-admin@acme.com: %s %s in %s: %s\n", r.Item.Op, r.Item.Email, b.App, r.Outcome)
		}
	}
	return nil
}
