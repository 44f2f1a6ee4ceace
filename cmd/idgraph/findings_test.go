package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/graph"
	"github.com/idgraph/idgraph/store"
)

// twoAppStore replaces the quick start's store with one snapshot of two
// applications, each with a title that is not its capitalised name:
// bob left and still holds both (orphaned in each); cat is assigned the
// wiki only and holds both (unassigned in the SCIM app); ann is assigned
// and holds both. It returns the configuration file.
func twoAppStore(t *testing.T) string {
	t.Helper()
	cfg := quickstart(t)
	os.Remove(storeOf(cfg))
	ctx := context.Background()
	st, err := store.Open(ctx, storeOf(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	active := collectors.StatusActive
	idp := func(id, email string, status collectors.Status, apps ...string) collectors.Account {
		a := collectors.Account{Source: "okta", ID: id, Email: email, DisplayName: strings.ToUpper(email[:1]) + email[1:3], Status: status}
		for _, app := range apps {
			a.Assignments = append(a.Assignments, collectors.Assignment{App: app, InForce: true, Via: []string{"direct"}})
		}
		return a
	}
	wiki := func(email, role string) collectors.Account {
		return collectors.Account{Source: "wiki", ID: email, Team: "t1", TeamName: "Handbook", Email: email, Status: active, Role: role}
	}
	scim := func(email, role string) collectors.Account {
		return collectors.Account{Source: "notes-scim", ID: email, Email: email, Status: active, Role: role}
	}
	accs := []collectors.Account{
		idp("00u1", "ann@acme.com", active, "wiki", "notes"), idp("00u2", "bob@acme.com", collectors.StatusInactive, "wiki", "notes"),
		idp("00u3", "cat@acme.com", active, "wiki"),
		wiki("ann@acme.com", "Member"), wiki("bob@acme.com", "Admin"), wiki("cat@acme.com", "Member"),
		scim("ann@acme.com", "Writer"), scim("bob@acme.com", "Reader"), scim("cat@acme.com", "Writer"),
	}
	graph.SortAccounts(accs)
	g, err := graph.Correlate(accs, graph.Options{IdPs: map[string]bool{"okta": true}})
	if err != nil {
		t.Fatal(err)
	}
	apps := map[string]diff.App{
		"wiki":  {Name: "wiki", Title: "Team Wiki", Ladder: []string{"Member", "Admin", "Owner"}, Rules: []diff.RoleRule{{Default: true, Role: "Member", Why: "default role"}}},
		"notes": {Name: "notes", Title: "Notes Cloud", Ladder: []string{"Reader", "Writer", "Workspace Owner"}, Rules: []diff.RoleRule{{Default: true, Role: "Writer", Why: "default role"}}},
	}
	src := map[string]diff.Source{"okta": {Kind: collectors.KindIdP, Complete: true},
		"wiki": {Kind: collectors.KindApp, App: "wiki", Complete: true}, "notes-scim": {Kind: collectors.KindApp, App: "notes", Complete: true}}
	fs, exps := diff.Analyze(diff.Input{Graph: g, Sources: src, Apps: apps})
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	done := collectors.Completeness{Complete: true, Records: 3}
	if err := st.WriteSnapshot(ctx, &store.Snapshot{StartedAt: now, FinishedAt: now.Add(time.Minute), ConfigHash: "cfg", Version: "test",
		Graph: g, Expected: exps, Findings: fs, Sources: []store.Source{
			{Info: collectors.Info{Name: "okta", Kind: collectors.KindIdP, Version: "1"}, Completeness: done},
			{Info: collectors.Info{Name: "wiki", Kind: collectors.KindApp, App: "wiki", Title: "Team Wiki", Roles: apps["wiki"].Ladder, Version: "1"}, Completeness: done},
			{Info: collectors.Info{Name: "notes-scim", Kind: collectors.KindApp, App: "notes", Title: "Notes Cloud", Roles: apps["notes"].Ladder, Version: "1"}, Completeness: done},
		}}); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestFindingsOfTwoApplications: --app selects one application by short
// name or title and refuses one the snapshot lacks; the table has an APP
// column, each application by its title, only because the snapshot holds
// more than one.
func TestFindingsOfTwoApplications(t *testing.T) {
	cfg := twoAppStore(t)
	type item struct{ Kind, App, Email string }
	list := func(args ...string) []item {
		t.Helper()
		r := run(t, nil, append([]string{"findings", "-c", cfg, "--format", "json"}, args...)...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d %s", args, r.code, r.stderr)
		}
		var out []item
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if all := list(); len(all) != 3 {
		t.Fatalf("fixture: %+v, want orphaned in both and unassigned in notes", all)
	}
	for _, tt := range []struct {
		app  string
		want int
		name string
	}{{"wiki", 1, "wiki"}, {"notes", 2, "notes"}, {"Notes Cloud", 2, "notes"}, {"team wiki", 1, "wiki"}} {
		got := list("--app", tt.app)
		if len(got) != tt.want {
			t.Errorf("--app %q: %d findings, want %d", tt.app, len(got), tt.want)
		}
		for _, f := range got {
			if f.App != tt.name {
				t.Errorf("--app %q listed a finding of %s", tt.app, f.App)
			}
		}
	}
	if r := run(t, nil, "findings", "-c", cfg, "--app", "stonly"); r.code != 2 || !strings.Contains(r.stderr, "--app must be notes or wiki") {
		t.Errorf("--app stonly: exit %d %s", r.code, r.stderr)
	}
	table := run(t, nil, "findings", "-c", cfg)
	lines := strings.Split(table.stdout, "\n")
	if !strings.Contains(lines[0], "  APP  ") {
		t.Fatalf("the table of two applications should have an APP column:\n%s", table.stdout)
	}
	for _, l := range lines[1:] {
		if l != "" && !strings.Contains(l, "Notes Cloud") && !strings.Contains(l, "Team Wiki") {
			t.Errorf("a row names no application by its title: %q", l)
		}
	}
	// Filtered to one application, the column stays: the snapshot holds two.
	if one := run(t, nil, "findings", "-c", cfg, "--app", "wiki"); !strings.Contains(one.stdout, "  APP  ") || !strings.Contains(one.stdout, "Team Wiki") {
		t.Errorf("--app wiki table:\n%s", one.stdout)
	}
}

// TestFindingsTableOfOneApplication: a snapshot of one application has no
// APP column.
func TestFindingsTableOfOneApplication(t *testing.T) {
	cfg := quickstart(t)
	if r := run(t, nil, "run", "-q", "-c", cfg); r.code != 0 {
		t.Fatal(r.stderr)
	}
	head, _, _ := strings.Cut(run(t, nil, "findings", "-c", cfg).stdout, "\n")
	if !strings.HasPrefix(head, "ID") || strings.Contains(head, "APP") {
		t.Errorf("header %q: want no APP column", head)
	}
}

// TestPeopleOfTwoApplications: `idgraph people` shows each application's
// expected role under its title, and a person's detail one line per
// application.
func TestPeopleOfTwoApplications(t *testing.T) {
	cfg := twoAppStore(t)
	table := run(t, nil, "people", "-c", cfg)
	if table.code != 0 {
		t.Fatal(table.stderr)
	}
	for _, want := range []string{"Notes Cloud: Writer; Team Wiki: Member", "Team Wiki: Member  "} {
		if !strings.Contains(table.stdout, want) {
			t.Errorf("people table should contain %q:\n%s", want, table.stdout)
		}
	}
	detail := run(t, nil, "people", "-c", cfg, "--email", "cat@acme.com")
	for _, want := range []string{"expected role in Notes Cloud: none (no active assignment)\n", "expected role in Team Wiki: Member (okta assignment, default role)\n",
		"yes: Team Wiki (direct)"} {
		if !strings.Contains(detail.stdout, want) {
			t.Errorf("person detail should contain %q:\n%s", want, detail.stdout)
		}
	}
	csv := run(t, nil, "people", "-c", cfg, "--format", "csv", "--email", "ann@acme.com")
	if !strings.Contains(csv.stdout, ",Notes Cloud: Writer; Team Wiki: Member,") {
		t.Errorf("people CSV should give each application's expected role:\n%s", csv.stdout)
	}
}
