// Package pipeline runs idgraph's job once: collect from every configured
// source concurrently, correlate, evaluate findings, and write the
// snapshot. The CLI, the demo and the service all run it.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/graph"
	"github.com/idgraph/idgraph/store"
)

// Build makes the collectors the configuration names, through the registry.
func Build(cfg *config.Config, getenv func(string) string, log *slog.Logger) ([]collectors.Collector, error) {
	env := collectors.Env{File: cfg.File, Dir: cfg.Dir, Getenv: getenv, Logger: log}
	var out []collectors.Collector
	names := map[string]bool{}
	for _, sn := range cfg.Sources {
		f, ok := collectors.Lookup(sn.Name)
		if !ok {
			return nil, &config.Error{Err: fmt.Errorf("%s: unknown source %q", cfg.File, sn.Name)}
		}
		cs, err := f(sn.Node, env)
		if err != nil {
			var ce *config.Error
			if !errors.As(err, &ce) {
				err = &config.Error{Err: err}
			}
			return nil, err
		}
		for _, c := range cs {
			n := c.Info().Name
			if names[n] {
				return nil, &config.Error{Err: fmt.Errorf("%s: two sources are named %q; names must be unique", cfg.File, n)}
			}
			names[n] = true
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, &config.Error{Err: fmt.Errorf("%s: no source is configured (add okta, entra, stonly or csvfile)", cfg.File)}
	}
	return out, nil
}

// Options configures one run.
type Options struct {
	Config  *config.Config
	Sources []collectors.Collector
	// Apps are the applications judged, with their role rules (Apps).
	Apps       map[string]diff.App
	Store      *store.Store
	Logger     *slog.Logger
	Version    string
	Full       bool     // force full reads
	AcceptDrop []string // sources whose count drop the operator accepts
	Progress   func(collectors.Progress)
	Now        func() time.Time
	// StopGrace is how long a source may take to return once its deadline
	// (config guard.source_timeout) has passed before the run goes on
	// without it; default 30s.
	StopGrace time.Duration
}

// Outcome is what a run produced.
type Outcome struct {
	Snapshot   *store.Snapshot
	Baseline   int64       // snapshot the drift compares with; 0: none
	Drift      *diff.Drift // nil without a baseline
	Incomplete []string    // sources that were incomplete, with why
}

// Collected is one source's result after the pipeline's checks.
type Collected struct {
	Info   collectors.Info
	Result *collectors.Result
}

// Run performs one full run and writes its snapshot.
func Run(ctx context.Context, o Options) (*Outcome, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	started := now().UTC()
	prior := &priorRuns{st: o.Store}
	grace := o.StopGrace
	if grace <= 0 {
		grace = defaultStopGrace
	}
	results := collect(ctx, o.Sources, prior, o.Full, bound{o.Config.SourceTimeout(), grace}, log, o.Progress)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("run cancelled: %w", err)
	}
	resolveSingleApp(results, o.Apps)
	guard(ctx, o, results, log)

	snap := &store.Snapshot{StartedAt: started, ConfigHash: o.Config.Hash, Version: o.Version}
	var accounts []collectors.Account
	sources := map[string]diff.Source{}
	idps := map[string]bool{}
	for _, c := range results {
		snap.Sources = append(snap.Sources, store.Source{Info: c.Info, Completeness: c.Result.Completeness, State: c.Result.State})
		accounts = append(accounts, c.Result.Accounts...)
		src := diff.Source{Kind: c.Info.Kind, App: c.Info.App, Complete: c.Result.Completeness.Complete}
		for _, p := range c.Result.Policies {
			if p.OpenAccess {
				if src.Open == nil {
					src.Open = map[string]string{}
				}
				src.Open[p.App] = strings.TrimPrefix(src.Open[p.App]+"; "+p.Detail, "; ")
			}
		}
		sources[c.Info.Name] = src
		if c.Info.Kind == collectors.KindIdP {
			idps[c.Info.Name] = true
		}
	}
	// The previous snapshot, whatever its completeness: people keep the IDs
	// it gave them, and its findings are carried when a source fails now.
	var latest int64
	if sum, err := o.Store.Get(ctx, 0); err == nil {
		latest = sum.ID
	} else if !errors.Is(err, store.ErrNoSnapshot) {
		return nil, err
	}
	var priorIDs map[string]string
	if latest > 0 {
		var err error
		if priorIDs, err = o.Store.PersonIDs(ctx, latest); err != nil {
			return nil, err
		}
	}
	graph.SortAccounts(accounts)
	links := make([][]string, 0, len(o.Config.Links))
	for _, l := range o.Config.Links {
		links = append(links, l.Accounts)
	}
	g, err := graph.Correlate(accounts, graph.Options{Aliases: o.Config.Domains.Aliases,
		StripPlus: o.Config.Domains.StripPlus, Links: links, IdPs: idps, Prior: priorIDs})
	if err != nil {
		return nil, fmt.Errorf("correlating accounts: %w", err)
	}
	snap.Graph = g
	warnRejected(snap, g, log)
	in := diff.Input{Graph: g, Sources: sources, Apps: o.Apps}
	snap.Findings, snap.Expected = diff.Analyze(in)
	log.Info("correlated", "accounts", len(g.Accounts), "people", len(g.People),
		"conflicts", len(g.Conflicts), "findings", len(snap.Findings))

	var complete []string
	out := &Outcome{Snapshot: snap}
	for _, s := range snap.Sources {
		if s.Completeness.Complete {
			complete = append(complete, s.Info.Name)
		} else {
			msg := strings.Join(s.Completeness.Errors, "; ")
			if !strings.HasPrefix(msg, s.Info.Name+":") {
				msg = s.Info.Name + ": " + msg
			}
			out.Incomplete = append(out.Incomplete, msg)
		}
	}
	// The baseline is the last snapshot in which the sources complete now
	// were complete too: a failed read never becomes "everything resolved".
	if out.Baseline, err = o.Store.Baseline(ctx, 0, complete); err != nil {
		return nil, err
	}
	if err := carryFirstSeen(ctx, o.Store, out.Baseline, snap.Findings); err != nil {
		return nil, err
	}
	if snap.Findings, err = carryUnknown(ctx, o.Store, latest, snap.Sources, snap.Findings); err != nil {
		return nil, err
	}
	snap.FinishedAt = now().UTC()
	if err := o.Store.WriteSnapshot(ctx, snap); err != nil {
		return nil, err
	}
	log.Info("snapshot written", "snapshot", snap.ID, "hash", snap.Hash[:12])
	if out.Baseline > 0 {
		// The snapshot just written is at hand: compare it as it is in
		// memory instead of reading it back.
		inc := map[string]bool{}
		for _, s := range snap.Sources {
			if !s.Completeness.Complete {
				inc[s.Info.Name] = true
			}
		}
		// The baseline is usually the snapshot the incremental sources
		// started from: its accounts are then in memory already.
		d, err := o.Store.DriftTo(ctx, out.Baseline, prior.loaded(out.Baseline),
			diff.Snapshot{ID: snap.ID, Findings: snap.Findings, Accounts: g.Accounts, Incomplete: inc})
		if err != nil {
			return nil, err
		}
		out.Drift = d
	}
	return out, nil
}
