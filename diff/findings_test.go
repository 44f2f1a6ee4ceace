package diff

import (
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/graph"
)

type acc = collectors.Account

func okta(id, email string, st collectors.Status, assigned bool, groups ...string) acc {
	a := acc{Source: "okta", ID: id, Email: email, Status: st, RawStatus: strings.ToUpper(string(st)), Groups: groups}
	if assigned {
		a.Assignments = []collectors.Assignment{{App: "stonly", InForce: true, Via: []string{"group " + strings.Join(groups, ",")}}}
	}
	return a
}

func entra(id, email string, st collectors.Status, assigned bool, roles ...string) acc {
	a := acc{Source: "entra", ID: id, Email: email, Status: st}
	if assigned || len(roles) > 0 {
		a.Assignments = []collectors.Assignment{{App: "stonly", InForce: assigned, Roles: roles, Via: []string{"app role"}}}
	}
	return a
}

func stonly(team, email, role string) acc {
	return acc{Source: "stonly", ID: email, Team: team, TeamName: "Team " + team, Email: email, Status: collectors.StatusActive, Role: role}
}

func invited(team, email string) acc {
	a := stonly(team, email, "")
	a.Status = collectors.StatusInvited
	return a
}

// roles is the rule set of the tests' one application, as the run
// resolves it from okta_group, entra_app_role and default rules.
var roles = map[string]App{"stonly": {Name: "stonly", Title: "Stonly", Ladder: []string{"Member", "Admin", "Owner"}, Rules: []RoleRule{
	{Sources: []string{"okta"}, Group: "Stonly Admins", Role: "Admin", Why: "okta group Stonly Admins"},
	{Sources: []string{"entra"}, AppRole: "Admin", Role: "Admin", Why: "entra app role Admin"},
	{Default: true, Role: "Member"},
}}}

// noRules is the tests' application without role rules.
var noRules = map[string]App{"stonly": {Name: "stonly", Title: "Stonly", Ladder: []string{"Member", "Admin", "Owner"}}}

func evaluate(t *testing.T, accounts []acc, incomplete ...string) []Finding {
	t.Helper()
	src := map[string]Source{
		"okta":   {Kind: collectors.KindIdP, Complete: true},
		"entra":  {Kind: collectors.KindIdP, Complete: true},
		"stonly": {Kind: collectors.KindApp, App: "stonly", Complete: true},
	}
	for _, n := range incomplete {
		s := src[n]
		s.Complete = false
		src[n] = s
	}
	graph.SortAccounts(accounts)
	g, err := graph.Correlate(accounts, graph.Options{IdPs: map[string]bool{"okta": true, "entra": true}})
	if err != nil {
		t.Fatal(err)
	}
	fs := Evaluate(Input{Graph: g, Sources: src, Apps: roles})
	keys := map[string]bool{}
	for _, f := range fs {
		if keys[f.Key] {
			t.Fatalf("duplicate finding key %s", f.Key)
		}
		keys[f.Key] = true
		if f.Explanation == "" || len(f.Evidence) == 0 || f.Severity == "" {
			t.Errorf("finding %s lacks explanation, evidence or severity: %+v", f.Key, f)
		}
	}
	return fs
}

type want struct {
	kind, reason, severity, state string
}

