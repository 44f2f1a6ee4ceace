// Package demo is idgraph's built-in demo company: one model of an
// organisation, rendered consistently into the Okta, Microsoft Graph and
// Stonly simulators, with every kind of finding planted among people who
// are in order. `idgraph demo`, the end-to-end tests and the scale
// benchmarks use it.
package demo

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/idgraph/idgraph/collectors/entra/graphtest"
	"github.com/idgraph/idgraph/collectors/okta/oktatest"
	"github.com/idgraph/idgraph/collectors/stonly/stonlytest"
)

// Teams of the demo's Stonly account.
var Teams = []stonlytest.Team{
	{ID: "s7Kd2QxA", Name: "Support Center"},
	{ID: "p3Qx9LmB", Name: "Sales Playbooks"},
	{ID: "o1Wm4ZrC", Name: "Onboarding"},
}

// Okta groups assigned to the Stonly app, and the Entra groups.
const (
	OktaOwners  = "Stonly Owners"
	OktaAdmins  = "Stonly Admins"
	OktaUsers   = "Stonly Users"
	EntraUsers  = "Stonly Users"
	EntraAdmins = "Stonly Admins"
	EntraTier2  = "Support Tier 2" // nested in EntraUsers: grants nothing
)

// Person is one human of the company and what each system knows of them.
type Person struct {
	Name       string
	Email      string
	EmployeeID string
	Okta       *OktaUser
	Entra      *EntraUser
	Stonly     []Membership
	Notion     *NotionAccount // the account in the SCIM application, if any
	Note       string         // why this person is in the demo, for the README's tour
}

// OktaUser is the person's Okta account.
type OktaUser struct {
	ID            string
	Status        string // ACTIVE, DEPROVISIONED, ...
	Login         string
	SecondEmail   string
	Groups        []string // among OktaOwners, OktaAdmins, OktaUsers and others
	Direct        string   // direct app assignment with this role ("" none)
	StatusChanged time.Time
}

// EntraUser is the person's Entra ID account.
type EntraUser struct {
	ID         string
	Enabled    bool
	Guest      bool
	UPN        string
	Mail       string
	OtherMails []string
	Proxy      []string
	Groups     []string // among EntraUsers, EntraAdmins, EntraTier2
	DirectRole string   // direct app role assignment ("Admin", "Member", "default")
}

// Membership is the person's place in one Stonly team.
type Membership struct {
	Team    string // team id
	Role    string
	Email   string // the address the Stonly account uses
	Invited bool   // a pending invitation, not a member
}

// Company is the demo organisation.
type Company struct {
	People []Person
}

var first = []string{"Ada", "Ben", "Chloé", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ines", "Jonas", "Kenji", "Lena", "Marta", "Nils", "Oona",
	"Pedro", "Quinn", "Rosa", "Sami", "Tariq", "Ulla", "Vik", "Wen", "Xavi", "Yara", "Zoe"}
var last = []string{"Andersen", "Baptiste", "Costa", "Duarte", "Eriksen", "Fischer", "Garcia", "Hoffmann", "Ivanova", "Jensen", "Kowalski",
	"Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quintero", "Rossi", "Schmidt", "Tanaka", "Ueda", "Varga", "Weber", "Xu", "Yilmaz", "Zimmer"}

var epoch = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)

// New builds a company of about n people (at least the planted cases),
// deterministically.
func New(n int) *Company {
	c := &Company{}
	c.plant()
	seen := map[string]bool{}
	for _, p := range c.People {
		seen[p.Email] = true
	}
	for i := 0; len(c.People) < n; i++ {
		name := first[i%len(first)] + " " + last[(i*11+i/len(first))%len(last)]
		local := strings.ToLower(strings.NewReplacer("é", "e", " ", ".").Replace(name))
		email := local + "@acme.com"
		for k := 2; seen[email]; k++ {
			email = fmt.Sprintf("%s%d@acme.com", local, k)
		}
		seen[email] = true
		p := c.bulk(len(c.People), i, name, email)
		notionBulk(&p, i)
		c.People = append(c.People, p)
	}
	c.plantNotion()
	return c
}

