package scimtest

import "fmt"

// Many is a scenario of n users (u-0001 …), for paging: every tenth is an
// Admin, every seventh deactivated, the rest Members; roles are carried in
// roles, entitlements and groups alike.
func Many(n int) *Scenario {
	sc := &Scenario{Token: "scim-test-token", MaxResults: 100, Groups: []string{"Member", "Admin", "Owner"}}
	for i := 1; i <= n; i++ {
		role := "Member"
		if i%10 == 0 {
			role = "Admin"
		}
		addr := fmt.Sprintf("user%04d@acme.com", i)
		sc.Users = append(sc.Users, User{
			ID: fmt.Sprintf("u-%04d", i), UserName: addr, DisplayName: fmt.Sprintf("User %d", i), Active: i%7 != 0,
			Emails:       []MultiValue{{Value: addr, Type: "work", Primary: true}},
			Roles:        []MultiValue{{Value: role, Primary: true}},
			Entitlements: []MultiValue{{Value: role}},
			Groups:       []string{role},
		})
	}
	return sc
}
