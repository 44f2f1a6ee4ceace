package serve_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/graph"
	"github.com/idgraph/idgraph/internal/browsertest"
	"github.com/idgraph/idgraph/store"
)

// newTwoAppFixture serves a store whose one snapshot holds two
// applications, each with a title that is not its capitalised name and a
// ladder of its own: ann is assigned and holds both; bob left and still
// holds both (orphaned in each); cat is assigned the wiki only and holds
// both (unassigned in the SCIM app); eve is assigned both and holds
// neither (missing in each).
func newTwoAppFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "two.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.WriteSnapshot(ctx, twoAppSnapshot(t, 0, nil)); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, st: st, now: time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)}
	f.srv = f.server(nil)
	f.http = httptest.NewServer(f.srv.Handler())
	t.Cleanup(f.http.Close)
	return f
}

// twoAppSnapshot is the fixture's snapshot, a day later for each of day,
// its accounts changed by edit when it is set.
func twoAppSnapshot(t *testing.T, day int, edit func([]collectors.Account) []collectors.Account) *store.Snapshot {
	t.Helper()
	active := collectors.StatusActive
	idp := func(id, email string, status collectors.Status, apps ...string) collectors.Account {
		a := collectors.Account{Source: "okta", ID: id, Email: email, Status: status}
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
		idp("00u3", "cat@acme.com", active, "wiki"), idp("00u5", "eve@acme.com", active, "wiki", "notes"),
		wiki("ann@acme.com", "Member"), wiki("bob@acme.com", "Admin"), wiki("cat@acme.com", "Member"),
		scim("ann@acme.com", "Writer"), scim("bob@acme.com", "Reader"), scim("cat@acme.com", "Writer"),
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
		"wiki":  {Name: "wiki", Title: "Team Wiki", Ladder: []string{"Member", "Admin", "Owner"}, Rules: []diff.RoleRule{{Default: true, Role: "Member", Why: "default role"}}},
		"notes": {Name: "notes", Title: "Notes Cloud", Ladder: []string{"Reader", "Writer", "Workspace Owner"}, Rules: []diff.RoleRule{{Default: true, Role: "Writer", Why: "default role"}}},
	}
	src := map[string]diff.Source{"okta": {Kind: collectors.KindIdP, Complete: true},
		"wiki": {Kind: collectors.KindApp, App: "wiki", Complete: true}, "notes-scim": {Kind: collectors.KindApp, App: "notes", Complete: true}}
	fs, exps := diff.Analyze(diff.Input{Graph: g, Sources: src, Apps: apps})
	now := time.Date(2026, 12, 1+day, 2, 0, 0, 0, time.UTC)
	done := collectors.Completeness{Complete: true, Records: 4}
	return &store.Snapshot{StartedAt: now, FinishedAt: now.Add(time.Minute), ConfigHash: "cfg", Version: "test", Graph: g, Expected: exps, Findings: fs,
		Sources: []store.Source{
			{Info: collectors.Info{Name: "okta", Kind: collectors.KindIdP, Version: "1"}, Completeness: done},
			{Info: collectors.Info{Name: "wiki", Kind: collectors.KindApp, App: "wiki", Title: "Team Wiki", Roles: apps["wiki"].Ladder, Version: "1"}, Completeness: done},
			{Info: collectors.Info{Name: "notes-scim", Kind: collectors.KindApp, App: "notes", Title: "Notes Cloud", Roles: apps["notes"].Ladder, Version: "1"}, Completeness: done},
		}}
}

type appItem struct {
	Key, Kind, App, Email string
}

func (f *fixture) appItems(query string) (int, []appItem, string) {
	f.t.Helper()
	code, body := f.do("GET", "/api/v1/findings"+query, "token", nil)
	var items []appItem
	if code == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &items); err != nil {
			f.t.Fatal(err)
		}
	}
	return code, items, body
}

