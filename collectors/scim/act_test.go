package scim

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/scim/scimtest"
)

// account is the account as a decision saw it in the default scenario.
func account(id, email, role string) collectors.Account {
	return collectors.Account{Source: "notion", ID: id, Email: email, Role: role, Status: collectors.StatusActive}
}

var (
	bob = account("u-bob", "bob@acme.com", "Member")
	ada = account("u-ada", "ada@acme.com", "Admin")
	cy  = account("u-cy", "cy@acme.com", "Member")
)

func remove(id string, a collectors.Account) collectors.Action {
	return collectors.Action{ID: id, Op: collectors.OpRemove, Account: a}
}

func setRole(id string, a collectors.Account, role string) collectors.Action {
	return collectors.Action{ID: id, Op: collectors.OpSetRole, Account: a, Role: role}
}

func noSecrets(t *testing.T, results []collectors.ActionResult, err error) {
	t.Helper()
	all := ""
	if err != nil {
		all = err.Error()
	}
	for _, r := range results {
		all += r.Detail + string(r.Before) + string(r.After)
	}
	if strings.Contains(all, secretToken) {
		t.Error("the token appears in a result")
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name      string
		delete    bool
		noContent bool
		detail    string
		write     scimtest.Request
	}{
		{name: "deactivate by PATCH", detail: "PATCH /Users/u-bob: 200 OK; the user is now deactivated (active=false)",
			write: scimtest.Request{Method: http.MethodPatch, Path: "/Users/u-bob"}},
		{name: "deactivate by PATCH answered 204", noContent: true, detail: "PATCH /Users/u-bob: 204 No Content; the user is now deactivated",
			write: scimtest.Request{Method: http.MethodPatch, Path: "/Users/u-bob"}},
		{name: "delete", delete: true, detail: "DELETE /Users/u-bob: 204 No Content; GET /Users/u-bob now answers 404",
			write: scimtest.Request{Method: http.MethodDelete, Path: "/Users/u-bob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := scimtest.DefaultScenario()
			sc.PatchNoContent = tt.noContent
			srv, c, _ := start(t, sc, func(c *Config) { c.DeleteOnRemove = tt.delete })
			results, err := c.Act(context.Background(), []collectors.Action{remove("a1", bob)})
			if err != nil {
				t.Fatal(err)
			}
			r := results[0]
			if r.ID != "a1" || r.Outcome != collectors.OutcomeDone || !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("result = %s %q", r.Outcome, r.Detail)
			}
			if r.CaptureType != "application/scim+json" || !strings.Contains(string(r.Before), `"active":true`) || r.Started.IsZero() || r.Ended.Before(r.Started) {
				t.Errorf("capture %q before %s", r.CaptureType, r.Before)
			}
			u, exists := srv.User("u-bob")
			if tt.delete {
				if exists || !strings.Contains(string(r.After), "404") {
					t.Errorf("the user still exists (after: %s)", r.After)
				}
			} else if !exists || u.Active || !strings.Contains(string(r.After), `"active":false`) {
				t.Errorf("the user is %+v (after: %s)", u, r.After)
			}
			if w := srv.Writes(); len(w) != 1 || w[0].Method != tt.write.Method || w[0].Path != tt.write.Path {
				t.Errorf("writes = %+v, want one %+v", w, tt.write)
			}
			noSecrets(t, results, err)
		})
	}
}

