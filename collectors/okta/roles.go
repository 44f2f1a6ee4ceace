package okta

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
)

// An API token carries the admin roles of the admin who created it, and a
// service app those assigned to it. A role limited to groups makes Okta
// answer the user list with 200 and only those groups' members: nothing
// in the answer says that it is partial. So idgraph reads the roles
// (Okta's management API spec: getUser with "me", listAssignedRolesForUser,
// listGroupTargetsForRole; for a service app listRolesForClient and
// listGroupTargetRoleForClient) and trusts the user list only when one
// role sees every user.

// Access is what the credential's admin roles let it see.
type Access struct {
	Who   string   // "the API token's user reader@acme.com", "the service app 0oa…"
	Roles []string // e.g. "Read Only Administrator (READ_ONLY_ADMIN)", "Group Administrator (USER_ADMIN) limited to groups Sales, Support"
	Full  bool     // some role sees every user
}

// String describes the roles for doctor and messages.
func (a *Access) String() string {
	if len(a.Roles) == 0 {
		return a.Who + " has no admin role"
	}
	return a.Who + " has " + strings.Join(a.Roles, "; ")
}

// seesAll are the standard roles that read every user (RoleType in
// Okta's spec; the standard-roles guide: super, org and read-only
// administrators see the whole org).
var seesAll = map[string]bool{"SUPER_ADMIN": true, "ORG_ADMIN": true, "READ_ONLY_ADMIN": true}

// groupScoped are the roles Okta lets an admin limit to group targets
// ("Lists all group targets for a USER_ADMIN, HELP_DESK_ADMIN, or
// GROUP_MEMBERSHIP_ADMIN role assignment ... If the role isn't scoped to
// specific group targets, an empty array [] is returned"). Unscoped, they
// manage, and so see, every user.
var groupScoped = map[string]bool{"USER_ADMIN": true, "HELP_DESK_ADMIN": true, "GROUP_MEMBERSHIP_ADMIN": true}

// access reads the credential's admin roles and their group targets.
func (c *Collector) access(ctx context.Context, cl *sdk.Client) (*Access, error) {
	var roles []*sdk.Role
	var targets func(roleID string) ([]*sdk.Group, error)
	a := &Access{}
	if c.token != "" {
		me, _, err := cl.User.GetUser(ctx, "me")
		if err != nil {
			return nil, fmt.Errorf("reading the API token's user (/api/v1/users/me): %w", err)
		}
		a.Who = "the API token's user " + me.Id
		if me.Profile != nil {
			if l := str(*me.Profile, "login"); l != "" {
				a.Who = "the API token's user " + l
			}
		}
		if roles, _, err = cl.User.ListAssignedRolesForUser(ctx, me.Id, nil); err != nil {
			return nil, fmt.Errorf("reading the admin roles of %s: %w", a.Who, err)
		}
		targets = func(id string) ([]*sdk.Group, error) {
			gs, _, err := cl.User.ListGroupTargetsForRole(ctx, me.Id, id, query.NewQueryParams(query.WithLimit(200)))
			return gs, err
		}
	} else {
		// okta-sdk-golang v2 has no method for a client's roles: the SDK's
		// request executor makes the call, with its auth and retries.
		a.Who = "the service app " + c.cfg.ClientID
		get := func(path string, v any) error {
			rq := cl.CloneRequestExecutor()
			req, err := rq.WithAccept("application/json").WithContentType("application/json").NewRequest("GET", path, nil)
			if err != nil {
				return err
			}
			_, err = rq.Do(ctx, req, v)
			return err
		}
		base := "/oauth2/v1/clients/" + url.PathEscape(c.cfg.ClientID) + "/roles"
		if err := get(base, &roles); err != nil {
			return nil, fmt.Errorf("reading the admin roles of %s (%s): %w", a.Who, base, err)
		}
		targets = func(id string) ([]*sdk.Group, error) {
			var gs []*sdk.Group
			err := get(base+"/"+url.PathEscape(id)+"/targets/groups?limit=200", &gs)
			return gs, err
		}
	}
	for _, r := range roles {
		if r == nil || r.Status == "INACTIVE" {
			continue
		}
		label := r.Type
		if r.Label != "" {
			label = r.Label + " (" + r.Type + ")"
		}
		switch {
		case seesAll[r.Type]:
			a.Full = true
		case groupScoped[r.Type]:
			gs, err := targets(r.Id)
			if err != nil {
				return nil, fmt.Errorf("reading the group targets of %s's role %s: %w", a.Who, r.Type, err)
			}
			if len(gs) == 0 {
				a.Full = true
				label += " for every group"
				break
			}
			var names []string
			for _, g := range gs {
				if g.Profile != nil && g.Profile.Name != "" {
					names = append(names, g.Profile.Name)
				} else {
					names = append(names, g.Id)
				}
			}
			if len(names) > 5 {
				names = append(names[:5], fmt.Sprintf("and %d more", len(names)-5))
			}
			label += " limited to groups " + strings.Join(names, ", ")
		}
		a.Roles = append(a.Roles, label)
	}
	return a, nil
}

// partial is the error of a credential that sees only part of the org.
func (a *Access) partial() *Error {
	msg := a.String() + ": no role sees every user, and Okta then lists only the users the role covers (200, no error), " +
		"so the users read are a part of the org, not all of it"
	if len(a.Roles) == 0 {
		msg = a.Who + " lacks an admin role: Okta answers its user list with 200 and no users"
	}
	return &Error{Class: ClassPermission, What: "checking the credential's admin role", Msg: msg,
		Fix: "assign the Read-only Administrator role (it suffices) to " + strings.TrimPrefix(strings.TrimPrefix(a.Who, "the API token's user "), "the ")}
}

// str reads a string attribute of an SDK profile.
func str(m map[string]any, k string) string {
	if v, ok := m[k].(string); ok {
		return strings.TrimSpace(v)
	}
	return ""
}
