package pipeline

// Collecting: every source at once, each under its deadline, incremental
// sources from their last complete read, and the contract checked on what
// each returns.

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
	"github.com/idgraph/idgraph/store"
)

// Collect runs every source concurrently and checks what they return. It
// never fails: a source that errs or panics is recorded as incomplete.
// With a store, incremental sources start from their last complete read.
// Each source's read is bounded by config.DefaultSourceTimeout.
func Collect(ctx context.Context, srcs []collectors.Collector, st *store.Store, full bool, log *slog.Logger, progress func(collectors.Progress)) []Collected {
	return collect(ctx, srcs, &priorRuns{st: st, log: log}, full, bound{config.DefaultSourceTimeout, defaultStopGrace}, log, progress)
}

// priorRuns reads stored snapshots' accounts at most once per run. The
// incremental sources usually start from one snapshot, which is also the
// drift's baseline: one read of it serves them all. The accounts come from
// the snapshot's priors (store/prior.go: a compact encoding stored beside
// its rows, no JSON to decode), or from its account rows for a snapshot
// that has none (written before migration 10).
//
// Accounts read from priors are let go once the sources have read (release)
// and read again, in a fraction of a second, if drift asks for them after
// the new snapshot is written: the run does not hold two snapshots'
// accounts while it correlates and writes. Accounts read from the rows,
// which are slow to read again, are kept for the drift.
type priorRuns struct {
	st      *store.Store
	log     *slog.Logger // nil: say nothing
	mu      sync.Mutex
	runs    map[int64]func() ([]collectors.Account, error)
	encoded map[int64]bool // read from priors
}

// reader reads snapshot id's accounts once.
func (p *priorRuns) reader(ctx context.Context, id int64) func() ([]collectors.Account, error) {
	return sync.OnceValues(func() ([]collectors.Account, error) {
		start := time.Now()
		accs, how, err := p.st.PriorAccounts(ctx, id)
		if err != nil {
			return nil, err
		}
		p.mu.Lock()
		p.encoded[id] = how.Encoded
		p.mu.Unlock()
		if p.log != nil {
			from := "account rows"
			if how.Encoded {
				from = "priors"
			}
			p.log.Info("read the previous snapshot", "snapshot", id, "accounts", len(accs), "from", from,
				"duration", time.Since(start).Round(time.Millisecond))
			if how.Problem != "" {
				p.log.Warn("the previous snapshot's priors cannot be used; read its account rows instead (verify checks them)",
					"snapshot", id, "problem", how.Problem)
			}
		}
		return accs, nil
	})
}

// accounts returns every account of snapshot id, reading it on first use.
func (p *priorRuns) accounts(ctx context.Context, id int64) ([]collectors.Account, error) {
	p.mu.Lock()
	if p.runs == nil {
		p.runs, p.encoded = map[int64]func() ([]collectors.Account, error){}, map[int64]bool{}
	}
	read, ok := p.runs[id]
	if !ok {
		read = p.reader(ctx, id)
		p.runs[id] = read
	}
	p.mu.Unlock()
	return read()
}

// release lets go of the accounts read from priors once every source has
// returned; a later loaded reads them again.
func (p *priorRuns) release(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id := range p.runs {
		if p.encoded[id] {
			p.runs[id] = p.reader(context.WithoutCancel(ctx), id)
		}
	}
}

// loaded returns snapshot id's accounts if this run has read them (again
// from its priors, if they were let go), else nil.
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
	if prior.log == nil {
		prior.log = log // Run makes its priorRuns before it has a logger to give
	}
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
	prior.release(ctx)
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
