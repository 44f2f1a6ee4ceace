package okta

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/okta/oktatest"
)

// twoApps is org() with a second application, notion, assigned its own
// way: alice directly (role Editor), Stonly Users by group (priority 1,
// role Viewer), frank's app user INACTIVE.
func twoApps() *oktatest.Scenario {
	sc := org()
	sc.Apps = []oktatest.App{{ID: "0oaNotion", Label: "Notion",
		Direct:           []oktatest.DirectAssignment{{UserID: "00u01", Role: "Editor"}},
		GroupAssignments: []oktatest.GroupAssignment{{GroupID: "00gUsers", Priority: 1, Role: "Viewer"}},
		AppUserStatus:    map[string]string{"00u06": "INACTIVE"},
	}}
	return sc
}

func withApps(c *Config) {
	c.AppID, c.Apps = "", map[string]string{"stonly": "0oaStonly", "notion": "0oaNotion"}
}

func TestSeveralApps(t *testing.T) {
	srv := oktatest.NewServer(twoApps())
	defer srv.Close()
	res, err := collector(t, srv, withApps, func(c *Config) { c.MaxConcurrency = 2 }).Collect(context.Background(), collectors.Request{})
	if err != nil || !res.Completeness.Complete {
		t.Fatalf("err %v %+v", err, res.Completeness)
	}
	m := byEmail(res.Accounts)
	type want struct {
		inForce bool
		roles   []string
		viaHas  string
	}
	for _, tt := range []struct {
		email, app string
		want       *want // nil: no record of the app at all
	}{
		{"alice@acme.com", "stonly", &want{true, []string{"Admin"}, "group Stonly Admins (priority 1, role Admin)"}},
		{"alice@acme.com", "notion", &want{true, []string{"Editor"}, "direct assignment"}},
		{"frank@acme.com", "stonly", &want{true, []string{"Member"}, "group Stonly Users (priority 2, role Member)"}},
		{"frank@acme.com", "notion", &want{false, nil, "app user INACTIVE (scope GROUP): grants nothing"}},
		{"heidi@acme.com", "stonly", &want{true, []string{"Member"}, "direct assignment"}},
		{"heidi@acme.com", "notion", nil},
		{"grace@acme.com", "notion", nil},
	} {
		a := m[tt.email]
		as := a.Assignment(tt.app)
		switch {
		case tt.want == nil && as != nil:
			t.Errorf("%s: %s is not assigned, yet has %+v", tt.email, tt.app, *as)
		case tt.want == nil:
		case as == nil:
			t.Errorf("%s: no assignment of %s: %+v", tt.email, tt.app, a.Assignments)
		case as.InForce != tt.want.inForce || !slices.Equal(as.Roles, tt.want.roles) || !slices.Contains(as.Via, tt.want.viaHas):
			t.Errorf("%s, %s: %+v, want in force %v, roles %v, via with %q", tt.email, tt.app, *as, tt.want.inForce, tt.want.roles, tt.want.viaHas)
		}
		if a.Assignment("") != nil {
			t.Errorf("%s: an assignment of app \"\" with okta.apps: %+v", tt.email, a.Assignments)
		}
	}
	if g := m["alice@acme.com"].Groups; len(g) != 2 {
		t.Errorf("alice's groups %v: a group assigned to two apps is listed once", g)
	}
	parts := map[string]int{}
	for _, p := range res.Completeness.Parts {
		parts[p.ID] = p.Records
	}
	wantParts := map[string]int{"users": 7, "deprovisioned_users": 1, "app_users:stonly": 5, "groups:stonly": 2,
		"app_users:notion": 3, "groups:notion": 1, "group_members": 5}
	if fmt.Sprint(parts) != fmt.Sprint(wantParts) {
		t.Errorf("parts %v, want %v", parts, wantParts)
	}
	st := srv.Stats()
	if n := st.Requests["GET /api/v1/groups/{id}/users"]; n != 2 {
		t.Errorf("%d group member reads: a group assigned to two apps is read once", n)
	}
	if st.MaxInFlight > 2 {
		t.Errorf("%d requests in flight with max_concurrency 2", st.MaxInFlight)
	}
	if w := strings.Join(res.Completeness.Warnings, "|"); !strings.Contains(w, "app notion: app users whose assignment is not in force, counted as not assigned: INACTIVE 1") {
		t.Errorf("warnings %q do not name the app", w)
	}
}

// bigNotion is an org of 1,200 users whose second app, notion, has 1,100
// app users: three pages of 500.
func bigNotion() *oktatest.Scenario {
	sc := oktatest.Generate(1200, 600, 1)
	sc.Token = token
	app := oktatest.App{ID: "0oaNotion"}
	for i := range 1100 {
		app.Direct = append(app.Direct, oktatest.DirectAssignment{UserID: oktatest.UserID(i), Role: "Editor"})
	}
	sc.Apps = []oktatest.App{app}
	return sc
}

