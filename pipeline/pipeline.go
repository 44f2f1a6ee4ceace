// Package pipeline runs idgraph's job once: collect from every configured
// source concurrently, correlate, evaluate findings, and write the
// snapshot. The CLI, the demo and the service all run it.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
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

// Incremental is implemented by sources that read only changes when given
// the previous snapshot's accounts and state.
type Incremental interface {
	Incremental() bool
}

// Options configures one run.
type Options struct {
	Config     *config.Config
	Sources    []collectors.Collector
	Store      *store.Store
	Logger     *slog.Logger
	Version    string
	Full       bool     // force full reads
	AcceptDrop []string // sources whose count drop the operator accepts
	Progress   func(collectors.Progress)
	Now        func() time.Time
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
	results := collect(ctx, o.Sources, prior, o.Full, log, o.Progress)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("run cancelled: %w", err)
	}
	guard(ctx, o, results, log)

	snap := &store.Snapshot{StartedAt: started, ConfigHash: o.Config.Hash, Version: o.Version}
	var accounts []collectors.Account
	sources := map[string]diff.Source{}
	idps := map[string]bool{}
	for _, c := range results {
		snap.Sources = append(snap.Sources, store.Source{Info: c.Info, Completeness: c.Result.Completeness, State: c.Result.State})
		accounts = append(accounts, c.Result.Accounts...)
		sources[c.Info.Name] = diff.Source{Kind: c.Info.Kind, App: c.Info.App, Complete: c.Result.Completeness.Complete}
		if c.Info.Kind == collectors.KindIdP {
			idps[c.Info.Name] = true
		}
	}
	graph.SortAccounts(accounts)
	links := make([][]string, 0, len(o.Config.Links))
	for _, l := range o.Config.Links {
		links = append(links, l.Accounts)
	}
	g, err := graph.Correlate(accounts, graph.Options{Aliases: o.Config.Domains.Aliases,
		StripPlus: o.Config.Domains.StripPlus, Links: links, IdPs: idps})
	if err != nil {
		return nil, fmt.Errorf("correlating accounts: %w", err)
	}
	snap.Graph = g
	warnRejected(snap, g, log)
	in := diff.Input{Graph: g, Sources: sources, Roles: o.Config.Roles}
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

// warnRejected records, on each source's completeness, the addresses that
// could not be normalised and so played no part in matching: nothing a
// source reported is dropped without a word.
func warnRejected(snap *store.Snapshot, g *graph.Graph, log *slog.Logger) {
	bySource := map[string][]graph.Conflict{}
	for _, r := range g.Rejected {
		src, _, _ := strings.Cut(r.Accounts[0], ":")
		bySource[src] = append(bySource[src], r)
	}
	for i := range snap.Sources {
		c := &snap.Sources[i].Completeness
		rs := bySource[snap.Sources[i].Info.Name]
		for k, r := range rs {
			if k == 5 {
				c.Warnings = append(c.Warnings, fmt.Sprintf("... %d addresses not used for matching in all", len(rs)))
				break
			}
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: an address was not used for matching: %s", r.Accounts[0], r.Reason))
		}
		if len(rs) > 0 {
			log.Warn("addresses not used for matching", "source", snap.Sources[i].Info.Name, "count", len(rs))
		}
	}
}

// carryFirstSeen keeps each finding's first-seen from the baseline or, if
// absent there, from the latest snapshot.
func carryFirstSeen(ctx context.Context, st *store.Store, baseline int64, fs []diff.Finding) error {
	latest, err := st.Get(ctx, 0)
	if errors.Is(err, store.ErrNoSnapshot) {
		return nil
	}
	if err != nil {
		return err
	}
	seen := map[string]diff.Finding{}
	for _, id := range []int64{latest.ID, baseline} {
		if id == 0 {
			continue
		}
		m, err := st.FirstSeen(ctx, id)
		if err != nil {
			return err
		}
		for k, v := range m {
			if old, ok := seen[k]; !ok || v.FirstSnap < old.FirstSnap {
				seen[k] = v
			}
		}
	}
	for i := range fs {
		if v, ok := seen[fs[i].Key]; ok {
			fs[i].FirstSeen, fs[i].FirstSnap = v.FirstSeen, v.FirstSnap
		}
	}
	return nil
}

// Collect runs every source concurrently and checks what they return. It
// never fails: a source that errs or panics is recorded as incomplete.
// With a store, incremental sources start from their last complete read.
func Collect(ctx context.Context, srcs []collectors.Collector, st *store.Store, full bool, log *slog.Logger, progress func(collectors.Progress)) []Collected {
	return collect(ctx, srcs, &priorRuns{st: st}, full, log, progress)
}

// priorRuns reads stored snapshots' accounts at most once per run. The
// incremental sources usually start from one snapshot, which is also the
// drift's baseline: one read of it serves them all (at 100,000 people a
// read is some seconds of SQLite and JSON).
type priorRuns struct {
	st   *store.Store
	mu   sync.Mutex
	runs map[int64]func() ([]collectors.Account, error)
}

// accounts returns every account of snapshot id, reading it on first use.
func (p *priorRuns) accounts(ctx context.Context, id int64) ([]collectors.Account, error) {
	p.mu.Lock()
	if p.runs == nil {
		p.runs = map[int64]func() ([]collectors.Account, error){}
	}
	read, ok := p.runs[id]
	if !ok {
		read = sync.OnceValues(func() ([]collectors.Account, error) { return p.st.SourceAccounts(ctx, id) })
		p.runs[id] = read
	}
	p.mu.Unlock()
	return read()
}

