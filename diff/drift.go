package diff

import (
	"slices"
	"strings"

	"github.com/idgraph/idgraph/collectors"
)

// Change is an attribute of one account that differs between snapshots.
type Change struct {
	Account  string `json:"account"`
	Source   string `json:"source"`
	Team     string `json:"team,omitempty"`
	TeamName string `json:"team_name,omitempty"`
	Email    string `json:"email"`
	From     string `json:"from"`
	To       string `json:"to"`
	// Raise: for a role change, the new role ranks above the old one in
	// the application's ladder, or is not one of its roles. Alerts say
	// these; a downgrade is drift, not a risk.
	Raise bool `json:"raise,omitempty"`
}

// AccountRef names an account that appeared or disappeared.
type AccountRef struct {
	Account string `json:"account"`
	Source  string `json:"source"`
	Team    string `json:"team,omitempty"`
	Email   string `json:"email"`
	Role    string `json:"role,omitempty"`
	Status  string `json:"status"`
}

// Drift is what changed between two snapshots.
type Drift struct {
	From            int64        `json:"from"`
	To              int64        `json:"to"`
	Appeared        []Finding    `json:"appeared"`
	Resolved        []Finding    `json:"resolved"`
	Escalated       []Finding    `json:"escalated"` // same finding, higher severity now
	AccountsCreated []AccountRef `json:"accounts_created"`
	AccountsRemoved []AccountRef `json:"accounts_removed"`
	RoleChanges     []Change     `json:"role_changes"`
	StatusChanges   []Change     `json:"status_changes"`
}

// Empty reports whether nothing changed.
func (d *Drift) Empty() bool {
	return len(d.Appeared)+len(d.Resolved)+len(d.Escalated)+len(d.AccountsCreated)+
		len(d.AccountsRemoved)+len(d.RoleChanges)+len(d.StatusChanges) == 0
}

// Snapshot is the part of a snapshot that drift compares.
type Snapshot struct {
	ID       int64
	Findings []Finding
	Accounts []collectors.Account
	// Incomplete names sources that were incomplete in this snapshot; their
	// accounts are not compared, so a failed read never looks like removals.
	Incomplete map[string]bool
	// Apps is the application each app source reads, by source name: its
	// ladder ranks role changes.
	Apps map[string]*App
}

// Compare returns the drift from prev to cur. A finding that cur records
// as unknown is neither resolved nor appeared: nobody knows.
func Compare(prev, cur Snapshot) Drift {
	d := Drift{From: prev.ID, To: cur.ID}
	before := make(map[string]*Finding, len(prev.Findings))
	for i := range prev.Findings {
		if prev.Findings[i].State == StateOpen {
			before[prev.Findings[i].Key] = &prev.Findings[i]
		}
	}
	now := make(map[string]*Finding, len(cur.Findings))
	for i := range cur.Findings {
		f := &cur.Findings[i]
		now[f.Key] = f
		if f.State != StateOpen {
			continue
		}
		old, ok := before[f.Key]
		switch {
		case !ok:
			d.Appeared = append(d.Appeared, *f)
		case SeverityRank(f.Severity) > SeverityRank(old.Severity):
			d.Escalated = append(d.Escalated, *f)
		}
	}
	for i := range prev.Findings {
		f := &prev.Findings[i]
		if f.State != StateOpen {
			continue
		}
		if _, ok := now[f.Key]; ok {
			continue
		}
		// Gone is resolved only if every source it depends on was read in
		// full: a finding that vanished with a failed read is not fixed.
		trusted := true
		for _, s := range f.DependsOn {
			trusted = trusted && !cur.Incomplete[s]
		}
		if trusted {
			d.Resolved = append(d.Resolved, *f)
		}
	}

	prevAcc := make(map[string]*collectors.Account, len(prev.Accounts))
	for i := range prev.Accounts {
		a := &prev.Accounts[i]
		if !prev.Incomplete[a.Source] && !cur.Incomplete[a.Source] {
			prevAcc[a.Key()] = a
		}
	}
	for i := range cur.Accounts {
		a := &cur.Accounts[i]
		if prev.Incomplete[a.Source] || cur.Incomplete[a.Source] {
			continue
		}
		k := a.Key()
		old, ok := prevAcc[k]
		if !ok {
			d.AccountsCreated = append(d.AccountsCreated, ref(a))
			continue
		}
		delete(prevAcc, k)
		app := cur.Apps[a.Source]
		if r1, r2 := app.Canonical(old.Role), app.Canonical(a.Role); !strings.EqualFold(r1, r2) {
			d.RoleChanges = append(d.RoleChanges, Change{Account: k, Source: a.Source, Team: a.Team, TeamName: a.TeamName, Email: a.Email, From: r1, To: r2,
				Raise: app.Rank(r2) > app.Rank(r1) || app.Rank(r2) == 0})
		}
		if s1, s2 := statusText(old), statusText(a); s1 != s2 {
			d.StatusChanges = append(d.StatusChanges, Change{Account: k, Source: a.Source, Team: a.Team, Email: a.Email, From: s1, To: s2})
		}
	}
	for _, a := range prevAcc {
		d.AccountsRemoved = append(d.AccountsRemoved, ref(a))
	}
	slices.SortFunc(d.AccountsRemoved, func(a, b AccountRef) int {
		if a.Account < b.Account {
			return -1
		}
		if a.Account > b.Account {
			return 1
		}
		return 0
	})
	for _, fs := range [][]Finding{d.Appeared, d.Resolved, d.Escalated} {
		Sort(fs)
	}
	return d
}

func statusText(a *collectors.Account) string {
	if a.RawStatus != "" {
		return a.RawStatus
	}
	return string(a.Status)
}

func ref(a *collectors.Account) AccountRef {
	return AccountRef{Account: a.Key(), Source: a.Source, Team: a.Team, Email: a.Email,
		Role: a.Role, Status: string(a.Status)}
}
