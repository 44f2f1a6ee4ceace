package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/graph"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/store"
)

// twoApps is a snapshot of two applications, each with a title that is
// not its capitalised name (so that a title can only come from the data)
// and a role ladder of its own:
//   - ann is assigned both and holds both: no finding;
//   - bob left okta and still holds both: orphaned in each;
//   - cat is assigned the wiki only and holds both: unassigned in the SCIM app;
//   - dan is a SCIM-app owner by group and holds its lowest role: role_mismatch;
//   - eve is assigned both and holds neither: missing in each.
func twoApps(t *testing.T) *report.Data { return twoAppsThen(t, nil) }

// twoAppsThen is twoApps with a second snapshot a day later whose accounts
// next changes, when it is set; it returns the second.
func twoAppsThen(t *testing.T, next func([]collectors.Account) []collectors.Account) *report.Data {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "two.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.WriteSnapshot(ctx, TwoAppSnapshot(t, 0, nil)); err != nil {
		t.Fatal(err)
	}
	if next != nil {
		if err := st.WriteSnapshot(ctx, TwoAppSnapshot(t, 1, next)); err != nil {
			t.Fatal(err)
		}
	}
	d, err := report.Load(ctx, st, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TwoAppSnapshot builds the two-application snapshot of twoApps, day
// days later, with its accounts changed by edit when it is set.
func TwoAppSnapshot(t *testing.T, day int, edit func([]collectors.Account) []collectors.Account) *store.Snapshot {
	t.Helper()
	active, inactive := collectors.StatusActive, collectors.StatusInactive
	idp := func(id, email string, status collectors.Status, groups []string, apps ...string) collectors.Account {
		a := collectors.Account{Source: "okta", ID: id, Email: email, Status: status, Groups: groups}
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
		idp("00u1", "ann@acme.com", active, nil, "wiki", "notes"),
		idp("00u2", "bob@acme.com", inactive, nil, "wiki", "notes"),
		idp("00u3", "cat@acme.com", active, nil, "wiki"),
		idp("00u4", "dan@acme.com", active, []string{"Notes Owners"}, "notes"),
		idp("00u5", "eve@acme.com", active, nil, "wiki", "notes"),
		wiki("ann@acme.com", "Member"), wiki("bob@acme.com", "Admin"), wiki("cat@acme.com", "Member"),
		scim("ann@acme.com", "Writer"), scim("bob@acme.com", "Reader"), scim("cat@acme.com", "Writer"), scim("dan@acme.com", "Reader"),
	}
	if edit != nil {
		accs = edit(accs)
	}
	graph.SortAccounts(accs)
	g, err := graph.Correlate(accs, graph.Options{IdPs: map[string]bool{"okta": true}})
	if err != nil {
		t.Fatal(err)
	}
	apps := map[string]diff.App{
		"wiki": {Name: "wiki", Title: "Team Wiki", Ladder: []string{"Member", "Admin", "Owner"},
			Rules: []diff.RoleRule{{Default: true, Role: "Member", Why: "default role"}}},
		"notes": {Name: "notes", Title: "Notes Cloud", Ladder: []string{"Reader", "Writer", "Workspace Owner"}, Rules: []diff.RoleRule{
			{Sources: []string{"okta"}, Group: "Notes Owners", Role: "Workspace Owner", Why: "okta group Notes Owners"},
			{Default: true, Role: "Writer", Why: "default role"}}},
	}
	src := map[string]diff.Source{
		"okta":       {Kind: collectors.KindIdP, Complete: true},
		"wiki":       {Kind: collectors.KindApp, App: "wiki", Complete: true},
		"notes-scim": {Kind: collectors.KindApp, App: "notes", Complete: true},
	}
	fs, exps := diff.Analyze(diff.Input{Graph: g, Sources: src, Apps: apps})
	now := time.Date(2026, 12, 1+day, 2, 0, 0, 0, time.UTC)
	done := collectors.Completeness{Complete: true, Records: 5}
	return &store.Snapshot{
		StartedAt: now, FinishedAt: now.Add(time.Minute), ConfigHash: "cfg", Version: "test",
		Sources: []store.Source{
			{Info: collectors.Info{Name: "okta", Type: "okta", Kind: collectors.KindIdP, Version: "1"}, Completeness: done},
			{Info: collectors.Info{Name: "wiki", Type: "csvfile", Kind: collectors.KindApp, App: "wiki", Title: "Team Wiki",
				Roles: apps["wiki"].Ladder, Version: "1"}, Completeness: done},
			{Info: collectors.Info{Name: "notes-scim", Type: "scim", Kind: collectors.KindApp, App: "notes", Title: "Notes Cloud",
				Roles: apps["notes"].Ladder, Version: "1"}, Completeness: done},
		},
		Graph: g, Expected: exps, Findings: fs,
	}
}

func keysOf(fs []diff.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Kind+"/"+f.App+"/"+f.Email)
	}
	slices.Sort(out)
	return out
}

