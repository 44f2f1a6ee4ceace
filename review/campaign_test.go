package review

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAssign(t *testing.T) {
	dir := NewDirectory([]Person{
		{ID: "p-ann", Email: "ann@acme.com", Addresses: []string{"ann@acme.com", "Ann@Acquired.net"}, Managers: []string{"BEN@acme.com"}},
		{ID: "p-ben", Email: "ben@acme.com", Managers: []string{"nobody@acme.com"}},
		{ID: "p-cy", Email: "cy@acme.com", Managers: []string{"cy@acme.com"}},
		{ID: "p-dee", Email: "dee@acme.com"},
	}, nil)
	owner := Routing{Route: RouteOwner, Owners: map[string]string{"stonly": "Ann@acme.com"}, Fallback: "fb@acme.com"}
	for _, tc := range []struct {
		name    string
		rt      Routing
		s       Subject
		want    string
		why     string
		refused string
	}{
		{"owner", owner, Subject{App: "stonly", Person: "p-ben"}, "ann@acme.com", "owner of stonly", ""},
		{"owner's own access by an alias", owner, Subject{App: "stonly", Person: "p-ann"}, "fb@acme.com", "own access", ""},
		{"owner named in the evidence", owner, Subject{App: "stonly", Emails: []string{"ANN@acme.com"}}, "fb@acme.com", "own access", ""},
		{"no owner of the app", owner, Subject{App: "notion", Person: "p-ben"}, "fb@acme.com", "no owner configured for notion", ""},
		{"manager", Routing{Route: RouteManager, Fallback: "fb@acme.com"}, Subject{App: "stonly", Person: "p-ann"}, "ben@acme.com", "manager of ann@acme.com", ""},
		{"manager unknown", Routing{Route: RouteManager, Fallback: "fb@acme.com"}, Subject{Person: "p-ben"}, "fb@acme.com", "nobody in the snapshot", ""},
		{"own manager", Routing{Route: RouteManager, Fallback: "fb@acme.com"}, Subject{Person: "p-cy"}, "fb@acme.com", "their own manager", ""},
		{"no manager", Routing{Route: RouteManager, Fallback: "fb@acme.com"}, Subject{Person: "p-dee"}, "fb@acme.com", "no IdP records a manager", ""},
		{"no person", Routing{Route: RouteManager, Fallback: "fb@acme.com"}, Subject{}, "fb@acme.com", "about no person", ""},
		{"reviewer", Routing{Route: RouteReviewer, Reviewer: "dee@acme.com"}, Subject{Person: "p-ann"}, "dee@acme.com", "the campaign's reviewer", ""},
		{"no fallback", Routing{Route: RouteManager}, Subject{Person: "p-dee"}, "", "", "no fallback reviewer is configured"},
		{"fallback is the person", Routing{Route: RouteReviewer, Reviewer: "ann@acme.com", Fallback: "ann@acquired.net"}, Subject{Person: "p-ann"}, "", "",
			"the fallback reviewer ann@acquired.net would review their own access"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.rt.Assign(dir, tc.s)
			if tc.refused != "" {
				if !errors.Is(err, ErrNoReviewer) || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("err = %v, want ErrNoReviewer saying %q", err, tc.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Reviewer != tc.want || !strings.Contains(got.Why, tc.why) {
				t.Fatalf("Assign = %+v, want %s because %q", got, tc.want, tc.why)
			}
		})
	}
}

func TestDirectoryIgnoresSharedAddress(t *testing.T) {
	dir := NewDirectory([]Person{
		{ID: "a", Email: "a@acme.com", Addresses: []string{"team@acme.com"}, Managers: []string{"team@acme.com"}},
		{ID: "b", Email: "b@acme.com", Addresses: []string{"team@acme.com"}},
	}, nil)
	as, err := Routing{Route: RouteManager, Fallback: "fb@acme.com"}.Assign(dir, Subject{Person: "a"})
	if err != nil || as.Reviewer != "fb@acme.com" {
		t.Fatalf("a manager address two people claim routed to %+v (%v), want the fallback", as, err)
	}
}

func TestCampaignDecision(t *testing.T) {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return start.Add(time.Duration(h) * time.Hour) }
	before := Decision{ID: 1, Decision: "approve", DecidedAt: at(-1)}
	approve := Decision{ID: 2, Decision: "approve", DecidedAt: at(1)}
	pending := Decision{ID: 3, Decision: "revoke", DecidedAt: at(2), NeedsSecond: true}
	confirmedLate := Decision{ID: 4, Decision: "revoke", DecidedAt: at(2), NeedsSecond: true, ConfirmedBy: "x@acme.com", ConfirmedAt: at(10)}
	for _, tc := range []struct {
		name  string
		h     []Decision
		end   time.Time
		id    int64
		state string
	}{
		{"none", nil, time.Time{}, 0, StateUndecided},
		{"only before the start", []Decision{before}, time.Time{}, 0, StateUndecided},
		{"decided", []Decision{before, approve}, time.Time{}, 2, StateDecided},
		{"pending", []Decision{pending}, time.Time{}, 3, StatePending},
		{"approved, then a pending revoke", []Decision{approve, pending}, time.Time{}, 3, StateDecided},
		{"after the end", []Decision{approve}, at(0), 0, StateUndecided},
		{"confirmed after the end", []Decision{confirmedLate}, at(5), 4, StatePending},
		{"confirmed before the end", []Decision{confirmedLate}, at(11), 4, StateDecided},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, state := CampaignDecision(tc.h, start, tc.end)
			var id int64
			if d != nil {
				id = d.ID
			}
			if id != tc.id || state != tc.state {
				t.Fatalf("CampaignDecision = %d %s, want %d %s", id, state, tc.id, tc.state)
			}
		})
	}
}