func TestFindingKinds(t *testing.T) {
	active, inactive, staged := collectors.StatusActive, collectors.StatusInactive, collectors.StatusStaged
	left := okta("00u2", "bob@acme.com", inactive, false)
	left.StatusChanged = time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		accounts []acc
		want     []want
		explain  string // substring of the first finding's explanation
	}{
		{"leaver still Admin is critical",
			[]acc{left, stonly("t1", "bob@acme.com", "Admin")},
			[]want{{KindOrphaned, "deprovisioned", SevCritical, StateOpen}}, "left okta on 2026-10-02"},
		{"leaver still Member is high",
			[]acc{okta("00u2", "bob@acme.com", inactive, true, "Stonly Users"), stonly("t1", "bob@acme.com", "Member")},
			[]want{{KindOrphaned, "deprovisioned", SevHigh, StateOpen}}, "still Stonly Member"},
		{"nobody knows the account",
			[]acc{stonly("t1", "mallory@gmail.com", "Member")},
			[]want{{KindOrphaned, "unknown", SevMedium, StateOpen}}, "no identity provider knows"},
		{"staged only is not yet active",
			[]acc{okta("00u3", "ken@acme.com", staged, false), stonly("t1", "ken@acme.com", "Member")},
			[]want{{KindOrphaned, "not_yet_active", SevMedium, StateOpen}}, "not yet active"},
		{"active but not assigned bypassed the IdP",
			[]acc{okta("00u4", "carol@acme.com", active, false), stonly("t1", "carol@acme.com", "Admin")},
			[]want{{KindUnassigned, "not_assigned", SevHigh, StateOpen}}, "not assigned Stonly"},
		{"assigned without account is missing",
			[]acc{okta("00u5", "dave@acme.com", active, true, "Stonly Users")},
			[]want{{KindMissing, "no_account", SevLow, StateOpen}}, "has no Stonly account"},
		{"pending invitation is noted",
			[]acc{okta("00u6", "erin@acme.com", active, true, "Stonly Users"), invited("t1", "erin@acme.com")},
			[]want{{KindMissing, "pending_invitation", SevInfo, StateOpen}}, "invitation is pending"},
		{"excess privilege",
			[]acc{okta("00u7", "frank@acme.com", active, true, "Stonly Users"), stonly("t1", "frank@acme.com", "Admin")},
			[]want{{KindRoleMismatch, "excess", SevMedium, StateOpen}}, "imply Member"},
		{"unexpected Owner is a high excess",
			[]acc{okta("00u7", "frank@acme.com", active, true, "Stonly Admins"), stonly("t1", "frank@acme.com", "Owner")},
			[]want{{KindRoleMismatch, "excess", SevHigh, StateOpen}}, "Owner"},
		{"shortfall ranks low",
			[]acc{okta("00u8", "grace@acme.com", active, true, "Stonly Admins"), stonly("t1", "grace@acme.com", "Member")},
			[]want{{KindRoleMismatch, "shortfall", SevLow, StateOpen}}, "imply Admin"},
		{"unknown role text kept verbatim",
			[]acc{okta("00u8", "grace@acme.com", active, true, "Stonly Users"), stonly("t1", "grace@acme.com", "Editor")},
			[]want{{KindRoleMismatch, "unrecognised_role", SevMedium, StateOpen}}, `"Editor"`},
		{"IdPs disagree on status",
			[]acc{okta("00u9", "heidi@acme.com", active, true, "Stonly Users"), entra("g9", "heidi@acme.com", inactive, false), stonly("t1", "heidi@acme.com", "Member")},
			[]want{{KindIdPConflict, "status", SevMedium, StateOpen}}, "active in okta"},
		{"IdPs disagree on role: judged against the highest",
			[]acc{okta("00u9", "olga@acme.com", active, true, "Stonly Users"), entra("g9", "olga@acme.com", active, true, "Admin"), stonly("t1", "olga@acme.com", "Admin")},
			[]want{{KindIdPConflict, "role", SevLow, StateOpen}}, "entra implies Admin, okta implies Member"},
		{"two accounts in one team",
			[]acc{okta("00u10", "judy@acme.com", active, true, "Stonly Users"), stonly("t1", "judy@acme.com", "Member"),
				func() acc { a := stonly("t1", "JUDY@acme.com", "Member"); a.ID = "judy-2"; return a }()},
			[]want{{KindDuplicate, "same_team", SevMedium, StateOpen}}, "2 Stonly accounts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := evaluate(t, tt.accounts)
			if len(fs) != len(tt.want) {
				t.Fatalf("got %d findings %s, want %d", len(fs), summary(fs), len(tt.want))
			}
			for i, w := range tt.want {
				f := fs[i]
				if f.Kind != w.kind || f.Reason != w.reason || f.Severity != w.severity || f.State != w.state {
					t.Errorf("finding %d = %s/%s/%s/%s, want %+v", i, f.Kind, f.Reason, f.Severity, f.State, w)
				}
			}
			if !strings.Contains(fs[0].Explanation, tt.explain) {
				t.Errorf("explanation %q does not contain %q", fs[0].Explanation, tt.explain)
			}
		})
	}
}