func TestOneAppFails(t *testing.T) {
	for _, tt := range []struct {
		name   string
		apps   map[string]string
		faults oktatest.Faults
		errHas []string
		fixHas string
	}{
		{"notion's users fail on page 2", map[string]string{"stonly": "0oa1stonly00000000", "notion": "0oaNotion"},
			oktatest.Faults{FailPath: "/api/v1/apps/0oaNotion/users", FailPage: 2},
			[]string{"reading the users of app notion (0oaNotion), page 2"}, ""},
		{"notion's users are malformed on page 3", map[string]string{"stonly": "0oa1stonly00000000", "notion": "0oaNotion"},
			oktatest.Faults{MalformedPath: "/api/v1/apps/0oaNotion/users", MalformedPage: 3},
			[]string{"reading the users of app notion (0oaNotion), page 3"}, ""},
		{"an app id Okta does not know", map[string]string{"stonly": "0oa1stonly00000000", "notion": "0oaTypo"},
			oktatest.Faults{},
			[]string{"Okta has no application 0oaTypo (okta.apps.notion", "reading the users of app notion (0oaTypo)"}, "check okta.apps.notion"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := oktatest.NewServer(bigNotion())
			defer srv.Close()
			srv.SetFaults(tt.faults)
			c := collector(t, srv, func(c *Config) { c.AppID, c.Apps = "", tt.apps; zero := 0; c.MaxRetries = &zero })
			res, err := c.Collect(context.Background(), collectors.Request{})
			if err == nil || res.Completeness.Complete {
				t.Fatalf("one app's failed read passed as complete: %+v", res.Completeness)
			}
			for _, s := range append(tt.errHas, tt.fixHas) {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "app stonly") {
				t.Errorf("error %q blames stonly, which was read", err)
			}
			if len(res.Completeness.Parts) != 0 {
				t.Errorf("an incomplete read records parts: %+v", res.Completeness.Parts)
			}
			if tt.fixHas == "" {
				return
			}
			checks := c.Check(context.Background())
			byName := map[string]collectors.Check{}
			for _, ch := range checks {
				byName[ch.Name] = ch
			}
			if ch := byName["read app notion"]; ch.OK || !strings.Contains(ch.Fix, tt.fixHas) || !strings.Contains(ch.Detail, "0oaTypo") {
				t.Errorf("doctor on notion: %+v", ch)
			}
			if ch := byName["read app stonly"]; !ch.OK {
				t.Errorf("doctor on stonly: %+v", ch)
			}
		})
	}
}

// factory builds the okta sources of a YAML okta section, through the
// registry, as the run does.
func factory(t *testing.T, text string, getenv func(string) string) ([]collectors.Collector, error) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	f, ok := collectors.Lookup("okta")
	if !ok {
		t.Fatal("okta is not registered")
	}
	return f(doc.Content[0].Content[1], collectors.Env{File: "idgraph.yaml", Getenv: getenv})
}

func TestAppsConfiguration(t *testing.T) {
	getenv := func(string) string { return token }
	for _, tt := range []struct {
		name, yaml string
		errHas     string
		apps       []appRef
	}{
		{"app_id keeps working", "okta: {org_url: https://acme.okta.com, token_env: T, app_id: 0oa1}", "",
			[]appRef{{id: "0oa1", conf: "okta.app_id"}}},
		{"apps by name", "okta: {org_url: https://acme.okta.com, token_env: T, apps: {stonly: 0oa1, notion: 0oa2}}", "",
			[]appRef{{"notion", "0oa2", "okta.apps.notion"}, {"stonly", "0oa1", "okta.apps.stonly"}}},
		{"both", "okta: {org_url: https://acme.okta.com, token_env: T, app_id: 0oa1, apps: {notion: 0oa2}}",
			"idgraph.yaml: okta.app_id and okta.apps exclude each other", nil},
		{"neither", "okta: {org_url: https://acme.okta.com, token_env: T}", "idgraph.yaml: okta.app_id is required", nil},
		{"an empty id", "okta: {org_url: https://acme.okta.com, token_env: T, apps: {notion: ''}}", "okta.apps.notion: the Okta app id is empty", nil},
		{"one app twice", "okta: {org_url: https://acme.okta.com, token_env: T, apps: {notion: 0oa2, wiki: 0oa2}}", "apps.notion and apps.wiki name the same Okta app 0oa2", nil},
		{"a named org", "okta: [{name: acquired, org_url: https://acq.okta.com, token_env: T, app_id: 0oa1, apps: {x: 0oa2}}]",
			"idgraph.yaml: okta[acquired].app_id and okta[acquired].apps exclude each other", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := factory(t, tt.yaml, getenv)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("err %v, want %q", err, tt.errHas)
				}
				return
			}
			if err != nil || len(cs) != 1 {
				t.Fatalf("err %v, %d sources", err, len(cs))
			}
			if got := cs[0].(*Collector).apps; fmt.Sprint(got) != fmt.Sprint(tt.apps) {
				t.Errorf("apps %v, want %v", got, tt.apps)
			}
		})
	}
}

