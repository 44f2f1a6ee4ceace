package pipeline

// The mass-change guard.

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
)

// guard applies the mass-change guard, to each source's total and to each
// of its parts (an application team, an IdP list) against the same part in the
// source's last complete snapshot: one team of ten showing a tenth of its
// members, or vanishing, moves the total by a tenth only, yet its leavers
// would all look resolved. A drop the operator accepts (--accept-drop NAME
// for the source, NAME:PART for one part) is only warned.
func guard(ctx context.Context, o Options, results []Collected, log *slog.Logger) {
	maxDrop := o.Policy.MaxDrop
	if maxDrop <= 0 {
		maxDrop = config.DefaultMaxDrop
	}
	accepted := func(name string) bool {
		return slices.Contains(o.AcceptDrop, name) || slices.Contains(o.Policy.AcceptDrop, name)
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