func TestNoFinding(t *testing.T) {
	active, inactive := collectors.StatusActive, collectors.StatusInactive
	tests := []struct {
		name     string
		accounts []acc
	}{
		{"assigned with the expected role", []acc{okta("00u1", "alice@acme.com", active, true, "Stonly Admins"), stonly("t1", "alice@acme.com", "Admin")}},
		{"known to one IdP only: absence from the other is no opinion", []acc{entra("g1", "nina@acme.com", active, true), stonly("t1", "nina@acme.com", "Member")}},
		{"assigned in one IdP is enough", []acc{okta("00u1", "a@acme.com", active, true, "Stonly Users"), entra("g1", "a@acme.com", active, false), stonly("t1", "a@acme.com", "Member")}},
		{"leaver without a Stonly account", []acc{okta("00u2", "bob@acme.com", inactive, false)}},
		{"active, unassigned, no account", []acc{okta("00u3", "carol@acme.com", active, false)}},
		{"invitation for an unassigned person is no membership", []acc{okta("00u3", "carol@acme.com", active, false), invited("t1", "carol@acme.com")}},
		{"guest assigned with its own account", []acc{func() acc { a := entra("g5", "pat@partner.com", active, true); a.Guest = true; return a }(), stonly("t1", "pat@partner.com", "Member")}},
		{"accounts in two teams are not duplicates", []acc{okta("00u1", "a@acme.com", active, true, "Stonly Users"), stonly("t1", "a@acme.com", "Member"), stonly("t2", "a@acme.com", "Member")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if fs := evaluate(t, tt.accounts); len(fs) != 0 {
				t.Fatalf("want no findings, got %s", summary(fs))
			}
		})
	}
}

func TestNestedGroupDoesNotAssign(t *testing.T) {
	// The Entra collector records a group reached only through nesting in
	// NestedGroups and leaves Assigned false (docs/RULES.md); the finding must
	// say so rather than treat the person as assigned.
	a := entra("g7", "tier2@acme.com", collectors.StatusActive, false)
	a.NestedGroups = []string{"Stonly Users (via Support Tier 2)"}
	fs := evaluate(t, []acc{a, stonly("t1", "tier2@acme.com", "Member")})
	if len(fs) != 1 || fs[0].Kind != KindUnassigned {
		t.Fatalf("got %s, want one unassigned", summary(fs))
	}
	if !strings.Contains(fs[0].Evidence[1].Detail, "grants nothing") {
		t.Errorf("evidence does not explain the nesting: %+v", fs[0].Evidence)
	}
}

func TestIncompleteSourceYieldsNoFacts(t *testing.T) {
	accounts := []acc{
		okta("00u2", "bob@acme.com", collectors.StatusInactive, false), stonly("t1", "bob@acme.com", "Admin"),
		stonly("t1", "mallory@gmail.com", "Member"),
		okta("00u5", "dave@acme.com", collectors.StatusActive, true, "Stonly Users"),
	}
	t.Run("incomplete IdP", func(t *testing.T) {
		fs := evaluate(t, accounts, "entra")
		for _, f := range fs {
			if f.Kind == KindOrphaned && f.State != StateUnknown {
				t.Errorf("orphaned finding %s is a fact although entra was incomplete", f.Key)
			}
		}
		// "No Stonly account" is a claim about every link of the graph:
		// the account may be linked to the person only through an address
		// that entra knows. With entra incomplete it is not a fact.
		if f := find(fs, KindMissing); f == nil || f.State != StateUnknown {
			t.Errorf("missing should be unknown: %+v", f)
		}
	})
	t.Run("incomplete app", func(t *testing.T) {
		for _, f := range evaluate(t, accounts, "stonly") {
			if f.State != StateUnknown {
				t.Errorf("finding %s is a fact although stonly was incomplete", f.Key)
			}
		}
	})
}