func TestSeveralOrgs(t *testing.T) {
	acme := oktatest.NewServer(org())
	defer acme.Close()
	acq := oktatest.Generate(300, 40, 7)
	acq.Token = token
	acquired := oktatest.NewServer(acq)
	defer acquired.Close()
	text := fmt.Sprintf(`okta:
  - name: okta
    org_url: %s
    token_env: OKTA_API_TOKEN
    app_id: 0oaStonly
  - name: okta-acquisicorp
    org_url: %s
    token_env: OKTA_API_TOKEN
    apps: {stonly: %s}
`, acme.URL, acquired.URL, acq.AppID)
	cs, err := factory(t, text, func(string) string { return token })
	if err != nil || len(cs) != 2 {
		t.Fatalf("err %v, %d sources", err, len(cs))
	}
	for i, tt := range []struct {
		name    string
		records int
		app     string
	}{{"okta", 8, ""}, {"okta-acquisicorp", 300, "stonly"}} {
		info := cs[i].Info()
		if info.Name != tt.name || info.Type != "okta" || info.Kind != collectors.KindIdP {
			t.Errorf("source %d: %+v", i, info)
		}
		res, err := cs[i].Collect(context.Background(), collectors.Request{})
		if err != nil || res.Completeness.Records != tt.records || res.Completeness.Source != tt.name {
			t.Fatalf("%s: err %v, %+v", tt.name, err, res.Completeness)
		}
		assigned := 0
		for _, a := range res.Accounts {
			if a.Source != tt.name {
				t.Fatalf("%s: account %s has source %q", tt.name, a.ID, a.Source)
			}
			if a.AssignedTo(tt.app) {
				assigned++
			}
		}
		if assigned == 0 {
			t.Errorf("%s: nobody assigned %q", tt.name, tt.app)
		}
	}
	// A failure names the org.
	acquired.SetFaults(oktatest.Faults{FailPath: "/api/v1/users", FailPage: 1})
	if _, err := cs[1].Collect(context.Background(), collectors.Request{}); err == nil || !strings.Contains(err.Error(), "okta (okta-acquisicorp): reading users, page 1") {
		t.Errorf("error %v does not name the org", err)
	}
	for _, bad := range []struct{ yaml, errHas string }{
		{"okta: [{org_url: https://a.okta.com, token_env: T, app_id: x}]", "name is required"},
		{"okta: [{name: a, org_url: https://a.okta.com, token_env: T, app_id: x}, {name: a, org_url: https://b.okta.com, token_env: T, app_id: y}]", `name "a" is used twice`},
		{"okta: [{name: a, org_url: https://a.okta.com, token_env: T}]", "okta[a].app_id is required"},
		{"okta: [{name: a, org_url: https://a.okta.com, token_env: UNSET, app_id: x}]", "okta[a].token_env names environment variable UNSET"},
	} {
		_, err := factory(t, bad.yaml, func(k string) string {
			if k == "UNSET" {
				return ""
			}
			return token
		})
		if err == nil || !strings.Contains(err.Error(), bad.errHas) {
			t.Errorf("%s: err %v, want %q", bad.yaml, err, bad.errHas)
		}
	}
}

func TestScopedAdminWithSeveralApps(t *testing.T) {
	sc := twoApps()
	sc.AdminRoles = []oktatest.AdminRole{{Type: "USER_ADMIN", Targets: []string{"00gAdmins"}}}
	srv := oktatest.NewServer(sc)
	defer srv.Close()
	c := collector(t, srv, withApps)
	res, err := c.Collect(context.Background(), collectors.Request{})
	if err == nil || res.Completeness.Complete || classOf(err) != ClassPermission || !strings.Contains(err.Error(), "limited to groups Stonly Admins") {
		t.Fatalf("a scoped admin's read of two apps: err %v, %+v", err, res.Completeness)
	}
	for _, ch := range c.Check(context.Background()) {
		if ch.Name == "admin role" && ch.OK {
			t.Errorf("doctor passes a scoped admin: %+v", ch)
		}
	}
}
