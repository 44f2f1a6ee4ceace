package stonlytest

import (
	"fmt"
	"time"
)

// Generate builds an account with members spread over teams: each team has
// one Owner, about one Admin in ten, the rest Members, and two pending
// invitations. Addresses are member<i>@acme.com, so they line up with the
// other simulators' generators.
func Generate(members int, teams ...string) *Scenario {
	if len(teams) == 0 {
		teams = []string{"Support Center"}
	}
	sc := &Scenario{Email: "it-bot@acme.com", Password: "correct horse battery staple"}
	last := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for ti, name := range teams {
		sc.Teams = append(sc.Teams, Team{ID: fmt.Sprintf("T%03dx%d", ti+1, 7*ti+3), Name: name,
			Invitations: []Invitation{{Email: fmt.Sprintf("invitee%d.a@acme.com", ti), Role: "Member", Invited: last},
				{Email: fmt.Sprintf("invitee%d.b@acme.com", ti), Role: "Admin", Invited: last}}})
	}
	for i := 0; i < members; i++ {
		t := &sc.Teams[i%len(teams)]
		role := "Member"
		switch {
		case len(t.Members) == 0:
			role = "Owner"
		case i%10 == 3:
			role = "Admin"
		}
		t.Members = append(t.Members, Member{Name: fmt.Sprintf("Member %d", i), Email: fmt.Sprintf("member%d@acme.com", i), Role: role,
			LastActive: last.Add(-time.Duration(i) * time.Hour)})
	}
	return sc
}