func TestSetRole(t *testing.T) {
	tests := []struct {
		attr   string
		action collectors.Action
		check  func(t *testing.T, srv *scimtest.Server)
		writes int
	}{
		{attr: "roles", action: setRole("r1", ada, "Member"), writes: 1, check: func(t *testing.T, srv *scimtest.Server) {
			u, _ := srv.User("u-ada")
			// The other value stays; the role's value is swapped in place.
			want := []scimtest.MultiValue{{Value: "Billing"}, {Value: "Member", Primary: true}}
			if !slices.Equal(u.Roles, want) {
				t.Errorf("roles = %+v, want %+v", u.Roles, want)
			}
		}},
		{attr: "entitlements", action: setRole("r1", ada, "Owner"), writes: 1, check: func(t *testing.T, srv *scimtest.Server) {
			u, _ := srv.User("u-ada")
			if !slices.Equal(u.Entitlements, []scimtest.MultiValue{{Value: "Owner"}}) {
				t.Errorf("entitlements = %+v", u.Entitlements)
			}
		}},
		{attr: "title", action: setRole("r1", ada, "member"), writes: 1, check: func(t *testing.T, srv *scimtest.Server) {
			if u, _ := srv.User("u-ada"); u.Title != "Member" {
				t.Errorf("title = %q", u.Title)
			}
		}},
		{attr: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", action: setRole("r1", bob, "Admin"), writes: 1,
			check: func(t *testing.T, srv *scimtest.Server) {
				if u, _ := srv.User("u-bob"); u.Enterprise == nil || u.Enterprise.Department != "Admin" || u.Enterprise.EmployeeNumber != "1002" {
					t.Errorf("enterprise = %+v", u.Enterprise)
				}
			}},
		{attr: "groups", action: setRole("r1", ada, "Member"), writes: 2, check: func(t *testing.T, srv *scimtest.Server) {
			// Into Member, out of Admin; Engineering is no role and stays.
			if u, _ := srv.User("u-ada"); !slices.Equal(u.Groups, []string{"Member", "Engineering"}) {
				t.Errorf("groups = %v", u.Groups)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.attr, func(t *testing.T) {
			srv, c, _ := start(t, scimtest.DefaultScenario(), func(c *Config) { c.RoleAttribute = tt.attr })
			if tt.attr != "roles" && tt.attr != "groups" {
				// Decisions name the role the source read.
				res, err := c.Collect(context.Background(), collectors.Request{})
				if err != nil {
					t.Fatal(err)
				}
				tt.action.Account.Role = byID(res.Accounts)[tt.action.Account.ID].Role
			}
			results, err := c.Act(context.Background(), []collectors.Action{tt.action})
			if err != nil {
				t.Fatal(err)
			}
			if r := results[0]; r.Outcome != collectors.OutcomeDone || !strings.Contains(r.Detail, "the role is now") {
				t.Errorf("result = %s %q", r.Outcome, r.Detail)
			}
			if w := srv.Writes(); len(w) != tt.writes {
				t.Errorf("writes = %+v, want %d", w, tt.writes)
			}
			tt.check(t, srv)
			// The next read shows the new role.
			res, err := c.Collect(context.Background(), collectors.Request{})
			if err != nil {
				t.Fatal(err)
			}
			if got := byID(res.Accounts)[tt.action.Account.ID].Role; !strings.EqualFold(got, tt.action.Role) {
				t.Errorf("the next read shows role %q, want %q", got, tt.action.Role)
			}
		})
	}
}

func TestActionsRefusedOrAlreadyDone(t *testing.T) {
	other := bob
	other.Email = "robert@acme.com"
	promoted := bob
	promoted.Role = "Admin"
	renamed := bob
	renamed.Addresses = []collectors.Address{{Field: "userName", Value: "bobby@acme.com"}}
	bot := account("u-bot", "it-bot@acme.com", "Owner")
	dee := account("u-dee", "dee@acme.com", "Admin")
	gone := account("u-gone", "gone@acme.com", "Member")
	tests := []struct {
		name   string
		action collectors.Action
		want   collectors.Outcome
		detail string
	}{
		{"another person at the id", remove("x", other), collectors.OutcomeRefused, "user u-bob is now bob@acme.com (addresses bob@acme.com), not robert@acme.com as decided"},
		{"another userName", remove("x", renamed), collectors.OutcomeRefused, "userName is now bob@acme.com, not bobby@acme.com"},
		{"the role changed since the decision", remove("x", promoted), collectors.OutcomeRefused, `the role is now "Member", not "Admin" as decided`},
		{"set_role from a role it no longer has", setRole("x", promoted, "Member"), collectors.OutcomeRefused, `the role is now "Member", not "Admin"`},
		{"a role off the ladder", setRole("x", bob, "Superuser"), collectors.OutcomeRefused, `role "Superuser" is not on Notion's ladder`},
		{"set_role on a deactivated user", setRole("x", dee, "Member"), collectors.OutcomeRefused, "the user is deactivated"},
		{"set_role on a user gone", setRole("x", gone, "Admin"), collectors.OutcomeRefused, "404 Not Found: the user no longer exists"},
		{"the token's own account", remove("x", bot), collectors.OutcomeRefused, "is the account idgraph's token acts as (GET /Me)"},
		{"an invitation", collectors.Action{ID: "x", Op: collectors.OpRevokeInvitation, Account: bob}, collectors.OutcomeRefused, "SCIM has no invitations"},
		{"another source's account", remove("x", collectors.Account{Source: "stonly", ID: "u-bob", Email: "bob@acme.com"}),
			collectors.OutcomeRefused, "belongs to source stonly, not notion"},
		{"already deactivated", remove("x", dee), collectors.OutcomeAlreadyDone, "already deactivated (active=false)"},
		{"already gone", remove("x", gone), collectors.OutcomeAlreadyDone, "GET /Users/u-gone: 404 Not Found: the user is already gone"},
		{"already at the role", setRole("x", bob, "member"), collectors.OutcomeAlreadyDone, "the role is already Member"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c, _ := start(t, scimtest.DefaultScenario(), nil)
			before := srv.Users()
			results, err := c.Act(context.Background(), []collectors.Action{tt.action})
			if err != nil {
				t.Fatalf("Act: %v", err)
			}
			if r := results[0]; r.Outcome != tt.want || !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("result = %s %q, want %s with %q", r.Outcome, r.Detail, tt.want, tt.detail)
			}
			if w := srv.Writes(); len(w) != 0 {
				t.Errorf("writes = %+v: nothing may change", w)
			}
			if after := srv.Users(); len(after) != len(before) {
				t.Errorf("%d users, were %d", len(after), len(before))
			}
		})
	}
}

