// users.go reads the user lists and turns an Okta user into an account.

package okta

import (
	"context"
	"strings"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"github.com/idgraph/idgraph/collectors"
)

func (r *read) listUsers(ctx context.Context, cl *sdk.Client, filter, stage string) error {
	qp := query.NewQueryParams(query.WithLimit(usersPage))
	if filter != "" {
		qp.Filter = filter
	}
	return pages(ctx, r, "/api/v1/users", stage, func() ([]*sdk.User, *sdk.Response, error) { return cl.User.ListUsers(ctx, qp) }, r.addUsers)
}

func (r *read) addUsers(users []*sdk.User) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range users {
		if u == nil || u.Id == "" {
			continue
		}
		r.users[u.Id] = toAccount(u)
	}
}

func str(m map[string]any, k string) string {
	if v, ok := m[k].(string); ok {
		return strings.TrimSpace(v)
	}
	return ""
}

func toAccount(u *sdk.User) *collectors.Account {
	var p map[string]any
	if u.Profile != nil {
		p = *u.Profile
	}
	a := &collectors.Account{Source: "okta", ID: u.Id, Email: str(p, "email"), RawStatus: u.Status,
		EmployeeID: str(p, "employeeNumber"), Status: Status(u.Status)}
	for _, f := range []string{"login", "email", "secondEmail"} {
		if v := str(p, f); v != "" {
			a.Addresses = append(a.Addresses, collectors.Address{Field: f, Value: v})
		}
	}
	if a.Email == "" {
		a.Email = str(p, "login")
	}
	a.DisplayName = str(p, "displayName")
	if a.DisplayName == "" {
		a.DisplayName = strings.TrimSpace(str(p, "firstName") + " " + str(p, "lastName"))
	}
	if u.StatusChanged != nil {
		a.StatusChanged = *u.StatusChanged
	}
	if u.LastLogin != nil {
		a.LastActivity = *u.LastLogin
	}
	return a
}

// Status maps Okta's user status onto idgraph's (docs/RULES.md). An unknown
// status counts as not yet active: never as a leaver, which would raise a
// false "orphaned" alarm.
func Status(s string) collectors.Status {
	switch s {
	case "ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY":
		return collectors.StatusActive
	case "SUSPENDED", "DEPROVISIONED":
		return collectors.StatusInactive
	}
	return collectors.StatusStaged
}
