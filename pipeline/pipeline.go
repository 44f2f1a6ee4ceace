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

// Options configures one run.
type Options struct {
	Sources []collectors.Collector
	Store   *store.Store
	Policy  Policy
	Logger  *slog.Logger
	Version string
	Full    bool // force full reads
	// AcceptDrop are sources (NAME) or parts (NAME:PART) whose count drop
	// the operator accepts for this run, beside Policy.AcceptDrop.
	AcceptDrop []string
	Progress   func(collectors.Progress)
	Now        func() time.Time
}

// Policy is what a run decides by: plain values, decoded from the
// configuration at the edge (PolicyOf), so that tests and other callers
// state them directly.
type Policy struct {
	// Apps are the applications judged, with their ladders and role rules.
	Apps map[string]diff.App
	// Correlation: domain aliases, plus-addressing and operators' links.
	Aliases   map[string]string
	StripPlus bool
	Links     [][]string
	// MaxDrop is the mass-change guard's fraction (0: the default, 0.2);
	// AcceptDrop the drops the configuration accepts.
	MaxDrop    float64
	AcceptDrop []string
	// SourceTimeout bounds one source's read (0: 30 minutes); StopGrace
	// is how long a source may take to return once past it before the run
	// goes on without it (0: 30 seconds).
	SourceTimeout time.Duration
	StopGrace     time.Duration
	ConfigHash    string // recorded in the snapshot, for evidence
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
	grace, limit := o.Policy.StopGrace, o.Policy.SourceTimeout
	if grace <= 0 {
		grace = defaultStopGrace
	}
	if limit <= 0 {
		limit = config.DefaultSourceTimeout
	}
	results := collect(ctx, o.Sources, prior, o.Full, bound{limit, grace}, log, o.Progress)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("run cancelled: %w", err)
	}
	resolveSingleApp(results, o.Policy.Apps)
	guard(ctx, o, results, log)

	snap := &store.Snapshot{StartedAt: started, ConfigHash: o.Policy.ConfigHash, Version: o.Version}
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
	g, err := graph.Correlate(accounts, graph.Options{Aliases: o.Policy.Aliases,
		StripPlus: o.Policy.StripPlus, Links: o.Policy.Links, IdPs: idps, Prior: priorIDs})
	if err != nil {
		return nil, fmt.Errorf("correlating accounts: %w", err)
	}
	snap.Graph = g
	warnRejected(snap, g, log)
	in := diff.Input{Graph: g, Sources: sources, Apps: o.Policy.Apps}
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
