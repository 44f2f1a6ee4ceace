package oktatest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// AdminRole is one standard admin role assigned to the token owner or to
// the service app, with its group targets.
type AdminRole struct {
	// Type is the role type of Okta's management API spec (RoleType):
	// SUPER_ADMIN, ORG_ADMIN, READ_ONLY_ADMIN, USER_ADMIN (labelled "Group
	// Administrator"), HELP_DESK_ADMIN, GROUP_MEMBERSHIP_ADMIN, APP_ADMIN,
	// REPORT_ADMIN, MOBILE_ADMIN, API_ACCESS_MANAGEMENT_ADMIN, or CUSTOM.
	Type string `json:"type"`
	// Targets are group ids the role is limited to. Okta allows group
	// targets on USER_ADMIN, HELP_DESK_ADMIN and GROUP_MEMBERSHIP_ADMIN;
	// an empty list ("[]" from the targets endpoint) means every group.
	Targets []string `json:"targets,omitempty"`
}

// DefaultTokenOwner is the id of the admin an API token acts as when the
// scenario names none.
const DefaultTokenOwner = "00utokenowner0000000"

// roleLabels are the labels Okta gives the standard roles.
var roleLabels = map[string]string{
	"SUPER_ADMIN": "Super Administrator", "ORG_ADMIN": "Organizational Administrator", "READ_ONLY_ADMIN": "Read Only Administrator",
	"USER_ADMIN": "Group Administrator", "HELP_DESK_ADMIN": "Help Desk Administrator", "GROUP_MEMBERSHIP_ADMIN": "Group Membership Administrator",
	"APP_ADMIN": "Application Administrator", "REPORT_ADMIN": "Report Administrator", "MOBILE_ADMIN": "Mobile Administrator",
	"API_ACCESS_MANAGEMENT_ADMIN": "API Access Management Administrator", "CUSTOM": "Custom role",
}

func rolesOrDefault(r []AdminRole) []AdminRole {
	if r == nil {
		return []AdminRole{{Type: "READ_ONLY_ADMIN"}}
	}
	return r
}

// scopable are the roles Okta lets an admin limit to group targets.
func scopable(t string) bool {
	return t == "USER_ADMIN" || t == "HELP_DESK_ADMIN" || t == "GROUP_MEMBERSHIP_ADMIN"
}

// view is the part of the directory a caller's roles let it see; nil is
// all of it. Okta answers a group-scoped admin with 200 and only the users
// of its target groups: no error says that the list is partial.
type view struct {
	users map[int]bool
}

func (c caller) view(ix *index) *view {
	var targets []string
	for _, r := range c.roles {
		switch {
		case r.Type == "SUPER_ADMIN" || r.Type == "ORG_ADMIN" || r.Type == "READ_ONLY_ADMIN":
			return nil
		case scopable(r.Type) && len(r.Targets) == 0:
			return nil
		case scopable(r.Type):
			targets = append(targets, r.Targets...)
		}
	}
	v := &view{users: map[int]bool{}}
	for _, g := range targets {
		for _, k := range ix.groupUsers[g] {
			v.users[k] = true
		}
	}
	return v
}

// none says the caller has no role that reads users at all.
func (v *view) none() bool { return v != nil && len(v.users) == 0 }

// filter keeps the items (keyed by user id) the view shows.
func (v *view) filter(ix *index, items []page) []page {
	if v == nil {
		return items
	}
	var out []page
	for _, it := range items {
		if k, ok := ix.byID[it.id]; ok && v.users[k] {
			out = append(out, it)
		}
	}
	return out
}

// adminRoute serves the token owner (/api/v1/users/me and the owner's
// id), single users, and the role assignments and group targets of the
// owner (/api/v1/users/{id}/roles...) and of the service app
// (/oauth2/v1/clients/{clientId}/roles...), as Okta's management API spec
// defines them (getUser, listAssignedRolesForUser,
// listGroupTargetsForRole, listRolesForClient,
// listGroupTargetRoleForClient). It reports whether it served r.
func (s *Server) adminRoute(w http.ResponseWriter, r *http.Request, ix *index, c caller, f Faults) bool {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	owner := s.sc.TokenOwner
	if owner == "" {
		owner = DefaultTokenOwner
	}
	switch {
	case len(parts) >= 5 && parts[0] == "oauth2" && parts[1] == "v1" && parts[2] == "clients" && parts[4] == "roles":
		if s.sc.OAuth == nil || parts[3] != s.sc.OAuth.ClientID {
			okErr(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+parts[3]+" (OAuth2Client)")
			return true
		}
		s.roles(w, ix, parts[5:], rolesOrDefault(s.sc.OAuth.Roles), "CLIENT")
		return true
	case len(parts) < 4 || parts[0] != "api" || parts[1] != "v1" || parts[2] != "users":
		return false
	}
	id := parts[3]
	if id == "me" {
		if c.noUser {
			// A service app's token belongs to no user.
			okErr(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: me (User)")
			return true
		}
		id = owner
	}
	switch {
	case len(parts) == 4:
		if id == owner {
			s.write(w, userJSON(User{ID: owner, Status: "ACTIVE", Login: "idgraph-reader@simulator.invalid", Email: "idgraph-reader@simulator.invalid",
				FirstName: "idgraph", LastName: "reader"}))
			return true
		}
		k, ok := ix.byID[id]
		if v := c.view(ix); !ok || (v != nil && !v.users[k]) {
			okErr(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+id+" (User)")
			return true
		}
		s.write(w, ix.userJSON[k])
		return true
	case len(parts) >= 5 && parts[4] == "roles":
		if id != owner {
			s.write(w, []byte("[]"))
			return true
		}
		roles := rolesOrDefault(s.sc.AdminRoles)
		if f.NoAdmin {
			roles = nil
		}
		s.roles(w, ix, parts[5:], roles, "USER")
		return true
	}
	return false
}

// roles answers a role list (rest empty) or one role's group targets
// (rest: {roleAssignmentId}/targets/groups).
func (s *Server) roles(w http.ResponseWriter, ix *index, rest []string, roles []AdminRole, assignment string) {
	if len(rest) == 0 {
		out := []map[string]any{}
		for i, r := range roles {
			out = append(out, map[string]any{"id": roleID(i), "label": roleLabels[r.Type], "type": r.Type, "status": "ACTIVE",
				"created": "2024-01-01T00:00:00.000Z", "lastUpdated": "2024-01-01T00:00:00.000Z", "assignmentType": assignment,
				"_links": map[string]any{}})
		}
		b, _ := json.Marshal(out)
		s.write(w, b)
		return
	}
	i := -1
	for k := range roles {
		if roleID(k) == rest[0] {
			i = k
		}
	}
	if i < 0 || len(rest) != 3 || rest[1] != "targets" || rest[2] != "groups" {
		okErr(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+strings.Join(rest, "/"))
		return
	}
	out := []json.RawMessage{}
	for _, g := range roles[i].Targets {
		if b, ok := ix.groupJSON[g]; ok {
			out = append(out, b)
		}
	}
	b, _ := json.Marshal(out)
	s.write(w, b)
}

func roleID(i int) string { return "ra1simulated" + string(rune('a'+i)) + "0000000" }
