package entra

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/entra/graphtest"
)

// TestManagers: the full read expands every user's manager; a delta run
// keeps them right from manager@delta, resolving ids against the users it
// holds (so a manager renamed shows renamed on their reports, who are not
// in the round); a stored link that does not track managers leads to one
// full read.
func TestManagers(t *testing.T) {
	g := graphtest.GUID
	for _, variant := range []graphtest.Variant{{}, {PartialDeltaItems: true}} {
		t.Run(map[bool]string{false: "return=minimal", true: "partial items variant"}[variant.PartialDeltaItems], func(t *testing.T) {
			sc := graphtest.Generate(1200, 300)
			srv, c := start(t, sc)
			srv.SetVariant(variant)
			first, err := c.Collect(context.Background(), collectors.Request{})
			if err != nil {
				t.Fatal(err)
			}
			m := byUPN(first.Accounts)
			for upn, want := range map[string]string{"user0000025@acme.com": "user0000001@acme.com", "user0000001@acme.com": "user0000000@acme.com",
				"user0000000@acme.com": "", "guest0000011_partner.com#EXT#@acme.onmicrosoft.com": ""} {
				if got := m[upn].Manager; got != want {
					t.Errorf("full read: %s's manager %q, want %q", upn, got, want)
				}
			}
			var st state
			if json.Unmarshal([]byte(first.State), &st) != nil || !st.Manager {
				t.Fatalf("the delta link must be made tracking managers: %s", first.State)
			}

			srv.ChangeUser(g(7, 25), func(u *graphtest.User) { u.Manager = g(7, 2) })                   // a new manager
			srv.ChangeUser(g(7, 26), func(u *graphtest.User) { u.Manager = "" })                        // none any more
			srv.ChangeUser(g(7, 1), func(u *graphtest.User) { u.UserPrincipalName = "boss1@acme.com" }) // renamed manager
			srv.ChangeUser(g(7, 3), func(u *graphtest.User) { u.JobTitle = "Lead" })                    // not tracked
			srv.DeleteUser(g(7, 4))                                                                     // manager of users 80-99, gone
			srv.AddUser(graphtest.User{ID: g(7, 5000), DisplayName: "New Hire", UserPrincipalName: "newhire@acme.com", AccountEnabled: true, Manager: g(7, 3)})
			srv.ResetStats()
			second, err := c.Collect(context.Background(), collectors.Request{Previous: &collectors.Previous{State: first.State, Accounts: first.Accounts}})
			if err != nil || second.Completeness.Mode != "delta" {
				t.Fatalf("err %v mode %q", err, second.Completeness.Mode)
			}
			if n := srv.Stats().Requests["GET /v1.0/users"]; n != 0 {
				t.Fatalf("%d list requests on a delta run: managers must not cost a full read", n)
			}
			m = byUPN(second.Accounts)
			for upn, want := range map[string]string{
				"user0000025@acme.com": "user0000002@acme.com", // manager@delta
				"user0000026@acme.com": "",                     // manager@delta with @removed only
				"user0000030@acme.com": "boss1@acme.com",       // not in the round: its manager was renamed
				"boss1@acme.com":       "user0000000@acme.com", // renamed itself; its manager carried from the previous snapshot
				"user0000060@acme.com": "user0000003@acme.com",
				"newhire@acme.com":     "user0000003@acme.com", // created with a manager
				"user0000085@acme.com": "",                     // the manager was deleted
			} {
				if got := m[upn].Manager; got != want {
					t.Errorf("delta run: %s's manager %q, want %q", upn, got, want)
				}
			}
			if !hasWarning(second.Completeness, "20 users have a manager that is not among the tenant's users") {
				t.Errorf("warnings %v: the users whose manager was deleted are counted", second.Completeness.Warnings)
			}

			// A link stored before managers were read does not track them.
			b, _ := json.Marshal(state{DeltaLink: st.DeltaLink})
			srv.ResetStats()
			third, err := c.Collect(context.Background(), collectors.Request{Previous: &collectors.Previous{State: string(b), Accounts: first.Accounts}})
			if err != nil || third.Completeness.Mode != "full" || !hasWarning(third.Completeness, "does not track managers") || srv.Stats().Requests["GET /v1.0/users"] == 0 {
				t.Errorf("err %v mode %q warnings %v: want one full read, saying why", err, third.Completeness.Mode, third.Completeness.Warnings)
			}
			if got := byUPN(third.Accounts)["user0000025@acme.com"].Manager; got != "user0000002@acme.com" {
				t.Errorf("after the full read: %q", got)
			}
		})
	}
}

// TestManagersOff: managers: false reads no manager and keeps the list's
// pages at 999.
func TestManagersOff(t *testing.T) {
	sc := graphtest.Generate(2500, 100)
	srv, c := start(t, sc, func(c *Config) { c.Managers = new(bool) })
	res, err := c.Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := srv.Stats().Requests["GET /v1.0/users"], int(math.Ceil(2500.0/999)); got != want {
		t.Errorf("%d list requests, want %d", got, want)
	}
	for _, a := range res.Accounts {
		if a.Manager != "" {
			t.Fatalf("a manager read with managers: false: %+v", a)
		}
	}
	if strings.Contains(res.State, `"manager"`) {
		t.Errorf("state %s claims managers are tracked", res.State)
	}
}
