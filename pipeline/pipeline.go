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
				src.OpenAccess = true
				src.OpenDetail = strings.TrimPrefix(src.OpenDetail+"; "+p.Detail, "; ")
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

// carryUnknown applies "nothing vanishes because a source failed": every
// finding of the previous snapshot, or of the last snapshot in which a now
// incomplete source was complete, that depends on a source incomplete now
// is carried into this snapshot as unknown, with its last known facts, its
// first-seen and the snapshot in which it was last a fact. A finding this
// run re-derived from partial data gives way to the carried one: its facts
// came from a read that did not finish. Every unknown finding names the
// incomplete sources that kept it from being re-checked.
func carryUnknown(ctx context.Context, st *store.Store, latest int64, srcs []store.Source, fs []diff.Finding) ([]diff.Finding, error) {
	inc := map[string]bool{}
	var from []int64
	if latest > 0 {
		from = append(from, latest)
	}
	for _, s := range srcs {
		if s.Completeness.Complete {
			continue
		}
		inc[s.Info.Name] = true
		id, _, err := st.LastComplete(ctx, s.Info.Name)
		if err != nil {
			return nil, err
		}
		if id > 0 && !slices.Contains(from, id) {
			from = append(from, id)
		}
	}
	unchecked := func(f *diff.Finding) []string {
		var out []string
		for _, d := range f.DependsOn {
			if inc[d] && !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
		return out
	}
	idx := make(map[string]int, len(fs))
	for i := range fs {
		idx[fs[i].Key] = i
		if fs[i].State == diff.StateUnknown {
			fs[i].Unchecked = unchecked(&fs[i])
		}
	}
	if len(inc) == 0 {
		return fs, nil
	}
	slices.Sort(from)
	slices.Reverse(from) // newest first: the freshest known facts win
	carried := map[string]bool{}
	for _, id := range from {
		old, err := st.Findings(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, f := range old {
			u := unchecked(&f)
			if len(u) == 0 || carried[f.Key] {
				continue
			}
			i, ok := idx[f.Key]
			if ok && fs[i].State == diff.StateOpen {
				continue // re-checked without the incomplete source: a fact now
			}
			switch {
			case f.State == diff.StateOpen:
				f.LastConfirmed = id
			case !f.Carried || f.LastConfirmed == 0:
				continue // never a fact: nothing is known of it to carry
			}
			f.State, f.Carried, f.Unchecked = diff.StateUnknown, true, u
			carried[f.Key] = true
			if ok {
				fs[i] = f
			} else {
				idx[f.Key] = len(fs)
				fs = append(fs, f)
			}
		}
	}
	diff.Sort(fs)
	return fs, nil
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
// Each source's read is bounded by config.DefaultSourceTimeout.
func Collect(ctx context.Context, srcs []collectors.Collector, st *store.Store, full bool, log *slog.Logger, progress func(collectors.Progress)) []Collected {
	return collect(ctx, srcs, &priorRuns{st: st}, full, bound{config.DefaultSourceTimeout, defaultStopGrace}, log, progress)
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

func collect(ctx context.Context, srcs []collectors.Collector, prior *priorRuns, full bool, b bound, log *slog.Logger, progress func(collectors.Progress)) []Collected {
	out := make([]Collected, len(srcs))
	var wg sync.WaitGroup
	for i, c := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			info := c.Info()
			l := log.With("source", info.Name)
			req := collectors.Request{Full: full, Logger: l, Progress: progress}
			if inc, ok := c.(collectors.Incremental); ok && inc.Incremental() && prior.st != nil && !full {
				req.Previous = previous(ctx, prior, info.Name, l)
			}
			res, err := boundedCollect(ctx, c, req, b)
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

// defaultStopGrace is how long a source may take to return after its
// deadline before the run goes on without it.
const defaultStopGrace = 30 * time.Second

// bound is the time one source's read may take, and then to stop.
type bound struct {
	timeout, grace time.Duration
}

// boundedCollect runs one collection under the source deadline. A source
// that overruns is recorded as incomplete; one that ignores its cancelled
// context is abandoned after a grace period (its goroutine ends whenever
// it returns), so that no source can hold the run, or serve's next
// scheduled run, forever.
func boundedCollect(ctx context.Context, c collectors.Collector, req collectors.Request, b bound) (*collectors.Result, error) {
	res, err := boundedRead(ctx, c, req, b)
	if res == nil {
		res = &collectors.Result{}
	}
	return res, err
}

func boundedRead(ctx context.Context, c collectors.Collector, req collectors.Request, b bound) (*collectors.Result, error) {
	timeout := b.timeout
	if timeout <= 0 {
		return safeCollect(ctx, c, req)
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type answer struct {
		res *collectors.Result
		err error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := safeCollect(cctx, c, req)
		done <- answer{res, err}
	}()
	// overran says the deadline ended the read, keeping what the source
	// said of it; a cancelled run (ctx) is not the source's overrun.
	overran := func(err error) error {
		if ctx.Err() != nil || !errors.Is(cctx.Err(), context.DeadlineExceeded) {
			return err
		}
		e := fmt.Errorf("%s: the read did not finish within %s (guard.source_timeout); nothing it read is trusted as complete", c.Info().Name, timeout)
		if err != nil {
			e = fmt.Errorf("%w: %w", e, err)
		}
		return e
	}
	select {
	case a := <-done:
		return a.res, overran(a.err)
	case <-cctx.Done():
	}
	select {
	case a := <-done:
		return a.res, overran(a.err)
	case <-time.After(b.grace):
		err := overran(nil)
		if err == nil {
			err = fmt.Errorf("%s: the run was cancelled", c.Info().Name)
		}
		return nil, fmt.Errorf("%w; the read did not stop within %s and was abandoned", err, b.grace)
	}
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
	for _, p := range c.Parts {
		if p.Shown > 0 && p.Shown != p.Records {
			c.Fail(fmt.Errorf("%s: %s shows %d records but %d were read", info.Name, partLabel(p), p.Shown, p.Records))
		}
	}
	res.Accounts = kept
	c.Records = len(kept)
}

// guard applies the mass-change guard, to each source's total and to each
// of its parts (a Stonly team, an IdP list) against the same part in the
// source's last complete snapshot: one team of ten showing a tenth of its
// members, or vanishing, moves the total by a tenth only, yet its leavers
// would all look resolved. A drop the operator accepts (--accept-drop NAME
// for the source, NAME:PART for one part) is only warned.
func guard(ctx context.Context, o Options, results []Collected, log *slog.Logger) {
	maxDrop := o.Config.MaxDrop()
	accepted := func(name string) bool {
		return slices.Contains(o.AcceptDrop, name) || slices.Contains(o.Config.Guard.AcceptDrop, name)
	}
	for _, c := range results {
		comp := &c.Result.Completeness
		if !comp.Complete {
			continue
		}
		id, last, err := o.Store.LastComplete(ctx, c.Info.Name)
		if err != nil || last == nil {
			continue
		}
		name := c.Info.Name
		trip := func(what, accept string, before, now int, why error) {
			if accepted(name) || accepted(accept) {
				comp.Warnings = append(comp.Warnings, fmt.Sprintf("%s: %s; accepted by the operator", what, why))
				log.Warn("mass change accepted", "source", name, "what", what, "before", before, "now", now)
				return
			}
			comp.Fail(fmt.Errorf("%s: %w; treated as incomplete. If the change is real, rerun with --accept-drop %s", what, why, accept))
			log.Warn("mass-change guard tripped", "source", name, "what", what, "before", before, "now", now)
		}
		if before, now := last.Completeness.Records, comp.Records; dropped(before, now, maxDrop, 1) {
			trip("account count", name, before, now, fmt.Errorf("fell from %d to %d (more than %.0f%%) since the last complete snapshot %d", before, now, maxDrop*100, id))
		}
		parts := map[string]collectors.Part{}
		for _, p := range comp.Parts {
			parts[p.Kind+"\x00"+p.ID] = p
		}
		for _, p := range last.Completeness.Parts {
			label := partLabel(p)
			cur, ok := parts[p.Kind+"\x00"+p.ID]
			if !ok {
				why := fmt.Errorf("read in snapshot %d (%d records) but not now: it is no longer visible or readable", id, p.Records)
				if p.Fix != "" {
					why = fmt.Errorf("%w; %s", why, p.Fix)
				}
				trip(label, name+":"+p.ID, p.Records, 0, why)
				continue
			}
			// A small part may lose a few people any night: the part guard
			// needs the fraction and at least minPartDrop records.
			if dropped(p.Records, cur.Records, maxDrop, minPartDrop) {
				trip(label, name+":"+p.ID, p.Records, cur.Records, fmt.Errorf("fell from %d to %d records (more than %.0f%%) since the last complete snapshot %d", p.Records, cur.Records, maxDrop*100, id))
			}
		}
	}
}

// minPartDrop is the smallest loss of records in one part that the guard
// judges: a team of five losing two is ordinary attrition.
const minPartDrop = 3

// dropped reports whether a count fell by more than the fraction maxDrop
// and by at least min records.
func dropped(before, now int, maxDrop float64, min int) bool {
	return before > 0 && before-now >= min && float64(now) < float64(before)*(1-maxDrop)
}

func partLabel(p collectors.Part) string {
	kind := p.Kind
	if kind == "" {
		kind = "part"
	}
	if p.Name != "" && p.Name != p.ID {
		return fmt.Sprintf("%s %q (%s)", kind, p.Name, p.ID)
	}
	return fmt.Sprintf("%s %q", kind, p.ID)
}
