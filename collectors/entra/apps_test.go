package entra

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/entra/graphtest"
)

// appsScenario is a tenant with two enterprise applications: the
// generated Stonly (assignment required) and Notion (open access), which
// is assigned to Stonly Admins with its Editor role, to user 5 directly,
// and to "Notion Users" (users 200-209, with Support Tier 2 nested in it).
func appsScenario() (*graphtest.Scenario, map[string]string) {
	g := graphtest.GUID
	sc := graphtest.Generate(600, 100)
	notionUsers := graphtest.Group{ID: g(6, 4), DisplayName: "Notion Users", Members: []string{g(6, 3)}}
	for i := 200; i < 210; i++ {
		notionUsers.Members = append(notionUsers.Members, g(7, i))
	}
	sc.Groups = append(sc.Groups, notionUsers)
	notion := sc.AddApp(2, "Notion", "Editor", "Viewer")
	notion.AssignmentNotRequired = true
	notion.Assignments = []graphtest.Assignment{
		{PrincipalID: g(6, 2), AppRoleID: notion.AppRoles[0].ID},
		{PrincipalID: g(7, 5), AppRoleID: graphtest.DefaultAccess},
		{PrincipalID: notionUsers.ID, AppRoleID: graphtest.DefaultAccess},
	}
	return sc, map[string]string{"stonly": sc.SPID, "notion": notion.ID}
}

func withApps(apps map[string]string) func(*Config) {
	return func(c *Config) { c.ServicePrincipalID, c.Apps = "", apps }
}

// TestSeveralApps: with entra.apps every application is read with its own
// roles, assignments and open-access setting, and assigned apart: one
// Assignment per application, one AppPolicy per application, one part per
// application and list.
func TestSeveralApps(t *testing.T) {
	sc, apps := appsScenario()
	srv, c := start(t, sc, withApps(apps))
	res, err := c.Collect(context.Background(), collectors.Request{})
	if err != nil || !res.Completeness.Complete {
		t.Fatalf("err %v %+v", err, res.Completeness)
	}
	policies := map[string]collectors.AppPolicy{}
	for _, p := range res.Policies {
		policies[p.App] = p
	}
	if len(res.Policies) != 2 || policies["stonly"].OpenAccess || policies["stonly"].AppID != sc.SPID ||
		!policies["notion"].OpenAccess || policies["notion"].AppID != apps["notion"] || !strings.Contains(policies["notion"].Detail, "service principal Notion") {
		t.Errorf("policies %+v: want stonly assignment required and notion open access", res.Policies)
	}
	m := byUPN(res.Accounts)
	for _, tt := range []struct {
		upn, app string
		in       bool
		roles    []string
		via      string
	}{
		{"user0000000@acme.com", "stonly", true, []string{"Admin"}, "direct assignment (app role Admin)"},
		{"user0000000@acme.com", "notion", false, nil, ""},
		{"user0000013@acme.com", "stonly", true, []string{"Admin"}, "group Stonly Admins (app role Admin)"},
		{"user0000013@acme.com", "notion", true, []string{"Editor"}, "group Stonly Admins (app role Editor)"},
		{"user0000005@acme.com", "stonly", true, nil, "group Stonly Users (default access)"},
		{"user0000005@acme.com", "notion", true, nil, "direct assignment (default access)"},
		{"user0000205@acme.com", "stonly", false, nil, ""},
		{"user0000205@acme.com", "notion", true, nil, "group Notion Users (default access)"},
		{"user0000296@acme.com", "notion", false, nil, ""}, // Support Tier 2, nested in Notion Users
	} {
		a := m[tt.upn]
		as := asg(a, tt.app)
		if as.InForce != tt.in || !slices.Equal(as.Roles, tt.roles) || tt.in && (len(as.Via) != 1 || as.Via[0] != tt.via) {
			t.Errorf("%s, %s: %+v, want in force %v, roles %v, via %q", tt.upn, tt.app, as, tt.in, tt.roles, tt.via)
		}
		if a.Assignment("") != nil {
			t.Errorf("%s: an assignment of app \"\" with entra.apps: %+v", tt.upn, a.Assignments)
		}
	}
	if g := m["user0000013@acme.com"].Groups; !slices.Equal(g, []string{"Stonly Admins"}) {
		t.Errorf("a group that grants two applications is listed once: %v", g)
	}
	nested := m["user0000296@acme.com"].NestedGroups
	if len(nested) != 2 || !strings.HasPrefix(nested[0], "Notion Users (nested: through Support Tier 2") && !strings.HasPrefix(nested[1], "Notion Users (nested") {
		t.Errorf("nesting explained for both applications' groups: %v", nested)
	}
	var ids []string
	for _, p := range res.Completeness.Parts {
		ids = append(ids, p.ID)
	}
	if want := []string{"app_role_assignments:notion", "app_role_assignments:stonly", "group_members:notion", "group_members:stonly", "users"}; !slices.Equal(ids, want) {
		t.Errorf("parts %v, want %v", ids, want)
	}
	if p, _ := part(res.Completeness, "app_role_assignments:notion"); p.Records != 3 {
		t.Errorf("notion's assignments part: %+v", p)
	}
	if p, _ := part(res.Completeness, "group_members:notion"); p.Records != len(sc.Groups[1].Members)+10 {
		t.Errorf("notion's group members part: %+v, want Stonly Admins' and Notion Users' direct users", p)
	}
	// Groups assigned to both applications are read once.
	if n := srv.Stats().Requests["GET /v1.0/groups/{id}/members"]; n != 3 {
		t.Errorf("%d group member reads, want one per assigned group (3)", n)
	}

	// A delta run re-reads every application's assignments.
	srv.Update(func(sc *graphtest.Scenario) {
		sc.Apps[0].Assignments = append(sc.Apps[0].Assignments, graphtest.Assignment{PrincipalID: graphtest.GUID(7, 300), AppRoleID: sc.Apps[0].AppRoles[1].ID})
	})
	srv.ResetStats()
	second, err := c.Collect(context.Background(), collectors.Request{Previous: &collectors.Previous{State: res.State, Accounts: res.Accounts}})
	if err != nil || second.Completeness.Mode != "delta" {
		t.Fatalf("err %v mode %q", err, second.Completeness.Mode)
	}
	if n := srv.Stats().Requests["GET /v1.0/servicePrincipals/{id}/appRoleAssignedTo"]; n != 2 {
		t.Errorf("%d assignment reads on the delta run, want one per application", n)
	}
	m2 := byUPN(second.Accounts)
	if as := asg(m2["user0000300@acme.com"], "notion"); !as.InForce || !slices.Equal(as.Roles, []string{"Viewer"}) {
		t.Errorf("an assignment made since the last run: %+v", as)
	}
	if u13 := m2["user0000013@acme.com"]; !u13.AssignedTo("notion") || !u13.AssignedTo("stonly") {
		t.Errorf("assignments carried on the delta run: %+v", u13.Assignments)
	}
}