func oktaID(i int) string  { return fmt.Sprintf("00u%014dx7", i) }
func entraID(i int) string { return graphtest.GUID(0x77, i) }

// bulk makes an ordinary employee: in both IdPs (most), assigned through
// groups, with the Stonly account the assignment implies. A few are
// leavers who kept their account, as happens in real companies (2%).
func (c *Company) bulk(idx, i int, name, email string) Person {
	p := Person{Name: name, Email: email, EmployeeID: fmt.Sprintf("E%05d", 10000+i)}
	team := Teams[i%len(Teams)].ID
	admin := i%12 == 5
	assigned := i%10 != 9 // one in ten does not use Stonly
	inOkta, inEntra := i%7 != 3, i%5 != 2
	if !inOkta && !inEntra {
		inEntra = true
	}
	if inOkta {
		p.Okta = &OktaUser{ID: oktaID(idx), Status: "ACTIVE", Login: email}
		if i%17 == 4 {
			p.Okta.Status = "PASSWORD_EXPIRED"
		}
		if assigned {
			if admin {
				p.Okta.Groups = []string{OktaAdmins}
			} else {
				p.Okta.Groups = []string{OktaUsers}
			}
		}
	}
	if inEntra {
		p.Entra = &EntraUser{ID: entraID(idx), Enabled: true, UPN: email, Mail: email, Proxy: []string{"SMTP:" + email}}
		if assigned {
			if admin {
				p.Entra.Groups = []string{EntraAdmins}
			} else {
				p.Entra.Groups = []string{EntraUsers}
			}
		}
	}
	if assigned {
		role := "Member"
		if admin {
			role = "Admin"
		}
		p.Stonly = []Membership{{Team: team, Role: role, Email: email}}
	}
	if i%50 == 17 && len(p.Stonly) > 0 { // a leaver who kept access
		if p.Okta != nil {
			p.Okta.Status, p.Okta.StatusChanged = "DEPROVISIONED", time.Date(2026, 9, 12, 16, 0, 0, 0, time.UTC)
			p.Okta.Groups = nil
		}
		if p.Entra != nil {
			p.Entra.Enabled = false
			p.Entra.Groups = nil
		}
		p.Note = "leaver who kept Stonly"
	}
	return p
}