func TestFindingKeysStable(t *testing.T) {
	mk := func() []acc {
		return []acc{okta("00u2", "bob@acme.com", collectors.StatusInactive, false), stonly("t1", "bob@acme.com", "Admin"),
			stonly("t1", "x@gmail.com", "Member"), okta("00u5", "dave@acme.com", collectors.StatusActive, true)}
	}
	a, b := evaluate(t, mk()), evaluate(t, append(mk(), okta("00u9", "zed@acme.com", collectors.StatusActive, false)))
	if summaryKeys(a) != summaryKeys(b) {
		t.Fatalf("keys changed when an unrelated person was added:\n%s\n%s", summaryKeys(a), summaryKeys(b))
	}
}

func find(fs []Finding, kind string) *Finding {
	for i := range fs {
		if fs[i].Kind == kind {
			return &fs[i]
		}
	}
	return nil
}

func summary(fs []Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.Kind+"/"+f.Reason+"/"+f.Severity+"/"+f.State)
	}
	return "[" + strings.Join(s, " ") + "]"
}

func summaryKeys(fs []Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.Key)
	}
	return strings.Join(s, "\n")
}

func TestNoMappingNoRoleJudgement(t *testing.T) {
	accounts := []acc{okta("00u1", "a@acme.com", collectors.StatusActive, true, "Stonly Users"), stonly("t1", "a@acme.com", "Admin")}
	graph.SortAccounts(accounts)
	g, err := graph.Correlate(accounts, graph.Options{IdPs: map[string]bool{"okta": true}})
	if err != nil {
		t.Fatal(err)
	}
	src := map[string]Source{"okta": {Kind: collectors.KindIdP, Complete: true}, "stonly": {Kind: collectors.KindApp, App: "stonly", Complete: true}}
	if fs := Evaluate(Input{Graph: g, Sources: src, Apps: noRules}); len(fs) != 0 {
		t.Fatalf("no role mapping is configured, yet: %s", summary(fs))
	}
	// The same accounts with a default mapping do produce an excess.
	if fs := Evaluate(Input{Graph: g, Sources: src, Apps: roles}); len(fs) != 1 || fs[0].Reason != "excess" {
		t.Fatalf("with a default Member mapping want one excess, got %s", summary(fs))
	}
}

func evaluateWith(t *testing.T, accounts []acc, src map[string]Source) []Finding {
	t.Helper()
	graph.SortAccounts(accounts)
	g, err := graph.Correlate(accounts, graph.Options{IdPs: map[string]bool{"okta": true, "entra": true}})
	if err != nil {
		t.Fatal(err)
	}
	return Evaluate(Input{Graph: g, Sources: src, Apps: roles})
}

