package graphtest

import "fmt"

// GUID returns a valid, deterministic GUID for (kind, i).
func GUID(kind, i int) string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i, kind, kind%0x1000, i%0x1000, i)
}

// Generate builds a tenant of n users where the first `assigned` can use
// the app: 1% directly with the Admin role, the rest half through "Stonly
// Users" (default access) and half through "Stonly Admins" (Admin) or
// directly. "Support Tier 2" is nested in "Stonly Users": its members reach
// the app only through nesting and are NOT assigned. About 3% of users are
// disabled and 2% are guests; one in fifty has an alias in acquisicorp.net
// among its proxyAddresses. Addresses are user<i>@acme.com, as in the Okta
// simulator's generator, so the two IdPs describe one company. Every
// member but user 0 has a manager: user i/20.
func Generate(n, assigned int) *Scenario {
	sc := &Scenario{
		TenantID: GUID(1, 1), ClientID: GUID(2, 1), ClientSecret: "sim~secret.value-0123456789",
		Permissions: []string{UserReadAll, ApplicationReadAll, GroupMemberReadAll},
		SPID:        GUID(3, 1), AppID: GUID(4, 1), AppName: "Stonly",
		AppRoles: []AppRole{{ID: GUID(5, 1), Value: "Admin", DisplayName: "Stonly Admin"}, {ID: GUID(5, 2), Value: "Member", DisplayName: "Stonly Member"}},
	}
	users := Group{ID: GUID(6, 1), DisplayName: "Stonly Users"}
	admins := Group{ID: GUID(6, 2), DisplayName: "Stonly Admins"}
	tier2 := Group{ID: GUID(6, 3), DisplayName: "Support Tier 2"}
	users.Members = append(users.Members, tier2.ID)
	for i := 0; i < n; i++ {
		u := User{ID: GUID(7, i), DisplayName: fmt.Sprintf("User %d", i), GivenName: "User", Surname: fmt.Sprint(i),
			UserPrincipalName: fmt.Sprintf("user%07d@acme.com", i), Mail: fmt.Sprintf("user%07d@acme.com", i),
			AccountEnabled: i%33 != 7, UserType: "Member", EmployeeID: fmt.Sprintf("E%07d", i)}
		u.ProxyAddresses = []string{"SMTP:" + u.Mail}
		if i > 0 {
			u.Manager = GUID(7, i/20) // user 0 manages users 1-19, user 1 users 20-39, ...
		}
		if i%50 == 0 {
			u.ProxyAddresses = append(u.ProxyAddresses, fmt.Sprintf("smtp:user%07d@acquisicorp.net", i), "SIP:"+u.Mail)
		}
		if i%50 == 11 {
			u.UserType = "Guest"
			u.UserPrincipalName = fmt.Sprintf("guest%07d_partner.com#EXT#@acme.onmicrosoft.com", i)
			u.Mail = fmt.Sprintf("guest%07d@partner.com", i)
			u.ProxyAddresses = []string{"SMTP:" + u.Mail}
			u.EmployeeID = ""
			u.OtherMails = []string{u.Mail}
			u.Manager = ""
		}
		sc.Users = append(sc.Users, u)
		switch {
		case i >= assigned:
			if i%97 == 5 {
				tier2.Members = append(tier2.Members, u.ID)
			}
		case i%100 == 0:
			sc.Assignments = append(sc.Assignments, Assignment{PrincipalID: u.ID, AppRoleID: sc.AppRoles[0].ID})
		case i%2 == 0:
			users.Members = append(users.Members, u.ID)
		case i%10 == 3:
			admins.Members = append(admins.Members, u.ID)
		default:
			users.Members = append(users.Members, u.ID)
		}
	}
	sc.Groups = []Group{users, admins, tier2}
	sc.Assignments = append(sc.Assignments,
		Assignment{PrincipalID: users.ID, AppRoleID: DefaultAccess},
		Assignment{PrincipalID: admins.ID, AppRoleID: sc.AppRoles[0].ID})
	return sc
}

// AddApp adds the tenant's k-th enterprise application (k >= 2; the
// first is the scenario's own SPID), named name, with one app role per
// value, and no assignments yet. Its service principal's object id is
// GUID(3, k) and its roles' ids GUID(5, 100*k+i). The pointer it returns
// is valid until the next AddApp.
func (sc *Scenario) AddApp(k int, name string, roles ...string) *ServicePrincipal {
	sp := ServicePrincipal{ID: GUID(3, k), AppID: GUID(4, k), Name: name}
	for i, v := range roles {
		sp.AppRoles = append(sp.AppRoles, AppRole{ID: GUID(5, 100*k+i), Value: v, DisplayName: name + " " + v})
	}
	sc.Apps = append(sc.Apps, sp)
	return &sc.Apps[len(sc.Apps)-1]
}