// loaded returns snapshot id's accounts if this run has read them already,
// else nil.
func (p *priorRuns) loaded(id int64) []collectors.Account {
	p.mu.Lock()
	read, ok := p.runs[id]
	p.mu.Unlock()
	if !ok {
		return nil
	}
	accs, err := read()
	if err != nil {
		return nil
	}
	return accs
}

func collect(ctx context.Context, srcs []collectors.Collector, prior *priorRuns, full bool, log *slog.Logger, progress func(collectors.Progress)) []Collected {
	out := make([]Collected, len(srcs))
	var wg sync.WaitGroup
	for i, c := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			info := c.Info()
			l := log.With("source", info.Name)
			req := collectors.Request{Full: full, Logger: l, Progress: progress}
			if inc, ok := c.(Incremental); ok && inc.Incremental() && prior.st != nil && !full {
				req.Previous = previous(ctx, prior, info.Name, l)
			}
			res, err := safeCollect(ctx, c, req)
			check(info, res, err)
			c := res.Completeness
			l.Info("collected", "complete", c.Complete, "records", c.Records, "pages", c.Pages,
				"requests", c.Requests, "retries", c.Retries, "duration", c.Duration.Round(time.Millisecond), "errors", len(c.Errors))
			for _, e := range c.Errors {
				l.Warn("source error", "error", e)
			}
			out[i] = Collected{Info: info, Result: res}
		}()
	}
	wg.Wait()
	slices.SortFunc(out, func(a, b Collected) int { return strings.Compare(a.Info.Name, b.Info.Name) })
	return out
}

func previous(ctx context.Context, prior *priorRuns, name string, log *slog.Logger) *collectors.Previous {
	id, src, err := prior.st.LastComplete(ctx, name)
	if err != nil || src == nil || src.State == "" {
		if err != nil {
			log.Warn("cannot read the previous snapshot; reading in full", "error", err)
		}
		return nil
	}
	all, err := prior.accounts(ctx, id)
	if err != nil {
		log.Warn("cannot read the previous accounts; reading in full", "error", err)
		return nil
	}
	p := &collectors.Previous{State: src.State}
	for i := range all {
		if all[i].Source == name {
			p.Accounts = append(p.Accounts, all[i])
		}
	}
	return p
}

func safeCollect(ctx context.Context, c collectors.Collector, req collectors.Request) (res *collectors.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s collector panicked: %v\n%s", c.Info().Name, r, debug.Stack())
			if res == nil {
				res = &collectors.Result{}
			}
		}
	}()
	return c.Collect(ctx, req)
}

// check enforces the contract on what a source returned: the source name
// on every account, valid statuses, unique keys, and an error always
// meaning incomplete.
func check(info collectors.Info, res *collectors.Result, err error) {
	c := &res.Completeness
	c.Source, c.Kind = info.Name, info.Kind
	if err != nil {
		c.Complete = false
		msg := err.Error()
		if !slices.Contains(c.Errors, msg) {
			c.Errors = append(c.Errors, msg)
		}
	}
	seen := make(map[string]bool, len(res.Accounts))
	kept := res.Accounts[:0]
	var bad int
	for _, a := range res.Accounts {
		a.Source = info.Name
		switch {
		case a.ID == "" || !a.Status.Valid():
			bad++
			c.Complete = false
			if bad <= 5 {
				c.Errors = append(c.Errors, fmt.Sprintf("record %q has an empty id or unknown status %q", a.Email, a.Status))
			}
			continue
		case seen[a.Key()]:
			bad++
			c.Complete = false
			if bad <= 5 {
				c.Errors = append(c.Errors, "duplicate record "+a.Key())
			}
			continue
		}
		seen[a.Key()] = true
		kept = append(kept, a)
	}
	if bad > 5 {
		c.Errors = append(c.Errors, fmt.Sprintf("... %d bad records in all", bad))
	}
	res.Accounts = kept
	c.Records = len(kept)
}

// guard applies the mass-change guard: a source whose account count fell
// by more than the configured fraction against its last complete snapshot
// is treated as incomplete, unless the operator accepted the drop.
func guard(ctx context.Context, o Options, results []Collected, log *slog.Logger) {
	maxDrop := o.Config.MaxDrop()
	for _, c := range results {
		comp := &c.Result.Completeness
		if !comp.Complete {
			continue
		}
		_, last, err := o.Store.LastComplete(ctx, c.Info.Name)
		if err != nil || last == nil || last.Completeness.Records == 0 {
			continue
		}
		before, now := last.Completeness.Records, comp.Records
		if float64(now) >= float64(before)*(1-maxDrop) {
			continue
		}
		if slices.Contains(o.AcceptDrop, c.Info.Name) || slices.Contains(o.Config.Guard.AcceptDrop, c.Info.Name) {
			comp.Warnings = append(comp.Warnings, fmt.Sprintf("account count fell from %d to %d; accepted by the operator", before, now))
			log.Warn("mass change accepted", "source", c.Info.Name, "before", before, "now", now)
			continue
		}
		comp.Fail(fmt.Errorf("account count fell from %d to %d (more than %.0f%%) since the last complete snapshot; "+
			"treated as incomplete. If the drop is real, rerun with --accept-drop %s", before, now, maxDrop*100, c.Info.Name))
		log.Warn("mass-change guard tripped", "source", c.Info.Name, "before", before, "now", now)
	}
}