// TestOpenAccess follows docs/RULES.md: with appRoleAssignmentRequired false
// on Entra, an Entra account without an assignment is no evidence of a
// bypass; Okta's silence still is; the setting is one open_access finding.
func TestOpenAccess(t *testing.T) {
	src := map[string]Source{
		"okta":   {Kind: collectors.KindIdP, Complete: true},
		"entra":  {Kind: collectors.KindIdP, Complete: true, Open: map[string]string{"stonly": "appRoleAssignmentRequired is false on service principal Stonly"}},
		"stonly": {Kind: collectors.KindApp, App: "stonly", Complete: true},
	}
	tests := []struct {
		name     string
		accounts []acc
		want     string // summary of findings
	}{
		{"entra only, not assigned: no unassigned",
			[]acc{entra("g1", "ann@acme.com", collectors.StatusActive, false), stonly("t1", "ann@acme.com", "Member")},
			"[open_access/assignment_not_required/high/open]"},
		{"okta knows and did not assign: unassigned on okta's word",
			[]acc{entra("g1", "ben@acme.com", collectors.StatusActive, false), okta("00u1", "ben@acme.com", collectors.StatusActive, false),
				stonly("t1", "ben@acme.com", "Member")},
			"[open_access/assignment_not_required/high/open unassigned/not_assigned/medium/open]"},
		{"entra assignments still say who should have it",
			[]acc{entra("g1", "cat@acme.com", collectors.StatusActive, true, "Admin")},
			"[open_access/assignment_not_required/high/open missing/no_account/low/open]"},
		{"a leaver is still orphaned",
			[]acc{entra("g1", "dan@acme.com", collectors.StatusInactive, false), stonly("t1", "dan@acme.com", "Member")},
			"[open_access/assignment_not_required/high/open orphaned/deprovisioned/high/open]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := evaluateWith(t, tt.accounts, src)
			if got := summary(fs); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if f := find(fs, KindOpenAccess); f == nil || f.Key != "open_access/stonly/entra" || !strings.Contains(f.Explanation, "appRoleAssignmentRequired") {
				t.Errorf("open_access finding: %+v", f)
			}
			if f := find(fs, KindUnassigned); f != nil && strings.Contains(f.Explanation, "entra") {
				t.Errorf("unassigned cites the open-access IdP: %s", f.Explanation)
			}
		})
	}
}

// TestLinkOnlyThroughTheFailedIdP: the Stonly account is linked to the
// person only through Okta's secondEmail. With Okta incomplete the graph
// cannot link it, so "missing" (Entra assigned the person) and the account's
// own orphaned judgement are both unknown, never facts.
func TestLinkOnlyThroughTheFailedIdP(t *testing.T) {
	o := okta("00u1", "eve@acme.com", collectors.StatusActive, true, "Stonly Users")
	o.Addresses = []collectors.Address{{Field: "login", Value: "eve@acme.com"}, {Field: "secondEmail", Value: "eve.w@acme.com"}}
	e := entra("g1", "eve@acme.com", collectors.StatusActive, true)
	s := stonly("t1", "eve.w@acme.com", "Member")
	src := map[string]Source{
		"okta":   {Kind: collectors.KindIdP, Complete: false},
		"entra":  {Kind: collectors.KindIdP, Complete: true},
		"stonly": {Kind: collectors.KindApp, App: "stonly", Complete: true},
	}
	// What a failed Okta read leaves: Okta's accounts absent.
	fs := evaluateWith(t, []acc{e, s}, src)
	if len(fs) == 0 {
		t.Fatal("no findings")
	}
	for _, f := range fs {
		if f.State != StateUnknown {
			t.Errorf("%s is a fact although okta, which links the account, was incomplete", f.Key)
		}
	}
	// With Okta complete, the same person has no finding at all.
	src["okta"] = Source{Kind: collectors.KindIdP, Complete: true}
	if fs := evaluateWith(t, []acc{o, e, s}, src); len(fs) != 0 {
		t.Errorf("complete sources: %s", summary(fs))
	}
}

// TestAssignmentNotInForceIsExplained: an Okta app user whose status grants
// nothing is not assigned, and the evidence says why.
func TestAssignmentNotInForceIsExplained(t *testing.T) {
	a := okta("00u7", "ina@acme.com", collectors.StatusActive, false)
	a.Assignments = []collectors.Assignment{{App: "stonly", Via: []string{"app user INACTIVE (scope USER): grants nothing"}}}
	fs := evaluate(t, []acc{a, stonly("t1", "ina@acme.com", "Member")})
	f := find(fs, KindUnassigned)
	if f == nil || !strings.Contains(f.Evidence[1].Detail, "not assigned (app user INACTIVE (scope USER): grants nothing)") {
		t.Fatalf("got %s: %+v", summary(fs), f)
	}
}