// TestSeveralAppsFailures: a failure reading one application makes the
// source incomplete and names that application; an unknown service
// principal names its key, in the run and in doctor.
func TestSeveralAppsFailures(t *testing.T) {
	t.Run("one application's assignments fail", func(t *testing.T) {
		sc, apps := appsScenario()
		srv, c := start(t, sc, withApps(apps))
		srv.SetFaults(graphtest.Faults{FailPath: "/v1.0/servicePrincipals/" + apps["notion"] + "/appRoleAssignedTo", FailPage: 1})
		res, err := c.Collect(context.Background(), collectors.Request{})
		if err == nil || res.Completeness.Complete || !strings.Contains(err.Error(), "reading the assignments of application notion") || strings.Contains(err.Error(), "application stonly") {
			t.Fatalf("err %v complete %v: want incomplete, naming notion only", err, res.Completeness.Complete)
		}
	})
	t.Run("unknown service principal", func(t *testing.T) {
		sc, apps := appsScenario()
		apps["notion"] = graphtest.GUID(3, 99)
		_, c := start(t, sc, withApps(apps))
		res, err := c.Collect(context.Background(), collectors.Request{})
		if err == nil || res.Completeness.Complete || !strings.Contains(err.Error(), "Graph has no service principal "+apps["notion"]) || !strings.Contains(err.Error(), "check entra.apps.notion") {
			t.Fatalf("err %v", err)
		}
		checks := map[string]collectors.Check{}
		for _, ch := range c.Check(context.Background()) {
			checks[ch.Name] = ch
		}
		if ch := checks["Application.Read.All and application notion"]; ch.OK || !strings.Contains(ch.Fix, "set entra.apps.notion to the object id") {
			t.Errorf("doctor on the unknown application: %+v", ch)
		}
		if ch := checks["Application.Read.All and application stonly"]; !ch.OK {
			t.Errorf("doctor checks the other application still: %+v", checks)
		}
		if ch, ok := checks["assignment required (stonly)"]; !ok || !strings.Contains(ch.Detail, "is true") {
			t.Errorf("doctor shows each application's setting: %+v", checks)
		}
	})
}
