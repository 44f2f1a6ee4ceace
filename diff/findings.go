// Package diff compares what the identity providers say against what the
// application has, and one snapshot against another.
package diff

import (
	"cmp"
	"slices"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/graph"
)

// Finding kinds (docs/RULES.md), plus conflict for correlations the graph
// refused to make.
const (
	KindOrphaned     = "orphaned"
	KindUnassigned   = "unassigned"
	KindMissing      = "missing"
	KindRoleMismatch = "role_mismatch"
	KindIdPConflict  = "idp_conflict"
	KindDuplicate    = "duplicate"
	KindConflict     = "conflict"
	KindOpenAccess   = "open_access"
)

// Severities, in rising order.
const (
	SevInfo     = "info"
	SevLow      = "low"
	SevMedium   = "medium"
	SevHigh     = "high"
	SevCritical = "critical"
)

// SeverityRank orders severities; unknown text ranks 0.
func SeverityRank(s string) int {
	switch s {
	case SevInfo:
		return 1
	case SevLow:
		return 2
	case SevMedium:
		return 3
	case SevHigh:
		return 4
	case SevCritical:
		return 5
	}
	return 0
}

// States of a finding in a snapshot.
const (
	StateOpen    = "open"    // a fact: every source it depends on was complete
	StateUnknown = "unknown" // a source it depends on was incomplete
)

// Evidence is one fact behind a finding.
type Evidence struct {
	Source  string `json:"source"`
	Account string `json:"account"`
	Email   string `json:"email,omitempty"`
	Status  string `json:"status,omitempty"`
	Detail  string `json:"detail"`
}

// Finding is one discrepancy.
type Finding struct {
	ID           string     `json:"id"`  // short hash of Key
	Key          string     `json:"key"` // kind/app/subject: stable across snapshots
	Kind         string     `json:"kind"`
	Reason       string     `json:"reason"`
	Severity     string     `json:"severity"`
	State        string     `json:"state"`
	App          string     `json:"app"`
	Team         string     `json:"team"`
	TeamName     string     `json:"team_name,omitempty"`
	Email        string     `json:"email"`
	DisplayName  string     `json:"display_name,omitempty"`
	Person       string     `json:"person"`
	Account      string     `json:"account,omitempty"`
	ActualRole   string     `json:"actual_role"`
	ExpectedRole string     `json:"expected_role"`
	ExpectedWhy  string     `json:"expected_why,omitempty"`
	Explanation  string     `json:"explanation"`
	Evidence     []Evidence `json:"evidence"`
	DependsOn    []string   `json:"depends_on"`
	FirstSeen    time.Time  `json:"first_seen"`
	FirstSnap    int64      `json:"first_seen_snapshot"`
	LastSeen     time.Time  `json:"last_seen"`
	LastSnap     int64      `json:"last_seen_snapshot"`
	// LastConfirmed is the snapshot in which the finding was last a fact
	// (state open); for an unknown finding it dates what is known of it.
	LastConfirmed int64 `json:"last_confirmed_snapshot,omitempty"`
	// Carried: the finding could not be re-evaluated in this run, because a
	// source it depends on was incomplete; its facts are those it had in
	// LastConfirmed. Nothing vanishes because a source failed.
	Carried bool `json:"carried,omitempty"`
	// Unchecked names the incomplete sources that kept an unknown finding
	// from being re-checked.
	Unchecked []string `json:"unchecked,omitempty"`
}

// Source is what the findings engine needs to know of a configured source.
type Source struct {
	Kind     collectors.Kind
	App      string
	Complete bool
	// Open names the applications this IdP lets every enabled user sign in
	// to without an assignment (Entra appRoleAssignmentRequired: false),
	// with the evidence of the setting. Its assignments still say who should
	// have the app; its silence says nothing, so no account is unassigned on
	// its word alone.
	Open map[string]string
}

// Input is everything Evaluate reads.
type Input struct {
	Graph   *graph.Graph
	Sources map[string]Source
	// Apps are the applications, by name: title, role ladder and rules.
	// An application that an app source reads and that Apps lacks is
	// judged without roles.
	Apps map[string]App
}

// Expectation is what the IdPs together say about one person in one
// application.
type Expectation struct {
	App  string
	Role string // highest implied role, "" when no rule applies
	Why  string
}

// Analyze evaluates one run in a single walk over the people: the
// findings, sorted by severity, kind, team and e-mail; and for every person
// of the graph, in order, the roles their active assignments imply and
// why, one per application in which a rule implies one (the auditor's
// "expected role" column, also for people without findings).
func Analyze(in Input) ([]Finding, [][]Expectation) {
	e := newEvaluator(in)
	for p := range in.Graph.People {
		e.person(int32(p))
	}
	for _, c := range in.Graph.Conflicts {
		e.conflict(c)
	}
	e.openAccess()
	Sort(e.out)
	return e.out, e.exps
}

// Evaluate returns the findings of Analyze.
func Evaluate(in Input) []Finding {
	fs, _ := Analyze(in)
	return fs
}

// Sort orders findings by severity (highest first), kind, team, e-mail and
// key, which is the order of every report and export.
func Sort(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(SeverityRank(b.Severity), SeverityRank(a.Severity)),
			cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Team, b.Team),
			cmp.Compare(a.Email, b.Email),
			cmp.Compare(a.Key, b.Key),
		)
	})
}

func appNames(src map[string]Source) []string {
	var out []string
	for n, s := range src {
		if s.Kind == collectors.KindApp {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func idpNames(src map[string]Source) []string {
	var out []string
	for n, s := range src {
		if s.Kind == collectors.KindIdP {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}