func TestBatch(t *testing.T) {
	tests := []struct {
		name    string
		faults  scimtest.Faults
		me      string
		actions []collectors.Action
		want    []collectors.Outcome
		err     string // "" : the batch finishes
		changed map[string]bool
	}{
		{name: "a 500 on a PATCH stops the batch", faults: scimtest.Faults{RefuseWrite: map[string]int{"u-cy": 500}},
			actions: []collectors.Action{remove("a1", bob), remove("a2", cy), setRole("a3", ada, "Member")},
			want:    []collectors.Outcome{collectors.OutcomeDone, collectors.OutcomeFailed, collectors.OutcomeSkipped},
			err:     "action a2 (remove u-cy): PATCH /Users/u-cy: 500 Internal Server Error: An internal error occurred; the batch stopped and the 1 actions after it were not attempted",
			changed: map[string]bool{"u-bob": true, "u-cy": false, "u-ada": false}},
		{name: "a 409 fails that action and the batch goes on", faults: scimtest.Faults{RefuseWrite: map[string]int{"u-bob": 409}},
			actions: []collectors.Action{remove("a1", bob), remove("a2", cy)},
			want:    []collectors.Outcome{collectors.OutcomeFailed, collectors.OutcomeDone},
			changed: map[string]bool{"u-bob": false, "u-cy": true}},
		{name: "a token that expires mid-batch stops it", faults: scimtest.Faults{ExpireAfter: 5}, // /Me, ServiceProviderConfig, GET, PATCH, GET
			actions: []collectors.Action{remove("a1", bob), remove("a2", cy), remove("a3", ada)},
			want:    []collectors.Outcome{collectors.OutcomeDone, collectors.OutcomeFailed, collectors.OutcomeSkipped},
			err:     "401 Unauthorized: The access token expired; the token in NOTION_SCIM_TOKEN was refused",
			changed: map[string]bool{"u-bob": true, "u-cy": false, "u-ada": false}},
		{name: "429 on writes is waited out", faults: scimtest.Faults{Storm429: 3, RetryAfter: "2"},
			actions: []collectors.Action{remove("a1", bob)},
			want:    []collectors.Outcome{collectors.OutcomeDone},
			changed: map[string]bool{"u-bob": true}},
		{name: "a refused action does not stop the batch",
			actions: []collectors.Action{remove("a1", account("u-bot", "it-bot@acme.com", "Owner")), remove("a2", bob)},
			want:    []collectors.Outcome{collectors.OutcomeRefused, collectors.OutcomeDone},
			changed: map[string]bool{"u-bot": false, "u-bob": true}},
		{name: "an HTML page on the re-read stops the batch", faults: scimtest.Faults{BodyPath: "/Users/u-cy", BodyMethod: http.MethodGet},
			actions: []collectors.Action{remove("a1", bob), remove("a2", cy), remove("a3", ada)},
			want:    []collectors.Outcome{collectors.OutcomeDone, collectors.OutcomeFailed, collectors.OutcomeSkipped},
			err:     "GET /Users/u-cy: the answer is not a SCIM User (text/html",
			changed: map[string]bool{"u-bob": true, "u-cy": false, "u-ada": false}},
		{name: "an HTML answer to a PATCH stops the batch", faults: scimtest.Faults{BodyPath: "/Users/u-bob", BodyMethod: http.MethodPatch},
			actions: []collectors.Action{remove("a1", bob), remove("a2", cy)},
			want:    []collectors.Outcome{collectors.OutcomeFailed, collectors.OutcomeSkipped},
			err:     "PATCH /Users/u-bob: 200, but the answer is not SCIM JSON (text/html",
			changed: map[string]bool{"u-bob": false, "u-cy": false}},
		{name: "without PATCH support each action fails, nothing sent", me: "nopatch",
			actions: []collectors.Action{remove("a1", bob), setRole("a2", cy, "Admin")},
			want:    []collectors.Outcome{collectors.OutcomeFailed, collectors.OutcomeFailed},
			changed: map[string]bool{"u-bob": false, "u-cy": false}},
		{name: "without /Me the batch still runs", me: "none",
			actions: []collectors.Action{remove("a1", bob)},
			want:    []collectors.Outcome{collectors.OutcomeDone},
			changed: map[string]bool{"u-bob": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := scimtest.DefaultScenario()
			switch tt.me {
			case "none":
				sc.Me = ""
			case "nopatch":
				sc.NoPatch = true
			}
			srv, c, _ := start(t, sc, nil)
			srv.SetFaults(tt.faults)
			results, err := c.Act(context.Background(), tt.actions)
			if len(results) != len(tt.actions) {
				t.Fatalf("%d results for %d actions", len(results), len(tt.actions))
			}
			for i, r := range results {
				if r.ID != tt.actions[i].ID || r.Outcome != tt.want[i] {
					t.Errorf("action %d: %s %s %q, want %s", i, r.ID, r.Outcome, r.Detail, tt.want[i])
				}
			}
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("Act: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("Act error %v, want %q", err, tt.err)
			}
			srv.SetFaults(scimtest.Faults{})
			for id, changed := range tt.changed {
				u, _ := srv.User(id)
				was := id != "u-dee"
				if (u.Active != was) != changed {
					t.Errorf("%s: active=%v; changed should be %v", id, u.Active, changed)
				}
			}
			if tt.me == "nopatch" {
				if w := srv.Writes(); len(w) != 0 || !strings.Contains(results[0].Detail, "patch.supported is false") {
					t.Errorf("writes %+v, detail %q", w, results[0].Detail)
				}
			}
			noSecrets(t, results, err)
		})
	}
}

func TestActFailsClosedWhenMeIsUnreadable(t *testing.T) {
	srv, c, _ := start(t, scimtest.DefaultScenario(), nil)
	c.token = "tok-wrong"
	results, err := c.Act(context.Background(), []collectors.Action{remove("a1", bob)})
	if err == nil || !strings.Contains(err.Error(), "GET /Me") || results[0].Outcome != collectors.OutcomeSkipped {
		t.Errorf("err=%v result=%+v", err, results[0])
	}
	if len(srv.Writes()) != 0 {
		t.Error("something was written")
	}
}