// TestTwoAppSnapshotFindings pins the fixture the other tests read.
func TestTwoAppSnapshotFindings(t *testing.T) {
	d := twoApps(t)
	want := []string{"missing/notes/eve@acme.com", "missing/wiki/eve@acme.com", "orphaned/notes/bob@acme.com", "orphaned/wiki/bob@acme.com",
		"role_mismatch/notes/dan@acme.com", "unassigned/notes/cat@acme.com"}
	if got := keysOf(d.Facts()); !slices.Equal(got, want) {
		t.Fatalf("findings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	apps := d.Apps()
	if len(apps) != 2 || apps[0].Title != "Notes Cloud" || apps[1].Title != "Team Wiki" || !slices.Equal(apps[0].Roles, []string{"Reader", "Writer", "Workspace Owner"}) {
		t.Errorf("apps = %+v", apps)
	}
}

// TestHTMLGroupsByApplication: with two applications each finding and
// each team is listed under its own application's title, never the
// other's.
func TestHTMLGroupsByApplication(t *testing.T) {
	d := twoApps(t)
	var b bytes.Buffer
	if err := report.WriteHTML(&b, d); err != nil {
		t.Fatal(err)
	}
	h := b.String()
	if !strings.Contains(h, "who has Notes Cloud and Team Wiki, and who should") {
		t.Error("the heading should name both applications by their titles")
	}
	if !strings.Contains(h, `<p class="counts" id="per-app">Notes Cloud: 4 findings · Team Wiki: 2 findings</p>`) {
		t.Error("the header should count findings per application")
	}
	if !strings.Contains(h, `<a href="#findings-notes">Notes Cloud</a><a href="#findings-wiki">Team Wiki</a>`) {
		t.Error("the navigation should link each application's findings")
	}
	section := h[strings.Index(h, `<section id="findings">`):]
	section = section[:strings.Index(section, "</section>")]
	heads := regexp.MustCompile(`<h3 id="findings-([a-z]+)">([^<]*) \((\d+)\)</h3>`).FindAllStringSubmatchIndex(section, -1)
	if len(heads) != 2 {
		t.Fatalf("want one heading per application in the findings section, got %d", len(heads))
	}
	byApp := map[string]string{} // finding id -> app whose heading it is under
	for i, hd := range heads {
		end := len(section)
		if i+1 < len(heads) {
			end = heads[i+1][0]
		}
		app := section[hd[2]:hd[3]]
		for _, m := range regexp.MustCompile(`<tr id="f-([0-9a-f]+)">`).FindAllStringSubmatch(section[hd[1]:end], -1) {
			byApp[m[1]] = app
		}
		if title := section[hd[4]:hd[5]]; title != map[string]string{"notes": "Notes Cloud", "wiki": "Team Wiki"}[app] {
			t.Errorf("heading of %s says %q", app, title)
		}
	}
	for _, f := range d.Facts() {
		if byApp[f.ID] != f.App {
			t.Errorf("%s %s of %s is listed under %q", f.Kind, f.Email, f.App, byApp[f.ID])
		}
	}
	if len(byApp) != len(d.Facts()) {
		t.Errorf("%d findings listed, want %d", len(byApp), len(d.Facts()))
	}
	teams := h[strings.Index(h, `<section id="teams">`):]
	for _, want := range []string{`<h3 id="teams-notes">Notes Cloud</h3>`, "Notes Cloud has no teams", `<h3 id="teams-wiki">Team Wiki</h3>`,
		`<th>Team</th><th class="n">Owner</th><th class="n">Admin</th><th class="n">Member</th><th>Other roles</th>`} {
		if !strings.Contains(teams, want) {
			t.Errorf("the roles per team should contain %q", want)
		}
	}
	if strings.Contains(h, "Stonly") {
		t.Error("the report names an application that is not in the snapshot")
	}
}

// TestMarkdownCountsPerApplication: the summary counts each application's
// findings under its title and says which application each line is about.
func TestMarkdownCountsPerApplication(t *testing.T) {
	d := twoApps(t)
	var b bytes.Buffer
	if err := report.WriteMarkdown(&b, d); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"# Access review: Notes Cloud and Team Wiki, snapshot 1",
		"## By application\n- Notes Cloud: 4 findings (2 high, 2 low)\n- Team Wiki: 2 findings (1 critical, 1 low)\n",
		"- CRITICAL orphaned in Team Wiki: bob@acme.com", "- HIGH orphaned in Notes Cloud: bob@acme.com",
		"- notes-scim: 4 Notes Cloud accounts", "- wiki: 3 Team Wiki accounts in 1 team"} {
		if !strings.Contains(md, want) {
			t.Errorf("the summary should contain %q:\n%s", want, md)
		}
	}
}

// TestAccountsCSVExpectedRolePerApplication: each application account
// shows the role the IdPs imply in ITS application, and each missing row
// names its application.
func TestAccountsCSVExpectedRolePerApplication(t *testing.T) {
	d := twoApps(t)
	b, _, _, err := report.AccountsCSV(d, report.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, c := range recs[0] {
		col[c] = i
	}
	got := map[string]string{} // system/email -> expected_role (why)
	for _, r := range recs[1:] {
		email := r[col["account_email"]]
		if email == "" {
			email = r[col["matched_person_email"]]
		}
		got[r[col["system"]]+"/"+r[col["status"]]+"/"+email] = r[col["expected_role"]] + " (" + r[col["expected_why"]] + ")"
	}
	want := map[string]string{
		"wiki/active/ann@acme.com":       "Member (okta assignment, default role)",
		"notes-scim/active/ann@acme.com": "Writer (okta assignment, default role)",
		"wiki/active/bob@acme.com":       " ()", // a leaver: nothing is expected
		"notes-scim/active/bob@acme.com": " ()",
		"wiki/active/cat@acme.com":       "Member (okta assignment, default role)",
		"notes-scim/active/cat@acme.com": " ()", // assigned the wiki only
		"notes-scim/active/dan@acme.com": "Workspace Owner (okta group Notes Owners)",
		"wiki/missing/eve@acme.com":      "Member (okta assignment, default role)",
		"notes/missing/eve@acme.com":     "Writer (okta assignment, default role)",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: expected role %q, want %q", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("rows %v, want %d", got, len(want))
	}
}

// TestAppsTitles: titles come from the sources; a source without one (a
// snapshot written before applications had titles) gets its name,
// capitalised.
func TestAppsTitles(t *testing.T) {
	app := func(name, app, title string, roles ...string) store.Source {
		return store.Source{Info: collectors.Info{Name: name, Kind: collectors.KindApp, App: app, Title: title, Roles: roles}}
	}
	idp := store.Source{Info: collectors.Info{Name: "okta", Kind: collectors.KindIdP}}
	tests := []struct {
		name    string
		sources []store.Source
		want    []string // titles, in order
		all     string   // AppTitle
	}{
		{"none", []store.Source{idp}, nil, "the application"},
		{"declared title", []store.Source{idp, app("w", "wiki", "Team Wiki")}, []string{"Team Wiki"}, "Team Wiki"},
		{"no title: the name capitalised", []store.Source{app("s", "stonly", "")}, []string{"Stonly"}, "Stonly"},
		{"two sources of one app: one entry, the declared title", []store.Source{app("a", "wiki", ""), app("b", "wiki", "Team Wiki")}, []string{"Team Wiki"}, "Team Wiki"},
		{"ordered by title", []store.Source{app("w", "wiki", "Zeta"), app("n", "notes", "Alpha")}, []string{"Alpha", "Zeta"}, "Alpha and Zeta"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, a := range report.Apps(tt.sources) {
				got = append(got, a.Title)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Apps = %v, want %v", got, tt.want)
			}
			if all := report.AppTitle(tt.sources); all != tt.all {
				t.Errorf("AppTitle = %q, want %q", all, tt.all)
			}
		})
	}
	apps := report.Apps([]store.Source{app("w", "wiki", "Team Wiki")})
	if report.TitleIn(apps, "wiki") != "Team Wiki" || report.TitleIn(apps, "other") != "Other" {
		t.Error("TitleIn should give the declared title, else the capitalised name")
	}
	if a, ok := report.FindApp(apps, "team wiki"); !ok || a.Name != "wiki" {
		t.Error("FindApp should find an application by its title")
	}
	if _, ok := report.FindApp(apps, "notes"); ok {
		t.Error("FindApp found an application the snapshot lacks")
	}
}

// TestDriftNamesApplications: with two applications the report's and the
// CLI's drift name each finding's and each role change's application.
func TestDriftNamesApplications(t *testing.T) {
	// The next day bob's wiki account is gone (resolved) and ann is a
	// Notes Cloud owner (a raise, and a role_mismatch that appears).
	d := twoAppsThen(t, func(accs []collectors.Account) []collectors.Account {
		out := accs[:0]
		for _, a := range accs {
			switch {
			case a.Source == "wiki" && a.Email == "bob@acme.com":
				continue
			case a.Source == "notes-scim" && a.Email == "ann@acme.com":
				a.Role = "Workspace Owner"
			}
			out = append(out, a)
		}
		return out
	})
	if d.Drift == nil {
		t.Fatal("no drift between the two snapshots")
	}
	var h, txt bytes.Buffer
	if err := report.WriteHTML(&h, d); err != nil {
		t.Fatal(err)
	}
	drift := h.String()[strings.Index(h.String(), `<section id="drift">`):]
	drift = drift[:strings.Index(drift, "</section>")]
	for _, want := range []string{`role_mismatch <span class="app">in Notes Cloud</span>`, "<li>orphaned in Team Wiki: ", "</code></span> in Notes Cloud: Writer → Workspace Owner</li>"} {
		if !strings.Contains(drift, want) {
			t.Errorf("the report's drift should contain %q:\n%s", want, drift)
		}
	}
	if err := report.DriftTextIn(&txt, d.Drift, d.Snapshot.Sources, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"role_mismatch Notes Cloud ", "orphaned      Team Wiki ", "(notes-scim:ann@acme.com) in Notes Cloud  Writer -> Workspace Owner"} {
		if !strings.Contains(txt.String(), want) {
			t.Errorf("the CLI's drift should contain %q:\n%s", want, txt.String())
		}
	}
	// Of one application, the text is DriftText's.
	var one, plain bytes.Buffer
	report.DriftTextIn(&one, d.Drift, d.Snapshot.Sources[:2], false)
	report.DriftText(&plain, d.Drift, false)
	if one.String() != plain.String() {
		t.Errorf("one application's drift differs from DriftText:\n%s\n%s", one.String(), plain.String())
	}
}

// TestOneApplicationReadsAsBefore: a snapshot of one application shows
// none of what several applications add (per-application headings,
// counts, links or labels), so its report reads as it always has.
func TestOneApplicationReadsAsBefore(t *testing.T) {
	d := snapshot(t, t.TempDir(), "")
	if n := len(d.Apps()); n != 1 {
		t.Fatalf("the quick start has %d applications, want 1", n)
	}
	var h, md bytes.Buffer
	if err := report.WriteHTML(&h, d); err != nil {
		t.Fatal(err)
	}
	report.WriteMarkdown(&md, d)
	for _, bad := range []string{`id="per-app"`, `<h3 id="findings-`, `<h3 id="teams-`, `class="app"`, `href="#findings-`, "has no teams"} {
		if strings.Contains(h.String(), bad) {
			t.Errorf("the report of one application contains %q", bad)
		}
	}
	if !strings.Contains(h.String(), `<h2>Roles per team</h2>
<div class="wide"><table><tr><th>Team</th><th class="n">Owner</th><th class="n">Admin</th><th class="n">Member</th><th>Other roles</th>`) {
		t.Error("the roles per team should be one table, its columns the ladder from the highest role")
	}
	if strings.Contains(md.String(), "## By application") || regexp.MustCompile(`(?m)^- [A-Z]+ [a-z_\\]+ in `).MatchString(md.String()) {
		t.Errorf("the summary of one application names applications per line:\n%s", md.String())
	}
}