// TestAPIFilterByApplication: ?app= selects one application's findings,
// by short name or title; a value that names no application of the
// snapshot is refused (400), as an unknown kind is.
func TestAPIFilterByApplication(t *testing.T) {
	f := newTwoAppFixture(t)
	_, all, _ := f.appItems("")
	if len(all) != 5 {
		t.Fatalf("fixture: %d findings, want 5: %+v", len(all), all)
	}
	for _, tt := range []struct {
		query string
		want  int    // status
		app   string // every finding's app, for 200
		n     int
	}{
		{"?app=wiki", 200, "wiki", 2},
		{"?app=notes", 200, "notes", 3},
		{"?app=Notes%20Cloud", 200, "notes", 3},
		{"?app=notes&kind=unassigned", 200, "notes", 1},
		{"?app=stonly", 400, "", 0},
		{"?app=wiki%20", 200, "wiki", 2},
		{"?kind=nonsense", 400, "", 0},
	} {
		code, items, body := f.appItems(tt.query)
		if code != tt.want {
			t.Errorf("%s: %d, want %d: %.200s", tt.query, code, tt.want, body)
			continue
		}
		if code != 200 {
			if !strings.Contains(body, "must be one of") || (strings.Contains(tt.query, "app=") && !strings.Contains(body, "notes, wiki")) {
				t.Errorf("%s: the refusal should list the allowed values: %s", tt.query, body)
			}
			continue
		}
		if len(items) != tt.n || slices.ContainsFunc(items, func(it appItem) bool { return it.App != tt.app }) {
			t.Errorf("%s: %+v, want %d findings of %s", tt.query, items, tt.n, tt.app)
		}
	}
}

// TestFindingsPageFilterByApplication: with two applications the review
// page offers a filter by application, names each finding's application
// by its title, and a decision returns to the page filtered as it was.
func TestFindingsPageFilterByApplication(t *testing.T) {
	f := newTwoAppFixture(t)
	alice := "alice@acme.com:alice-password"
	page := f.send(call{method: "GET", path: "/findings", auth: alice})
	for _, want := range []string{`<select name="app"><option value="">all</option><option value="notes" >Notes Cloud</option><option value="wiki" >Team Wiki</option></select>`,
		"<th>Application</th>", `<td class="app">Notes Cloud</td>`, `<td class="app">Team Wiki</td>`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the findings page should contain %s", want)
		}
	}
	wiki := f.send(call{method: "GET", path: "/findings?app=wiki", auth: alice})
	keys := regexp.MustCompile(`<tr data-key="([^"]+)">`).FindAllStringSubmatch(wiki.body, -1)
	if len(keys) != 2 {
		t.Errorf("?app=wiki lists %d findings, want 2", len(keys))
	}
	for _, k := range keys {
		if !strings.Contains(k[1], "/wiki/") {
			t.Errorf("?app=wiki lists %s", k[1])
		}
	}
	if !strings.Contains(wiki.body, `<option value="wiki" selected>Team Wiki</option>`) {
		t.Error("the application filter should show the application chosen")
	}
	if bad := f.send(call{method: "GET", path: "/findings?app=stonly", auth: alice}); bad.code != http.StatusBadRequest {
		t.Errorf("?app=stonly: %d, want 400", bad.code)
	}

	// A decision made on the filtered page returns to it.
	missing := ""
	for _, k := range keys {
		if strings.HasPrefix(k[1], "missing/wiki/") {
			missing = k[1]
		}
	}
	csrf := f.csrf(call{auth: alice})
	back := regexp.MustCompile(`name="back" value="([^"]+)"`).FindStringSubmatch(wiki.body)
	if missing == "" || back == nil {
		t.Fatalf("no missing finding or back field on the filtered page")
	}
	a := f.send(call{method: "POST", path: "/findings/decide", auth: alice, form: url.Values{"csrf": {csrf}, "finding": {missing},
		"decision": {"exception"}, "justification": {"on leave"}, "expires": {f.now.AddDate(0, 1, 0).Format("2006-01-02")},
		"back": {strings.ReplaceAll(back[1], "&amp;", "&")}}})
	u, err := url.Parse(a.location)
	if a.code != http.StatusSeeOther || err != nil || u.Query().Get("app") != "wiki" || u.Query().Get("msg") != "decision recorded" {
		t.Errorf("after the decision: %d to %q, want the page filtered by app=wiki", a.code, a.location)
	}
}

