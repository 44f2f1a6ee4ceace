package pipeline

// What a run keeps from earlier snapshots: findings carried as unknown
// when a source failed, first-seen dates, and a word for every address
// that played no part in matching.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/graph"
	"github.com/idgraph/idgraph/store"
)

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
