package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/deploy"
	"github.com/idgraph/idgraph/pipeline"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/report/alert"
	"github.com/idgraph/idgraph/store"
)

func (a *app) initCmd() *cobra.Command {
	var out string
	var force, system bool
	cmd := &cobra.Command{
		Use:   "init [--out idgraph.yaml] [--system] [--force]",
		Short: "Write a commented example configuration to start from",
		Long: `init writes the commented example configuration (every source, the role mapping, the
alerts and a serve section whose reviewers and session key are read from IDGRAPH_USERS and
IDGRAPH_SESSION_SECRET) with mode 0600. Relative paths in it resolve against the file's folder.

With --system it writes the configuration that deploy/systemd/idgraph.service reads
(default --out /etc/idgraph/idgraph.yaml), readable by the service's user (mode 0644: it
names secrets, never holds them): the unit's ProtectSystem=strict keeps /etc/idgraph
read-only, so the files a run writes (the store, the reports, Stonly's page captures) are
given as absolute paths in the unit's StateDirectory, /var/lib/idgraph.

An existing file is never replaced without --force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			content, mode := config.Example, os.FileMode(0o600)
			var sys deploy.SystemInstall
			if system {
				var err error
				if sys, err = deploy.System(); err != nil {
					return err
				}
				if content, err = deploy.SystemConfig(config.Example, sys.StateDir); err != nil {
					return fmt.Errorf("writing the system configuration: %w", err)
				}
				mode = 0o644
				if !cmd.Flags().Changed("out") {
					out = sys.Config
				}
				if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
					return fmt.Errorf("making the configuration's folder: %w", err)
				}
			}
			if out == "-" {
				_, err := a.stdout.Write(content)
				return err
			}
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(out, flags, mode)
			if errors.Is(err, fs.ErrExist) {
				return usageErr("%s exists; pass --force to overwrite it", out)
			}
			if err != nil {
				return err
			}
			if _, err := f.Write(content); err != nil {
				f.Close()
				return err
			}
			if err := f.Chmod(mode); err != nil { // --force over a file of another mode
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			if system {
				fmt.Fprintf(a.stdout, "wrote %s for deploy/systemd/idgraph.service: the store, reports and page captures go to %s;\n"+
					"put the secrets it names in /etc/idgraph/secrets.env (mode 0600), then run `idgraph doctor -c %s`\n", out, sys.StateDir, out)
				return nil
			}
			fmt.Fprintf(a.stdout, "wrote %s: set the environment variables it names, then run `idgraph doctor -c %s`\n", out, out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "idgraph.yaml", "file to write; - for standard output")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	cmd.Flags().BoolVar(&system, "system", false, "write the configuration of deploy/systemd/idgraph.service (/etc/idgraph/idgraph.yaml, state in /var/lib/idgraph)")
	return cmd
}

// checkColumn is the width doctor pads check names to, so that details
// line up; a longer name is printed whole and pushes its detail along.
const checkColumn = 34

// writeCheck prints one doctor line: the mark, the check's whole name and
// its detail, and for a failure the fix on the next line. Names are never
// cut: two checks that differ only at the end must stay apart.
func writeCheck(w io.Writer, ok bool, what, detail, fix string) {
	mark := "ok  "
	if !ok {
		mark = "FAIL"
	}
	fmt.Fprintf(w, "%s  %-*s %s\n", mark, checkColumn, report.Terminal(what, -1), report.Terminal(detail, 300))
	if !ok && fix != "" {
		fmt.Fprintf(w, "      fix: %s\n", report.Terminal(fix, 300))
	}
}

func (a *app) doctorCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check the configuration, secrets, permissions and reachability of every source",
		Long: `doctor checks a configuration without a full run and prints one line per check, with a
fix for each failure: the file is valid; each secret's environment variable is set (never
printed); each source is reachable and its credentials hold the permissions idgraph needs
(Okta: users, the Stonly app, groups; Entra: a token, User.Read.All, Application.Read.All,
GroupMember.Read.All; Stonly: the browser, the login, Team Management); the alert sinks'
variables are set; serve's variables (token_env, users_env, session_secret_env) hold usable
values, its schedule is a cron expression (the line says when the next run is due, in
serve.timezone or the machine's zone) and its TLS certificate loads; the store is writable
and private (mode 0600). Check names are printed whole, however long.

Exit codes: 0 when every check passes, 1 when one fails, 2 when the configuration is invalid.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			failed := 0
			line := func(ok bool, what, detail, fix string) {
				if !ok {
					failed++
				}
				writeCheck(a.stdout, ok, what, detail, fix)
			}
			cfg, err := a.loadConfig()
			if err != nil {
				line(false, "configuration", err.Error(), "")
				return &exitError{exitUsage, errors.New("the configuration is invalid")}
			}
			line(true, "configuration", cfg.File+" is valid", "")
			// The sources are built as a run builds them (pipeline.BuildEach),
			// going on past one that fails.
			var built []collectors.Collector
			for _, b := range pipeline.BuildEach(cfg, a.getenv, a.log) {
				if b.Err != nil {
					line(false, b.Key+": configuration and secrets", b.Err.Error(), "set the environment variable named, or fix the key")
					continue
				}
				built = append(built, b.Collectors...)
				for _, c := range b.Collectors {
					name := c.Info().Name
					line(true, name+": configuration and secrets", "set", "")
					ch, ok := c.(collectors.Checker)
					if !ok {
						continue
					}
					cctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
					for _, r := range ch.Check(cctx) {
						line(r.OK, name+": "+r.Name, r.Detail, r.Fix)
					}
					cancel()
				}
			}
			// The role rules against the applications the sources declare.
			if pol, err := pipeline.PolicyOf(cfg, built); err != nil {
				line(false, "roles", err.Error(), "fix the rule: each role must be one of its application's roles")
			} else {
				for _, name := range slices.Sorted(maps.Keys(pol.Apps)) {
					app := pol.Apps[name]
					line(true, "application "+name, fmt.Sprintf("%s, roles %s, %s", app.TitleOf(), strings.Join(app.Ladder, " < "),
						report.Plural(len(app.Rules), "role rule", "role rules")), "")
				}
			}
			if _, err := alert.Sinks(cfg.Alerts, cfg.File, a.getenv); err != nil {
				line(false, "alerts", err.Error(), "set the environment variable named")
			} else if cfg.Alerts.Slack != nil || cfg.Alerts.Webhook != nil {
				line(true, "alerts", "sink secrets set", "")
			}
			if serveConfigured(cfg.Serve) {
				_, checks := checkServe(cfg, a.getenv)
				for _, c := range checks {
					if c.err != nil {
						line(false, c.name, c.err.Error(), c.fix)
					} else {
						line(true, c.name, c.detail, "")
					}
				}
			}
			path := cfg.Path(cfg.Store)
			switch fi, err := os.Stat(path); {
			case err == nil && fi.Mode().Perm()&0o077 != 0:
				line(false, "store", fmt.Sprintf("%s has mode %o: others can read the evidence", path, fi.Mode().Perm()), "chmod 600 "+path)
			case err == nil:
				// Read-only: doctor checks, it never migrates or creates.
				if st, err := store.OpenReadOnly(ctx, path); errors.Is(err, store.ErrSchemaOlder) {
					line(true, "store", err.Error(), "")
				} else if err != nil {
					line(false, "store", err.Error(), "check the file")
				} else {
					v, _ := st.SchemaVersion(ctx)
					st.Close()
					line(true, "store", fmt.Sprintf("%s opens (schema %d), mode 0600", path, v), "")
				}
			default:
				probe, err := os.CreateTemp(filepath.Dir(path), ".idgraph-doctor-*")
				if err != nil {
					line(false, "store", "cannot create "+path+": "+err.Error(), "create the folder or fix its permissions")
				} else {
					probe.Close()
					os.Remove(probe.Name())
					line(true, "store", path+" will be created with mode 0600", "")
				}
			}
			if failed > 0 {
				return &exitError{exitFailed, fmt.Errorf("%d check(s) failed", failed)}
			}
			fmt.Fprintln(a.stdout, "all checks passed")
			return nil
		},
	}
}
