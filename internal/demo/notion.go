package demo

// The demo's second application: a SCIM 2.0 app ("Notion", a workspace
// tool) with a role ladder of its own, assigned through Okta and Entra as
// Stonly is, and read through collectors/scim from the scimtest simulator.

import (
	"fmt"

	"github.com/idgraph/idgraph/collectors/entra/graphtest"
	"github.com/idgraph/idgraph/collectors/okta/oktatest"
	"github.com/idgraph/idgraph/collectors/scim/scimtest"
)

// NotionRoles is the SCIM application's ladder, lowest first.
var NotionRoles = []string{"Guest", "Member", "Workspace Admin", "Workspace Owner"}

// Okta and Entra groups assigned to the SCIM application.
const (
	OktaNotionUsers   = "Notion Users"
	OktaNotionAdmins  = "Notion Admins"
	EntraNotionUsers  = "Notion Users"
	EntraNotionAdmins = "Notion Admins"
	// NotionOktaApp is the application's id in Okta.
	NotionOktaApp = "0oa7notion4demo0x7"
)

// NotionSPID is the application's service principal in Entra.
var NotionSPID = graphtest.GUID(0x73, 2)

// NotionAccount is a person's account in the SCIM application.
type NotionAccount struct {
	Email  string
	Role   string // one of NotionRoles
	Active bool
}

// notionApp renders the Okta side of the SCIM application: its group
// assignments, with the role each carries.
func (c *Company) notionApp(groupID func(string) *oktatest.Group) oktatest.App {
	return oktatest.App{ID: NotionOktaApp, Label: "Notion", GroupAssignments: []oktatest.GroupAssignment{
		{GroupID: groupID(OktaNotionAdmins).ID, Priority: 0, Role: "Workspace Admin"},
		{GroupID: groupID(OktaNotionUsers).ID, Priority: 1, Role: "Member"},
	}}
}

// notionSP renders the Entra side: an enterprise application that, like
// many SaaS apps in Entra by default, does not require assignment
// (appRoleAssignmentRequired false: Entra then cannot say who should not
// have it, which idgraph reports as open_access), with its groups assigned.
func (c *Company) notionSP(users, admins *graphtest.Group) graphtest.ServicePrincipal {
	role := graphtest.AppRole{ID: graphtest.GUID(0x75, 11), Value: "WorkspaceAdmin", DisplayName: "Notion Workspace Admin"}
	return graphtest.ServicePrincipal{ID: NotionSPID, AppID: graphtest.GUID(0x74, 2), Name: "Notion", AppRoles: []graphtest.AppRole{role},
		Assignments:           []graphtest.Assignment{{PrincipalID: users.ID, AppRoleID: graphtest.DefaultAccess}, {PrincipalID: admins.ID, AppRoleID: role.ID}},
		AssignmentNotRequired: true}
}

// Notion renders the company as the SCIM simulator's scenario. The token
// belongs to the provisioning bot, which /Me names.
func (c *Company) Notion(token string) *scimtest.Scenario {
	sc := &scimtest.Scenario{Token: token, Me: "u-notion-bot", MaxResults: 50}
	sc.Users = append(sc.Users, scimtest.User{ID: "u-notion-bot", UserName: "scim-bot@acme.com", DisplayName: "SCIM bot", Active: true,
		Emails: []scimtest.MultiValue{{Value: "scim-bot@acme.com", Primary: true, Type: "work"}},
		Roles:  []scimtest.MultiValue{{Value: "Workspace Owner", Primary: true}}})
	for k, p := range c.People {
		a := p.Notion
		if a == nil {
			continue
		}
		f, l := split(p.Name)
		sc.Users = append(sc.Users, scimtest.User{ID: fmt.Sprintf("u-%05d", k), UserName: a.Email, DisplayName: p.Name, Active: a.Active,
			Name:   &scimtest.Name{GivenName: f, FamilyName: l, Formatted: p.Name},
			Emails: []scimtest.MultiValue{{Value: a.Email, Primary: true, Type: "work"}},
			Roles:  []scimtest.MultiValue{{Value: a.Role, Primary: true}}})
	}
	return sc
}

// notionBulk gives an ordinary employee the SCIM application when the
// employee is one of those who use it (a third of them), through the
// groups both IdPs assign.
func notionBulk(p *Person, i int) {
	if i%3 != 0 {
		return
	}
	role, oktaGroup, entraGroup := "Member", OktaNotionUsers, EntraNotionUsers
	if i%24 == 0 {
		role, oktaGroup, entraGroup = "Workspace Admin", OktaNotionAdmins, EntraNotionAdmins
	}
	if p.Okta != nil && p.Okta.Status != "DEPROVISIONED" {
		p.Okta.Groups = append(p.Okta.Groups, oktaGroup)
	}
	if p.Entra != nil && p.Entra.Enabled {
		p.Entra.Groups = append(p.Entra.Groups, entraGroup)
	}
	p.Notion = &NotionAccount{Email: p.Email, Role: role, Active: true}
}

// plantNotion adds the SCIM application's findings to the planted people:
// the leaver keeps his Workspace Owner account (orphaned, critical), an
// account nobody assigned (unassigned), an assigned person without an
// account (missing), an owner the groups do not explain (role_mismatch),
// and a deactivated account that is no longer a member.
func (c *Company) plantNotion() {
	set := func(email string, f func(p *Person)) {
		if p := c.Find(email); p != nil {
			f(p)
		}
	}
	set("bob.leaver@acme.com", func(p *Person) { p.Notion = &NotionAccount{Email: p.Email, Role: "Workspace Owner", Active: true} })
	set("carol.bypass@acme.com", func(p *Person) { p.Notion = &NotionAccount{Email: p.Email, Role: "Member", Active: true} })
	set("dave.missing@acme.com", func(p *Person) { p.Okta.Groups = append(p.Okta.Groups, OktaNotionUsers) })
	set("grace.shortfall@acme.com", func(p *Person) {
		p.Okta.Groups = append(p.Okta.Groups, OktaNotionUsers)
		p.Entra.Groups = append(p.Entra.Groups, EntraNotionUsers)
		p.Notion = &NotionAccount{Email: p.Email, Role: "Workspace Owner", Active: true}
	})
	set("quentin.quitter@acme.com", func(p *Person) {
		p.Okta.Groups = append(p.Okta.Groups, OktaNotionAdmins)
		p.Entra.Groups = append(p.Entra.Groups, EntraNotionAdmins)
		p.Notion = &NotionAccount{Email: p.Email, Role: "Workspace Admin", Active: true}
	})
	set("heidi.split@acme.com", func(p *Person) { p.Notion = &NotionAccount{Email: p.Email, Role: "Member", Active: false} })
	set("peggy.suspended@acme.com", func(p *Person) { p.Notion = &NotionAccount{Email: p.Email, Role: "Member", Active: true} })
	for _, owner := range []string{"olivia.owner@acme.com", "oscar.owner@acme.com"} {
		set(owner, func(p *Person) {
			p.Okta.Groups = append(p.Okta.Groups, OktaNotionAdmins)
			p.Entra.Groups = append(p.Entra.Groups, EntraNotionAdmins)
			p.Notion = &NotionAccount{Email: p.Email, Role: "Workspace Admin", Active: true}
		})
	}
}