// plant adds the people behind every kind of finding, and the team owners.
func (c *Company) plant() {
	add := func(p Person) { c.People = append(c.People, p) }
	n := func() int { return len(c.People) }
	act := func(email string, groups ...string) *OktaUser {
		return &OktaUser{ID: oktaID(n()), Status: "ACTIVE", Login: email, Groups: groups}
	}
	ent := func(email string, groups ...string) *EntraUser {
		return &EntraUser{ID: entraID(n()), Enabled: true, UPN: email, Mail: email, Proxy: []string{"SMTP:" + email}, Groups: groups}
	}
	member := func(team int, role, email string) []Membership {
		return []Membership{{Team: Teams[team].ID, Role: role, Email: email}}
	}
	// Team owners, expected by the mapping (Stonly Owners -> Owner).
	for t, name := range []string{"Olivia Owner", "Oscar Owner", "Ophelia Owner"} {
		e := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@acme.com"
		add(Person{Name: name, Email: e, EmployeeID: fmt.Sprintf("E0000%d", t), Okta: act(e, OktaOwners), Entra: ent(e),
			Stonly: member(t, "Owner", e), Note: "team owner"})
	}
	e := "bob.leaver@acme.com"
	bob := Person{Name: "Bob Leaver", Email: e, EmployeeID: "E00010", Okta: act(e), Entra: ent(e), Stonly: member(0, "Admin", e),
		Note: "left the company, still a Stonly Admin: critical"}
	bob.Okta.Status, bob.Okta.StatusChanged = "DEPROVISIONED", time.Date(2026, 10, 2, 17, 30, 0, 0, time.UTC)
	bob.Entra.Enabled = false
	add(bob)
	e = "peggy.suspended@acme.com"
	peggy := Person{Name: "Peggy Suspended", Email: e, EmployeeID: "E00011", Okta: act(e, OktaUsers), Stonly: member(1, "Member", e), Note: "suspended in Okta"}
	peggy.Okta.Status, peggy.Okta.StatusChanged = "SUSPENDED", time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	add(peggy)
	add(Person{Name: "Mallory Unknown", Email: "mallory.ext@gmail.com", Stonly: member(1, "Admin", "mallory.ext@gmail.com"),
		Note: "no IdP knows this account"})
	e = "carol.bypass@acme.com"
	add(Person{Name: "Carol Bypass", Email: e, EmployeeID: "E00012", Okta: act(e, "Engineering"), Entra: ent(e), Stonly: member(0, "Member", e),
		Note: "invited by hand, never assigned in an IdP"})
	e = "dave.missing@acme.com"
	add(Person{Name: "Dave Missing", Email: e, EmployeeID: "E00013", Okta: act(e, OktaUsers), Entra: ent(e, EntraUsers), Note: "assigned, no Stonly account"})
	e = "erin.invited@acme.com"
	add(Person{Name: "Erin Invited", Email: e, EmployeeID: "E00014", Okta: act(e, OktaUsers), Entra: ent(e, EntraUsers),
		Stonly: []Membership{{Team: Teams[2].ID, Role: "Member", Email: e, Invited: true}}, Note: "assigned, invitation pending"})
	e = "frank.excess@acme.com"
	add(Person{Name: "Frank Excess", Email: e, EmployeeID: "E00015", Okta: act(e, OktaUsers), Entra: ent(e, EntraUsers), Stonly: member(0, "Member", e),
		Note: "promoted to Stonly Admin overnight, the IdPs imply Member"})
	e = "quentin.quitter@acme.com"
	add(Person{Name: "Quentin Quitter", Email: e, EmployeeID: "E00025", Okta: act(e, OktaAdmins), Entra: ent(e, EntraAdmins), Stonly: member(2, "Admin", e),
		Note: "leaves overnight, keeps his Stonly Admin account"})
	e = "grace.shortfall@acme.com"
	add(Person{Name: "Grace Shortfall", Email: e, EmployeeID: "E00016", Okta: act(e, OktaAdmins), Entra: ent(e, EntraAdmins), Stonly: member(1, "Member", e),
		Note: "the IdPs imply Admin, Stonly says Member"})
	e = "heidi.split@acme.com"
	heidi := Person{Name: "Heidi Split", Email: e, EmployeeID: "E00017", Okta: act(e, OktaUsers), Entra: ent(e), Stonly: member(2, "Member", e),
		Note: "active in Okta, disabled in Entra"}
	heidi.Entra.Enabled = false
	add(heidi)
	e = "olga.roles@acme.com"
	add(Person{Name: "Olga Roles", Email: e, EmployeeID: "E00018", Okta: act(e, OktaUsers), Entra: ent(e, EntraAdmins), Stonly: member(2, "Admin", e),
		Note: "Okta implies Member, Entra Admin"})
	e = "judy.twice@acme.com"
	add(Person{Name: "Judy Twice", Email: e, EmployeeID: "E00019", Okta: act(e, OktaUsers), Entra: ent(e, EntraUsers),
		Stonly: []Membership{{Team: Teams[0].ID, Role: "Member", Email: e}, {Team: Teams[0].ID, Role: "Member", Email: "judy.twice+stonly@acme.com"}},
		Note:   "two accounts in one team"})
	e = "ivan.acquired@acquisicorp.net"
	add(Person{Name: "Ivan Acquired", Email: e, EmployeeID: "E00020", Okta: act(e, OktaUsers), Stonly: member(1, "Member", "ivan.acquired@acme.com"),
		Note: "matched through the domain alias"})
	e = "ken.staged@acme.com"
	ken := Person{Name: "Ken Staged", Email: e, EmployeeID: "E00021", Okta: act(e), Stonly: member(2, "Member", e), Note: "Okta account not yet active"}
	ken.Okta.Status = "STAGED"
	add(ken)
	e = "tia.tiertwo@acme.com"
	add(Person{Name: "Tia Tiertwo", Email: e, EmployeeID: "E00022", Entra: ent(e, EntraTier2), Stonly: member(0, "Member", e),
		Note: "reaches Stonly Users only through a nested group: not assigned by Entra"})
	e = "pat_partner.com#EXT#@acme.onmicrosoft.com"
	pat := Person{Name: "Pat Partner", Email: "pat@partner.com", Entra: ent(e, EntraUsers), Stonly: member(1, "Member", "pat@partner.com"),
		Note: "a guest, assigned"}
	pat.Entra.Guest, pat.Entra.Mail, pat.Entra.OtherMails = true, "pat@partner.com", []string{"pat@partner.com"}
	add(pat)
	// Two Okta users claiming one address: a reported conflict.
	e = "sam.shared@acme.com"
	sam := Person{Name: "Sam Shared", Email: e, EmployeeID: "E00023", Okta: act(e), Stonly: member(1, "Member", "helpdesk@acme.com"), Note: "address conflict"}
	sam.Okta.SecondEmail = "helpdesk@acme.com"
	add(sam)
	e = "sue.shared@acme.com"
	sue := Person{Name: "Sue Shared", Email: e, EmployeeID: "E00024", Okta: act(e), Note: "address conflict"}
	sue.Okta.SecondEmail = "helpdesk@acme.com"
	add(sue)
}