func TestProgressAndDue(t *testing.T) {
	due := time.Date(2026, 12, 8, 23, 59, 59, 0, time.UTC)
	var p Progress
	p.Add(StateDecided, Overdue(StateDecided, due, due.Add(time.Hour)))
	p.Add(StatePending, Overdue(StatePending, due, due.Add(time.Hour)))
	p.Add(StateUndecided, Overdue(StateUndecided, due, due.Add(-time.Hour)))
	if p != (Progress{Total: 3, Decided: 1, Pending: 1, Undecided: 1, Overdue: 1}) || p.Done() {
		t.Fatalf("progress = %+v", p)
	}
	if !DueSoon(StateUndecided, due, due.Add(-23*time.Hour)) || DueSoon(StateUndecided, due, due.Add(-25*time.Hour)) || DueSoon(StateDecided, due, due) {
		t.Fatal("DueSoon: within a day and undecided only")
	}
	if _, err := ParseRoute("boss"); err == nil {
		t.Fatal("ParseRoute accepted an unknown route")
	}
	if r, _ := ParseRoute(""); r != RouteOwner {
		t.Fatalf("ParseRoute(\"\") = %s, want owner", r)
	}
}

func TestManagerIsFoundByIdPAddress(t *testing.T) {
	dir := NewDirectory([]Person{
		{ID: "ann", Email: "ann@acme.com", IdPAddresses: []string{"ann@acme.com"}, Managers: []string{"boss@acme.com"}},
		// boss@acme.com is only an app account's address: no IdP knows it.
		{ID: "app-only", Email: "boss@acme.com", Addresses: []string{"boss@acme.com"}, IdPAddresses: []string{}},
		{ID: "cy", Email: "cy@acme.com", IdPAddresses: []string{"cy@acme.com", "cy@acquired.net"}, Managers: []string{"ann@acme.com"}},
	}, nil)
	rt := Routing{Route: RouteManager, Fallback: "fb@acme.com"}
	if as, _ := rt.Assign(dir, Subject{Person: "ann"}); as.Reviewer != "fb@acme.com" {
		t.Fatalf("a manager known only by an app account's address: %+v, want the fallback", as)
	}
	if as, _ := rt.Assign(dir, Subject{Person: "cy"}); as.Reviewer != "ann@acme.com" {
		t.Fatalf("cy's manager: %+v", as)
	}
	if !dir.Own("cy", "CY@acquired.net") {
		t.Fatal("an IdP alias is the person's own address")
	}
}
