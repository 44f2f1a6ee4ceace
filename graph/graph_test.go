package graph

import (
	"slices"
	"strings"
	"testing"

	"github.com/idgraph/idgraph/collectors"
)

func idp(src, id, email string, extra ...collectors.Address) collectors.Account {
	return collectors.Account{Source: src, ID: id, Email: email, Status: collectors.StatusActive,
		Addresses: append([]collectors.Address{{Field: "email", Value: email}}, extra...)}
}

func app(team, email string) collectors.Account {
	return collectors.Account{Source: "stonly", ID: strings.ToLower(email), Team: team, Email: email,
		Status: collectors.StatusActive, Role: "Member"}
}

func TestCorrelate(t *testing.T) {
	idps := map[string]bool{"okta": true, "entra": true}
	withEmp := func(a collectors.Account, e string) collectors.Account { a.EmployeeID = e; return a }
	tests := []struct {
		name      string
		accounts  []collectors.Account
		opt       Options
		together  [][]string // account keys that must share a person
		apart     [][2]string
		conflicts int
		rejected  []string          // addresses reported as unusable
		reason    map[string]string // account key -> substring of its link reason
	}{
		{
			name:     "same address across IdPs and app, any case",
			accounts: []collectors.Account{idp("okta", "00u1", "Alice@Acme.com"), idp("entra", "g1", "alice@acme.com"), app("t1", "ALICE@acme.com")},
			together: [][]string{{"okta:00u1", "entra:g1", "stonly:t1:alice@acme.com"}},
			reason:   map[string]string{"entra:g1": "address alice@acme.com", "stonly:t1:alice@acme.com": "stonly email"},
		},
		{
			name: "Graph proxyAddresses with smtp prefix",
			accounts: []collectors.Account{
				idp("entra", "g1", "bob@acme.com", collectors.Address{Field: "proxyAddresses", Value: "smtp:robert@acme.com"},
					collectors.Address{Field: "proxyAddresses", Value: "SIP:bob@acme.com"},
					collectors.Address{Field: "proxyAddresses", Value: "X500:/o=ExchangeLabs/ou=Exchange"}),
				app("t1", "robert@acme.com"),
			},
			together: [][]string{{"entra:g1", "stonly:t1:robert@acme.com"}},
			reason:   map[string]string{"stonly:t1:robert@acme.com": "entra proxyAddresses"},
		},
		{
			name: "an unusable address is reported, not dropped",
			accounts: []collectors.Account{
				idp("okta", "00u1", "nina@acme.com", collectors.Address{Field: "secondEmail", Value: "nina at home"}),
				idp("entra", "g1", "nina@acme.com", collectors.Address{Field: "proxyAddresses", Value: "smtp:<nina>@acme.com"}),
			},
			together: [][]string{{"okta:00u1", "entra:g1"}},
			rejected: []string{"smtp:<nina>@acme.com", "nina at home"}, // in account order
		},
		{
			name:     "domain alias",
			accounts: []collectors.Account{idp("okta", "00u1", "ivan@acquisicorp.net"), app("t1", "ivan@acme.com")},
			opt:      Options{Aliases: map[string]string{"acquisicorp.net": "acme.com"}},
			together: [][]string{{"okta:00u1", "stonly:t1:ivan@acme.com"}},
		},
		{
			name:     "plus addressing off keeps people apart",
			accounts: []collectors.Account{idp("okta", "00u1", "carol@acme.com"), app("t1", "carol+x@acme.com")},
			apart:    [][2]string{{"okta:00u1", "stonly:t1:carol+x@acme.com"}},
		},
		{
			name:     "plus addressing on joins",
			accounts: []collectors.Account{idp("okta", "00u1", "carol@acme.com"), app("t1", "carol+x@acme.com")},
			opt:      Options{StripPlus: true},
			together: [][]string{{"okta:00u1", "stonly:t1:carol+x@acme.com"}},
		},
		{
			name: "employee ID joins IdP accounts with different addresses",
			accounts: []collectors.Account{withEmp(idp("okta", "00u1", "dave@acme.com"), "E9"),
				withEmp(idp("entra", "g1", "david.smith@acme.com"), "E9")},
			together: [][]string{{"okta:00u1", "entra:g1"}},
			reason:   map[string]string{"entra:g1": "employee ID E9"},
		},
		{
			name: "different employee IDs never merge on a shared address",
			accounts: []collectors.Account{withEmp(idp("okta", "00u1", "help@acme.com"), "E1"),
				withEmp(idp("entra", "g1", "help@acme.com"), "E2")},
			apart:     [][2]string{{"okta:00u1", "entra:g1"}},
			conflicts: 1,
		},
		{
			name:      "two users of one IdP claiming one address is a conflict",
			accounts:  []collectors.Account{idp("okta", "00u1", "sam@acme.com", collectors.Address{Field: "secondEmail", Value: "shared@acme.com"}), idp("okta", "00u2", "shared@acme.com"), app("t1", "shared@acme.com")},
			apart:     [][2]string{{"okta:00u1", "okta:00u2"}, {"okta:00u1", "stonly:t1:shared@acme.com"}, {"okta:00u2", "stonly:t1:shared@acme.com"}},
			conflicts: 2, // the IdP pair, and the app account left unlinked
		},
		{
			name:     "explicit link joins what addresses cannot",
			accounts: []collectors.Account{idp("okta", "00u1", "eve@acme.com"), app("t1", "eve.personal@gmail.com")},
			opt:      Options{Links: [][]string{{"okta:00u1", "stonly:t1:eve.personal@gmail.com"}}},
			together: [][]string{{"okta:00u1", "stonly:t1:eve.personal@gmail.com"}},
			reason:   map[string]string{"stonly:t1:eve.personal@gmail.com": "explicit link"},
		},
		{
			name: "a shared mailbox two IdP users claim, with app accounts in two teams",
			accounts: []collectors.Account{idp("okta", "00u1", "help@acme.com"), idp("okta", "00u2", "help@acme.com"),
				app("t1", "help@acme.com"), app("t2", "help@acme.com")},
			apart:     [][2]string{{"stonly:t1:help@acme.com", "stonly:t2:help@acme.com"}, {"okta:00u1", "stonly:t1:help@acme.com"}},
			conflicts: 3, // the IdP pair, and each app account left unlinked
		},
		{
			name:      "app accounts whose address cannot be read are conflicts, not people nobody knows",
			accounts:  []collectors.Account{app("t1", "Bob <bob@acme.com>"), app("t2", "Bob <bob@acme.com>"), app("t1", "carl@acme.com")},
			apart:     [][2]string{{"stonly:t1:bob <bob@acme.com>", "stonly:t2:bob <bob@acme.com>"}},
			rejected:  []string{"Bob <bob@acme.com>", "Bob <bob@acme.com>"},
			conflicts: 2,
		},
		{
			name:     "app accounts in two teams are one unknown person",
			accounts: []collectors.Account{app("t1", "x@gmail.com"), app("t2", "X@gmail.com")},
			together: [][]string{{"stonly:t1:x@gmail.com", "stonly:t2:x@gmail.com"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opt.IdPs = idps
			SortAccounts(tt.accounts)
			g, err := Correlate(tt.accounts, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			person := map[string]int32{}
			for i, a := range g.Accounts {
				person[a.Key()] = g.PersonOf(int32(i))
			}
			for _, grp := range tt.together {
				for _, k := range grp[1:] {
					if person[k] != person[grp[0]] {
						t.Errorf("%s and %s should be one person", grp[0], k)
					}
				}
			}
			for _, p := range tt.apart {
				if person[p[0]] == person[p[1]] {
					t.Errorf("%s and %s should be different people", p[0], p[1])
				}
			}
			var rejected []string
			for _, r := range g.Rejected {
				rejected = append(rejected, r.Address)
			}
			if !slices.Equal(rejected, tt.rejected) {
				t.Errorf("rejected = %q, want %q", rejected, tt.rejected)
			}
			if len(g.Conflicts) != tt.conflicts {
				t.Errorf("conflicts = %d (%+v), want %d", len(g.Conflicts), g.Conflicts, tt.conflicts)
			}
			ids := map[string]bool{}
			for _, p := range g.People {
				if ids[p.ID] {
					t.Errorf("two people share the ID %q", p.ID)
				}
				ids[p.ID] = true
			}
			for i, a := range g.Accounts {
				if sub, ok := tt.reason[a.Key()]; ok && !strings.Contains(g.Links[i].Reason, sub) {
					t.Errorf("link reason of %s = %q, want it to contain %q", a.Key(), g.Links[i].Reason, sub)
				}
				if g.Links[i].Reason == "" {
					t.Errorf("account %s has no link reason", a.Key())
				}
			}
		})
	}
}

func TestPersonIDStable(t *testing.T) {
	accs := []collectors.Account{idp("okta", "00u2", "a@acme.com"), idp("entra", "g9", "a@acme.com"), app("t1", "a@acme.com")}
	SortAccounts(accs)
	g, err := Correlate(accs, Options{IdPs: map[string]bool{"okta": true, "entra": true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.People) != 1 || g.People[0].ID != "entra:g9" {
		t.Fatalf("people = %+v, want one person with the smallest IdP key entra:g9", g.People)
	}
}

// TestPersonIDsSurviveAFailedIdP: when an IdP's accounts are absent (its
// read failed), people keep the IDs they had, so that finding keys and the
// review decisions that follow them do not change.
func TestPersonIDsSurviveAFailedIdP(t *testing.T) {
	idps := map[string]bool{"okta": true, "entra": true}
	full := []collectors.Account{idp("okta", "00u2", "a@acme.com"), idp("entra", "g9", "a@acme.com"), app("t1", "a@acme.com"),
		idp("okta", "00u3", "b@acme.com"), idp("entra", "g1", "b@acme.com")}
	SortAccounts(full)
	g1, err := Correlate(full, Options{IdPs: idps})
	if err != nil {
		t.Fatal(err)
	}
	prior := map[string]string{}
	for i, a := range g1.Accounts {
		prior[a.Key()] = g1.People[g1.PersonOf(int32(i))].ID
	}
	tests := []struct {
		name  string
		drop  string // source whose accounts are absent
		prior map[string]string
		want  map[string]string // account key -> person ID
	}{
		{"entra failed, with prior", "entra", prior, map[string]string{"okta:00u2": "entra:g9", "stonly:t1:a@acme.com": "entra:g9", "okta:00u3": "entra:g1"}},
		{"entra failed, no prior: derived IDs", "entra", nil, map[string]string{"okta:00u2": "okta:00u2", "okta:00u3": "okta:00u3"}},
		{"okta failed, with prior", "okta", prior, map[string]string{"entra:g9": "entra:g9", "stonly:t1:a@acme.com": "entra:g9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var accs []collectors.Account
			for _, a := range full {
				if a.Source != tt.drop {
					accs = append(accs, a)
				}
			}
			g, err := Correlate(accs, Options{IdPs: idps, Prior: tt.prior})
			if err != nil {
				t.Fatal(err)
			}
			for i, a := range g.Accounts {
				if w, ok := tt.want[a.Key()]; ok && g.People[g.PersonOf(int32(i))].ID != w {
					t.Errorf("%s: person %q, want %q", a.Key(), g.People[g.PersonOf(int32(i))].ID, w)
				}
			}
		})
	}

	// A split: the person's two IdP accounts no longer match. The part that
	// still derives the old ID keeps it; the other gets its own.
	split := []collectors.Account{idp("okta", "00u2", "a2@acme.com"), idp("entra", "g9", "a@acme.com")}
	SortAccounts(split)
	g, err := Correlate(split, Options{IdPs: idps, Prior: prior})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for i, a := range g.Accounts {
		got[a.Key()] = g.People[g.PersonOf(int32(i))].ID
	}
	if got["entra:g9"] != "entra:g9" || got["okta:00u2"] != "okta:00u2" {
		t.Errorf("split: %v", got)
	}
}