// Find returns the person with the address, or nil.
func (c *Company) Find(email string) *Person {
	for i := range c.People {
		if c.People[i].Email == email {
			return &c.People[i]
		}
	}
	return nil
}

func split(name string) (string, string) {
	f, l, _ := strings.Cut(name, " ")
	return f, l
}

// Okta renders the company as the Okta simulator's scenario.
func (c *Company) Okta(token string) *oktatest.Scenario {
	sc := &oktatest.Scenario{Token: token, AppID: "0oa7stonly4demo0x7", AppLabel: "Stonly"}
	groups := map[string]*oktatest.Group{}
	gid := func(name string) *oktatest.Group {
		if g, ok := groups[name]; ok {
			return g
		}
		g := &oktatest.Group{ID: fmt.Sprintf("00g%015dx7", len(groups)+1), Name: name}
		groups[name] = g
		return g
	}
	for _, n := range []string{OktaOwners, OktaAdmins, OktaUsers, OktaNotionAdmins, OktaNotionUsers} {
		gid(n)
	}
	for _, p := range c.People {
		u := p.Okta
		if u == nil {
			continue
		}
		f, l := split(p.Name)
		changed := u.StatusChanged
		if changed.IsZero() {
			changed = epoch
		}
		sc.Users = append(sc.Users, oktatest.User{ID: u.ID, Status: u.Status, Login: u.Login, Email: u.Login, SecondEmail: u.SecondEmail,
			FirstName: f, LastName: l, DisplayName: p.Name, EmployeeNumber: p.EmployeeID, Created: epoch, LastUpdated: changed,
			StatusChanged: changed, LastLogin: changed.Add(-48 * time.Hour)})
		for _, g := range u.Groups {
			gid(g).Members = append(gid(g).Members, u.ID)
		}
		if u.Direct != "" {
			sc.Direct = append(sc.Direct, oktatest.DirectAssignment{UserID: u.ID, Role: u.Direct})
		}
	}
	sc.Apps = []oktatest.App{c.notionApp(gid)}
	for _, name := range slices.Sorted(maps.Keys(groups)) {
		sc.Groups = append(sc.Groups, *groups[name])
	}
	sc.GroupAssignments = []oktatest.GroupAssignment{
		{GroupID: groups[OktaOwners].ID, Priority: 0, Role: "Owner"},
		{GroupID: groups[OktaAdmins].ID, Priority: 1, Role: "Admin"},
		{GroupID: groups[OktaUsers].ID, Priority: 2, Role: "Member"},
	}
	return sc
}