// TestPersonPageExpectedRolePerApplication: a person page lists the role
// expected in each application, under its title.
func TestPersonPageExpectedRolePerApplication(t *testing.T) {
	f := newTwoAppFixture(t)
	_, items, _ := f.appItems("?kind=unassigned")
	code, body := f.do("GET", "/api/v1/findings?kind=unassigned", "token", nil)
	var full []map[string]any
	json.Unmarshal([]byte(body), &full)
	if code != 200 || len(items) != 1 || items[0].Email != "cat@acme.com" {
		t.Fatalf("fixture: %v", items)
	}
	person := full[0]["person"].(string)
	code, page := f.do("GET", "/people/"+url.PathEscape(person), "alice@acme.com:alice-password", nil)
	if code != 200 {
		t.Fatalf("person page: %d %.300s", code, page)
	}
	for _, want := range []string{"<h2>Expected role in each application</h2>",
		"<tr><td>Notes Cloud</td><td>none</td><td>no active assignment</td></tr>",
		"<tr><td>Team Wiki</td><td><strong>Member</strong></td><td>okta assignment, default role</td></tr>",
		"assigned Team Wiki: direct; "} {
		if !strings.Contains(page, want) {
			t.Errorf("the person page should contain %q", want)
		}
	}
	if strings.Contains(page, "Stonly") {
		t.Error("the person page names an application the snapshot does not hold")
	}
}

// TestDriftPageNamesApplications: with two applications every line of
// the drift page names its application by title.
func TestDriftPageNamesApplications(t *testing.T) {
	f := newTwoAppFixture(t)
	// The next day bob's wiki account is gone (resolved) and ann is a
	// Notes Cloud owner (a raise, and a role_mismatch that appears).
	next := twoAppSnapshot(t, 1, func(accs []collectors.Account) []collectors.Account {
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
	if err := f.st.WriteSnapshot(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	code, page := f.do("GET", "/drift?from=1&to=2", "alice@acme.com:alice-password", nil)
	if code != 200 {
		t.Fatalf("drift page: %d %.300s", code, page)
	}
	for _, want := range []string{"role_mismatch in Notes Cloud: ", "<li>orphaned in Team Wiki: ", "</code></span> in Notes Cloud: Writer → Workspace Owner"} {
		if !strings.Contains(page, want) {
			t.Errorf("the drift page should contain %q:\n%s", want, page)
		}
	}
	var items []struct {
		App      string `json:"app"`
		AppTitle string `json:"app_title"`
	}
	_, body := f.do("GET", "/api/v1/findings", "token", nil)
	if err := json.Unmarshal([]byte(body), &items); err != nil || len(items) == 0 {
		t.Fatalf("findings: %v %s", err, body)
	}
	for _, it := range items {
		if it.AppTitle != map[string]string{"wiki": "Team Wiki", "notes": "Notes Cloud"}[it.App] {
			t.Errorf("a finding of %s has app_title %q", it.App, it.AppTitle)
		}
	}
}

// TestApplicationFilterInChromium: a reviewer narrows the findings to one
// application in real Chromium, records a decision by keyboard, and comes
// back to the page still filtered by that application.
func TestApplicationFilterInChromium(t *testing.T) {
	browsertest.Path(t) // skip, or fail in CI, before building the fixture
	f := newTwoAppFixture(t)
	tab := browsertest.Tab(t)
	ctx, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(f.http.URL+"/findings"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "alice@acme.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "alice-password"),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#findings`)),
		chromedp.SetValue(chromedp.CSS(`select[name=app]`), "notes"),
		chromedp.Click(chromedp.CSS(`form[aria-label=filters] button`)),
		// The old page has #findings too: wait for the wiki's rows to go.
		chromedp.WaitNotPresent(chromedp.CSS(`#findings tr[data-key*="/wiki/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#findings`)),
	); err != nil {
		t.Fatal(err)
	}
	cells, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#findings td.app')].map(td => td.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 3 || slices.ContainsFunc(cells, func(c string) bool { return c != "Notes Cloud" }) {
		t.Fatalf("filtered by Notes Cloud, the page lists %v", cells)
	}
	row := `#findings tr[data-key^="unassigned/notes/"]`
	if err := chromedp.Do(ctx,
		chromedp.Focus(chromedp.CSS(row+` select[name=decision]`)),
		chromedp.KeyEvent("r"),
		chromedp.KeyEvent("\t"),
		chromedp.KeyEvent("not assigned in the IdP\r"),
		chromedp.WaitVisible(chromedp.CSS(`p.msg`)),
	); err != nil {
		t.Fatal(err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "app=notes") {
		t.Errorf("the application filter was lost: %s", loc)
	}
	if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`select[name=app]`))); err != nil || v != "notes" {
		t.Errorf("after the decision the application filter is %q (%v), want notes", v, err)
	}
	if status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(row+` td.review`))); err != nil || !strings.Contains(status, "revoke") || !strings.Contains(status, "not assigned in the IdP") {
		t.Errorf("the decision is not on the row: %q (%v)", status, err)
	}
}
