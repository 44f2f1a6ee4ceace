package report

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/store"
)

// Data is everything a report or an export shows of one snapshot.
type Data struct {
	Snapshot *store.Summary
	Findings []diff.Finding // all, facts and unknown
	Accounts []store.LinkedAccount
	People   map[string]store.Person
	Baseline int64
	Drift    *diff.Drift // nil without a comparable earlier snapshot
	History  []Point     // every snapshot, oldest first
	Version  string      // idgraph's, for manifests
	// Decisions in force, by finding key, and every revoke with its
	// remediation state.
	Decisions    map[string]store.Decision
	Remediations []Remediation
	// AsOf is the moment whose decisions the report shows, and Head the
	// evidence chain's head then; both zero until LoadReview sets them.
	AsOf time.Time
	Head string

	byAccount map[string]string // account key -> person, built by Load; read-only after
}

// Remediation is a revoke decision and whether the access is gone.
type Remediation struct {
	store.Decision
	Done bool // a later complete snapshot no longer has the finding
}

// DecisionPtr returns the decision in force for a finding, or nil (for
// templates, where a struct value is never empty).
func (d *Data) DecisionPtr(key string) *store.Decision {
	if dec, ok := d.Decisions[key]; ok {
		return &dec
	}
	return nil
}

// DecisionOf returns the decision in force for a finding, if any.
func (d *Data) DecisionOf(key string) (store.Decision, bool) {
	dec, ok := d.Decisions[key]
	return dec, ok
}

// Point is one snapshot on the history chart.
type Point struct {
	ID         int64
	At         time.Time
	Complete   bool
	BySeverity map[string]int // open findings (facts)
	Unknown    int            // findings an incomplete source left unknown
}

// Total counts the point's open findings.
func (p Point) Total() int {
	n := 0
	for _, v := range p.BySeverity {
		n += v
	}
	return n
}

// Load reads snapshot id (0: the latest) and what its report needs.
func Load(ctx context.Context, st *store.Store, id int64, version string) (*Data, error) {
	sum, err := st.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &Data{Snapshot: sum, Version: version}
	if d.Findings, err = st.Findings(ctx, sum.ID); err != nil {
		return nil, err
	}
	if d.Accounts, err = st.Accounts(ctx, sum.ID); err != nil {
		return nil, err
	}
	if d.People, err = st.People(ctx, sum.ID); err != nil {
		return nil, err
	}

	if d.Baseline, err = st.BaselineOf(ctx, sum); err != nil {
		return nil, err
	}
	if d.Baseline > 0 {
		if d.Drift, err = st.Drift(ctx, d.Baseline, sum.ID); err != nil {
			return nil, err
		}
		d.indexChanges()
	}
	cur, all, err := st.Decisions(ctx, true)
	if err != nil {
		return nil, err
	}
	d.Decisions = cur
	present := map[string]bool{}
	for _, f := range d.Findings {
		present[f.Key] = true
	}
	for _, dec := range all {
		if dec.Decision != "revoke" || cur[dec.FindingKey].ID != dec.ID || dec.SnapshotID > sum.ID {
			continue
		}
		// Remediated only when a later snapshot read every source in full
		// and no longer has the finding.
		d.Remediations = append(d.Remediations, Remediation{Decision: dec, Done: !present[dec.FindingKey] && sum.Complete && sum.ID > dec.SnapshotID})
	}
	list, err := st.List(ctx)
	if err != nil {
		return nil, err
	}
	counts, err := st.FindingCounts(ctx)
	if err != nil {
		return nil, err
	}
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].ID > sum.ID {
			continue
		}
		p := Point{ID: list[i].ID, At: list[i].FinishedAt, Complete: list[i].Complete, BySeverity: counts[list[i].ID]}
		// A snapshot's finding count covers facts and unknown findings alike.
		p.Unknown = max(list[i].Findings-p.Total(), 0)
		d.History = append(d.History, p)
	}
	return d, nil
}

// indexChanges finds the person behind each account of a drift change,
// so that drift lists name people (one pass over the accounts).
func (d *Data) indexChanges() {
	if len(d.Drift.RoleChanges)+len(d.Drift.StatusChanges) == 0 {
		return
	}
	d.byAccount = map[string]string{}
	for _, cs := range [][]diff.Change{d.Drift.RoleChanges, d.Drift.StatusChanges} {
		for _, c := range cs {
			d.byAccount[c.Account] = ""
		}
	}
	for _, a := range d.Accounts {
		if _, ok := d.byAccount[a.Key()]; ok {
			d.byAccount[a.Key()] = a.Person
		}
	}
}

// IdPs names the snapshot's IdP sources, sorted.
func (d *Data) IdPs() []string {
	var out []string
	for _, s := range d.Snapshot.Sources {
		if s.Info.Kind == collectors.KindIdP {
			out = append(out, s.Info.Name)
		}
	}
	slices.Sort(out)
	return out
}

// Facts are the open findings.
func (d *Data) Facts() []diff.Finding {
	var out []diff.Finding
	for _, f := range d.Findings {
		if f.State == diff.StateOpen {
			out = append(out, f)
		}
	}
	return out
}

// Unknown counts findings that a source's incompleteness left unknown.
func (d *Data) Unknown() int { return len(d.Findings) - len(d.Facts()) }

// Kinds lists the finding kinds in display order.
var Kinds = []string{diff.KindOrphaned, diff.KindUnassigned, diff.KindMissing, diff.KindRoleMismatch, diff.KindIdPConflict, diff.KindDuplicate, diff.KindOpenAccess, diff.KindConflict}

// Severities lists severities from the highest.
var Severities = []string{diff.SevCritical, diff.SevHigh, diff.SevMedium, diff.SevLow, diff.SevInfo}

// TeamRoles counts, per app team, active members by role and pending
// invitations.
type TeamRoles struct {
	App        string // the application whose team it is
	Team, Name string
	Roles      map[string]int
	Invited    int
	Total      int
}

// Teams returns the per-team role breakdown.
func (d *Data) Teams() []TeamRoles {
	appOf := map[string]string{}
	for _, s := range d.Snapshot.Sources {
		appOf[s.Info.Name] = s.Info.App
	}
	byTeam := map[string]*TeamRoles{}
	for _, a := range d.Accounts {
		if a.Team == "" {
			continue
		}
		t := byTeam[a.Source+"/"+a.Team]
		if t == nil {
			t = &TeamRoles{App: appOf[a.Source], Team: a.Team, Name: a.TeamName, Roles: map[string]int{}}
			byTeam[a.Source+"/"+a.Team] = t
		}
		switch a.Status {
		case collectors.StatusActive:
			t.Roles[a.Role]++
			t.Total++
		case collectors.StatusInvited:
			t.Invited++
		}
	}
	out := make([]TeamRoles, 0, len(byTeam))
	for _, t := range byTeam {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name+out[i].Team < out[j].Name+out[j].Team })
	return out
}