// Entra renders the company as the Graph simulator's scenario.
func (c *Company) Entra(secret string) *graphtest.Scenario {
	sc := &graphtest.Scenario{TenantID: graphtest.GUID(0x71, 1), ClientID: graphtest.GUID(0x72, 1), ClientSecret: secret,
		Permissions: []string{graphtest.UserReadAll, graphtest.ApplicationReadAll, graphtest.GroupMemberReadAll},
		SPID:        graphtest.GUID(0x73, 1), AppID: graphtest.GUID(0x74, 1), AppName: "Stonly",
		AppRoles: []graphtest.AppRole{{ID: graphtest.GUID(0x75, 1), Value: "Admin", DisplayName: "Stonly Admin"},
			{ID: graphtest.GUID(0x75, 2), Value: "Member", DisplayName: "Stonly Member"}}}
	users := graphtest.Group{ID: graphtest.GUID(0x76, 1), DisplayName: EntraUsers}
	admins := graphtest.Group{ID: graphtest.GUID(0x76, 2), DisplayName: EntraAdmins}
	tier2 := graphtest.Group{ID: graphtest.GUID(0x76, 3), DisplayName: EntraTier2}
	users.Members = append(users.Members, tier2.ID)
	nusers := graphtest.Group{ID: graphtest.GUID(0x76, 4), DisplayName: EntraNotionUsers}
	nadmins := graphtest.Group{ID: graphtest.GUID(0x76, 5), DisplayName: EntraNotionAdmins}
	byName := map[string]*graphtest.Group{EntraUsers: &users, EntraAdmins: &admins, EntraTier2: &tier2, EntraNotionUsers: &nusers, EntraNotionAdmins: &nadmins}
	for _, p := range c.People {
		u := p.Entra
		if u == nil {
			continue
		}
		f, l := split(p.Name)
		ut := "Member"
		if u.Guest {
			ut = "Guest"
		}
		sc.Users = append(sc.Users, graphtest.User{ID: u.ID, DisplayName: p.Name, GivenName: f, Surname: l, UserPrincipalName: u.UPN, Mail: u.Mail,
			OtherMails: u.OtherMails, ProxyAddresses: u.Proxy, AccountEnabled: u.Enabled, UserType: ut, EmployeeID: p.EmployeeID})
		for _, g := range u.Groups {
			byName[g].Members = append(byName[g].Members, u.ID)
		}
		switch u.DirectRole {
		case "":
		case "default":
			sc.Assignments = append(sc.Assignments, graphtest.Assignment{PrincipalID: u.ID, AppRoleID: graphtest.DefaultAccess})
		case "Admin":
			sc.Assignments = append(sc.Assignments, graphtest.Assignment{PrincipalID: u.ID, AppRoleID: sc.AppRoles[0].ID})
		default:
			sc.Assignments = append(sc.Assignments, graphtest.Assignment{PrincipalID: u.ID, AppRoleID: sc.AppRoles[1].ID})
		}
	}
	sc.Groups = []graphtest.Group{users, admins, tier2, nusers, nadmins}
	sc.Apps = []graphtest.ServicePrincipal{c.notionSP(&nusers, &nadmins)}
	sc.Assignments = append(sc.Assignments,
		graphtest.Assignment{PrincipalID: users.ID, AppRoleID: graphtest.DefaultAccess},
		graphtest.Assignment{PrincipalID: admins.ID, AppRoleID: sc.AppRoles[0].ID})
	return sc
}

// Stonly renders the company as the Stonly replica's scenario.
func (c *Company) Stonly(email, password string) *stonlytest.Scenario {
	sc := &stonlytest.Scenario{Email: email, Password: password}
	idx := map[string]int{}
	for i, t := range Teams {
		sc.Teams = append(sc.Teams, stonlytest.Team{ID: t.ID, Name: t.Name})
		idx[t.ID] = i
	}
	last := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)
	for k, p := range c.People {
		for _, m := range p.Stonly {
			t := &sc.Teams[idx[m.Team]]
			if m.Invited {
				t.Invitations = append(t.Invitations, stonlytest.Invitation{Email: m.Email, Role: m.Role, Invited: last.Add(-72 * time.Hour)})
				continue
			}
			t.Members = append(t.Members, stonlytest.Member{Name: p.Name, Email: m.Email, Role: m.Role, LastActive: last.Add(-time.Duration(k) * time.Hour)})
		}
	}
	return sc
}
