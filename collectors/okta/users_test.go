package okta

import (
	"context"
	"testing"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/okta/oktatest"
)

func TestManagers(t *testing.T) {
	sc := org()
	set := func(id, managerID, manager string) {
		for i := range sc.Users {
			if sc.Users[i].ID == id {
				sc.Users[i].ManagerID, sc.Users[i].Manager = managerID, manager
			}
		}
	}
	set("00u01", "00u07", "Grace L")      // alice: her manager's id
	set("00u06", "alice@acme.com", "")    // frank: a login, as an HR import may write it
	set("00u03", "ALICE@acme.com ", "")   // carol: the same, in other case and with a space
	set("00u08", "", "Grace L")           // heidi: only a display name
	set("00u04", "00u99", "Someone Gone") // dave: an id of nobody read, and a name: managerId as Okta holds it
	set("00u07", "00u07", "")             // grace: herself, which names nobody
	set("00u02", "00u01", "F00u01 L")     // bob, deprovisioned: still has a manager
	set("00u05", "E1", "")                // erin: alice's employee number
	sc.Users = append(sc.Users, oktatest.User{ID: "00u09", Status: "ACTIVE", Login: "ivan@acme.com", Email: "ivan@acme.com",
		ManagerID: "W-17", Manager: "grace@acme.com"}) // ivan: an id Okta does not know, a login in manager
	srv := oktatest.NewServer(sc)
	defer srv.Close()
	res, err := collector(t, srv).Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	m := byEmail(res.Accounts)
	for email, want := range map[string]string{
		"alice@acme.com": "grace@acme.com", "frank@acme.com": "alice@acme.com", "carol@acme.com": "alice@acme.com",
		"heidi@acme.com": "Grace L", "dave@acme.com": "00u99", "grace@acme.com": "00u07", "bob@acme.com": "alice@acme.com",
		"erin@acme.com": "alice@acme.com", "ivan@acme.com": "grace@acme.com",
	} {
		if got := m[email].Manager; got != want {
			t.Errorf("%s: manager %q, want %q", email, got, want)
		}
	}
}

// TestManagersIncremental: an incremental read re-reads only the users
// that changed, yet the accounts it keeps name their manager right: by
// the new login of a manager whose login changed, and by the new manager
// of a user whose managerId changed.
func TestManagersIncremental(t *testing.T) {
	sc := oktatest.Generate(3000, 600, 1)
	sc.Token = token
	srv := oktatest.NewServer(sc)
	defer srv.Close()
	c := collector(t, srv)
	first, err := c.Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	byID := func(r *collectors.Result) map[string]collectors.Account {
		m := map[string]collectors.Account{}
		for _, a := range r.Accounts {
			m[a.ID] = a
		}
		return m
	}
	before := byID(first)
	// Generate: user i's manager is user i/10, by id, or by login for i%50 == 25.
	if got := before[oktatest.UserID(15)].Manager; got != "user0000001@acme.com" {
		t.Fatalf("user 15's manager %q, want user 1's login", got)
	}
	if got := before[oktatest.UserID(25)].Manager; got != "user0000002@acme.com" {
		t.Fatalf("user 25's manager %q, want user 2's login (named by login)", got)
	}
	if got := before[oktatest.UserID(0)].Manager; got != "" {
		t.Fatalf("user 0 has no manager, got %q", got)
	}
	srv.ChangeUsers([]string{oktatest.UserID(1)}, func(u *oktatest.User) { u.Login, u.Email = "renamed@acme.com", "renamed@acme.com" })
	srv.ChangeUsers([]string{oktatest.UserID(20)}, func(u *oktatest.User) { u.ManagerID = oktatest.UserID(5) })
	srv.ResetStats()
	second, err := c.Collect(context.Background(), collectors.Request{Previous: &collectors.Previous{State: first.State, Accounts: first.Accounts}})
	if err != nil || second.Completeness.Mode != "incremental" {
		t.Fatalf("err %v mode %q", err, second.Completeness.Mode)
	}
	if n := srv.Stats().Requests["GET /api/v1/users"]; n != 1 {
		t.Fatalf("%d user list requests: the incremental read should read only the 2 changed users", n)
	}
	after := byID(second)
	for id, want := range map[string]string{
		oktatest.UserID(15): "renamed@acme.com",     // unchanged, their manager's login changed
		oktatest.UserID(10): "renamed@acme.com",     // the same: user 10's manager is user 1
		oktatest.UserID(20): "user0000005@acme.com", // changed manager
		oktatest.UserID(21): "user0000002@acme.com", // unchanged
		oktatest.UserID(25): "user0000002@acme.com", // named by login, unchanged
	} {
		if got := after[id].Manager; got != want {
			t.Errorf("%s: manager %q after the incremental read, want %q", id, got, want)
		}
	}
	if got := after[oktatest.UserID(1)].Manager; got != "user0000000@acme.com" {
		t.Errorf("the renamed user's own manager %q", got)
	}
}
