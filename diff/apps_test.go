package diff

import (
	"slices"
	"strings"
	"testing"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/graph"
)

// twoApps is Stonly beside a SCIM application with a ladder of its own.
var twoApps = map[string]App{
	"stonly": roles["stonly"],
	"notion": {Name: "notion", Title: "Notion", Ladder: []string{"Guest", "Member", "Workspace Owner"}, Rules: []RoleRule{
		{Sources: []string{"okta"}, Group: "Notion Owners", Role: "Workspace Owner", Why: "okta group Notion Owners"},
		{Default: true, Role: "Member"},
	}},
}

func assign(a acc, app string, roles ...string) acc {
	a.Assignments = append(a.Assignments, collectors.Assignment{App: app, InForce: true, Via: []string{"direct"}, Roles: roles})
	return a
}

func notion(email, role string) acc {
	return acc{Source: "notion-scim", ID: email, Email: email, Status: collectors.StatusActive, Role: role}
}

// TestApplicationsAreJudgedApart: every fact about assignment and every
// finding is per application (docs/RULES.md, "Applications").
func TestApplicationsAreJudgedApart(t *testing.T) {
	src := map[string]Source{
		"okta":        {Kind: collectors.KindIdP, Complete: true},
		"stonly":      {Kind: collectors.KindApp, App: "stonly", Complete: true},
		"notion-scim": {Kind: collectors.KindApp, App: "notion", Complete: true},
	}
	active := collectors.StatusActive
	tests := []struct {
		name     string
		accounts []acc
		want     []string // finding keys
	}{
		{"assigned one app only: not missing from the other",
			[]acc{assign(okta("00u1", "ann@acme.com", active, false), "stonly"), stonly("t1", "ann@acme.com", "Member")},
			nil},
		{"assigned both, holds one: missing in the other only",
			[]acc{assign(assign(okta("00u1", "ann@acme.com", active, false), "stonly"), "notion"), stonly("t1", "ann@acme.com", "Member")},
			[]string{"missing/notion/P"}},
		{"an account in an app the IdP does not assign: unassigned in that app",
			[]acc{assign(okta("00u1", "ann@acme.com", active, false), "stonly"), stonly("t1", "ann@acme.com", "Member"), notion("ann@acme.com", "Member")},
			[]string{"unassigned/notion/notion-scim:ann@acme.com"}},
		{"each app's ladder and rules: owner by group in notion, member in stonly",
			[]acc{assign(assign(okta("00u1", "ann@acme.com", active, false, "Notion Owners"), "stonly"), "notion"),
				stonly("t1", "ann@acme.com", "Member"), notion("ann@acme.com", "Workspace Owner")},
			nil},
		{"a role of one app is no role of the other",
			[]acc{assign(assign(okta("00u1", "ann@acme.com", active, false), "stonly"), "notion"),
				stonly("t1", "ann@acme.com", "Member"), notion("ann@acme.com", "Admin")},
			[]string{"role_mismatch/notion/notion-scim:ann@acme.com"}},
		{"a leaver is orphaned in every app, each at its own severity",
			[]acc{okta("00u1", "bob@acme.com", collectors.StatusInactive, false), stonly("t1", "bob@acme.com", "Admin"), notion("bob@acme.com", "Guest")},
			[]string{"orphaned/notion/notion-scim:bob@acme.com", "orphaned/stonly/stonly:t1:bob@acme.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			accounts := slices.Clone(tt.accounts)
			graph.SortAccounts(accounts)
			g, err := graph.Correlate(accounts, graph.Options{IdPs: map[string]bool{"okta": true}})
			if err != nil {
				t.Fatal(err)
			}
			fs, exps := Analyze(Input{Graph: g, Sources: src, Apps: twoApps})
			var got []string
			for _, f := range fs {
				got = append(got, strings.Replace(f.Key, g.People[0].ID, "P", 1))
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("findings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for _, f := range fs {
				if f.Kind == KindOrphaned {
					want := map[string]string{"stonly": SevCritical, "notion": SevHigh}[f.App] // Admin is privileged; Guest is notion's lowest rung
					if f.Severity != want {
						t.Errorf("%s: severity %s, want %s", f.Key, f.Severity, want)
					}
				}
				if strings.Contains(f.Explanation, "Stonly") && f.App != "stonly" {
					t.Errorf("%s names another application: %s", f.Key, f.Explanation)
				}
			}
			if tt.name == "each app's ladder and rules: owner by group in notion, member in stonly" {
				got := map[string]string{}
				for _, e := range exps[0] {
					got[e.App] = e.Role
				}
				if got["stonly"] != "Member" || got["notion"] != "Workspace Owner" {
					t.Errorf("expected roles %v, want stonly Member and notion Workspace Owner", got)
				}
			}
		})
	}
}

// TestOpenAccessIsPerApplication: an IdP open for one application still
// speaks for the others.
func TestOpenAccessIsPerApplication(t *testing.T) {
	src := map[string]Source{
		"entra":       {Kind: collectors.KindIdP, Complete: true, Open: map[string]string{"notion": "appRoleAssignmentRequired is false"}},
		"stonly":      {Kind: collectors.KindApp, App: "stonly", Complete: true},
		"notion-scim": {Kind: collectors.KindApp, App: "notion", Complete: true},
	}
	accounts := []acc{entra("e1", "cat@acme.com", collectors.StatusActive, false), stonly("t1", "cat@acme.com", "Member"), notion("cat@acme.com", "Member")}
	graph.SortAccounts(accounts)
	g, err := graph.Correlate(accounts, graph.Options{IdPs: map[string]bool{"entra": true}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range Evaluate(Input{Graph: g, Sources: src, Apps: twoApps}) {
		got = append(got, f.Kind+"/"+f.App)
	}
	slices.Sort(got)
	if want := []string{"open_access/notion", "unassigned/stonly"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
