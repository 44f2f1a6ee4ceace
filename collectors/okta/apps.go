// apps.go reads each configured application's user and group assignments
// (lean, like the users) and turns them into each account's Assignment.

package okta

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
)

// appRead is what one collection read of one application.
type appRead struct {
	appRef
	users  []appUser
	groups []appGroup
}

// appUser is an app user of Okta's management API spec (AppUser): the
// user's id, the scope (USER: assigned directly; GROUP: through a group),
// the status of the assignment, and the roles in its profile.
type appUser struct {
	id, scope, status string
	roles             []string
}

// appGroup is an application group assignment (ApplicationGroupAssignment):
// the group, its priority (lower wins when a user reaches the app through
// several groups) and the roles of its profile.
type appGroup struct {
	id       string
	priority int64
	roles    []string
}

// oktaAppUser and oktaAppGroup are the JSON of those objects, as read.
type oktaAppUser struct {
	ID      string          `json:"id"`
	Scope   string          `json:"scope"`
	Status  string          `json:"status"`
	Profile json.RawMessage `json:"profile"`
}

type oktaAppGroup struct {
	ID       string          `json:"id"`
	Priority int64           `json:"priority"`
	Profile  json.RawMessage `json:"profile"`
}

// stages name an app's lists in progress and errors: "the app's users"
// for okta.app_id, as always; "the users of app notion (0oa...)" with
// okta.apps.
func (a *appRead) stage(what string) string {
	if a.name == "" {
		return "the app's " + what
	}
	return "the " + what + " of app " + a.name + " (" + a.id + ")"
}

func (r *read) listAppUsers(ctx context.Context, cl *sdk.Client, a *appRead) error {
	path := "/api/v1/apps/" + url.PathEscape(a.id) + "/users?limit=" + itoa(appUsersPage)
	return list(ctx, r, cl, path, listing{endpoint: "/api/v1/apps", stage: a.stage("users"), app: &a.appRef}, func(aus []oktaAppUser) {
		page := make([]appUser, 0, len(aus))
		for _, au := range aus {
			page = append(page, appUser{id: au.ID, scope: word(au.Scope), status: word(au.Status), roles: profileRoles(au.Profile, r.c.cfg.RoleAttribute)})
		}
		r.mu.Lock()
		a.users = append(a.users, page...)
		r.mu.Unlock()
	})
}

func (r *read) listAppGroups(ctx context.Context, cl *sdk.Client, a *appRead) error {
	path := "/api/v1/apps/" + url.PathEscape(a.id) + "/groups?limit=" + itoa(appGroupsPage)
	return list(ctx, r, cl, path, listing{endpoint: "/api/v1/apps", stage: a.stage("group assignments"), app: &a.appRef}, func(gs []oktaAppGroup) {
		r.mu.Lock()
		for _, g := range gs {
			a.groups = append(a.groups, appGroup{id: g.ID, priority: g.Priority, roles: profileRoles(g.Profile, r.c.cfg.RoleAttribute)})
		}
		r.mu.Unlock()
	})
}

// word returns the few words Okta repeats on every app user (scope and
// status) as constants, so that they are not one string each.
func word(s string) string {
	for _, k := range []string{"USER", "GROUP", "ACTIVE", "INACTIVE", "SUSPENDED", "DEPROVISIONED", "REVOKED", "UNASSIGNED", "PENDING", "PROVISIONED", "STAGED"} {
		if s == k {
			return k
		}
	}
	return s
}

// notInForce are the app-user statuses of an assignment that is not in
// force (AppUserStatus in Okta's management API spec: INACTIVE and
// SUSPENDED "isn't enabled to use the app", PENDING "can't use the app",
// REVOKED "is disabled and waiting for deprovisioning acknowledgment",
// DEPROVISIONED, UNASSIGNED "the user-matching operation was skipped").
// They grant nothing (docs/RULES.md).
var notInForce = map[string]bool{"INACTIVE": true, "SUSPENDED": true, "DEPROVISIONED": true, "REVOKED": true, "UNASSIGNED": true, "PENDING": true}

// assign records each app's assignments on the accounts, with the roles
// Okta resolved and why, and the assigned groups among each account's
// groups.
func (r *read) assign() {
	type via struct {
		name  string
		prio  int64
		roles []string
	}
	for _, app := range r.apps {
		byUser := map[string][]via{}
		for _, g := range app.groups {
			name := r.names[g.id]
			for _, uid := range r.members[g.id] {
				byUser[uid] = append(byUser[uid], via{name, g.priority, g.roles})
				if u := r.accs.find(uid); u != nil && !slices.Contains(u.groups, name) {
					u.groups = append(u.groups, name)
				}
			}
		}
		missing := 0
		idle := map[string]int{}
		for _, au := range app.users {
			u := r.accs.find(au.id)
			if u == nil {
				missing++
				continue
			}
			if notInForce[au.status] {
				idle[au.status]++
				as := u.assign(app.name)
				as.Via = append(as.Via, fmt.Sprintf("app user %s (scope %s): grants nothing", au.status, au.scope))
				continue
			}
			as := u.assign(app.name)
			as.InForce = true
			as.Roles = append(as.Roles, au.roles...)
			if au.scope == "USER" {
				as.Via = append(as.Via, "direct assignment")
			}
			vs := byUser[au.id]
			sort.SliceStable(vs, func(i, j int) bool { return vs[i].prio < vs[j].prio })
			for _, v := range vs {
				s := fmt.Sprintf("group %s (priority %d", v.name, v.prio)
				if len(v.roles) > 0 {
					s += ", role " + strings.Join(v.roles, ", ")
				}
				as.Via = append(as.Via, s+")")
			}
			if len(as.Via) == 0 {
				as.Via = []string{"assigned (scope " + au.scope + ")"}
			}
		}
		prefix := ""
		if app.name != "" {
			prefix = "app " + app.name + ": "
		}
		if missing > 0 {
			r.comp.Warnings = append(r.comp.Warnings, fmt.Sprintf("%s%d app users were not in the user list (changed during the read?)", prefix, missing))
		}
		if len(idle) > 0 {
			var parts []string
			for _, st := range slices.Sorted(maps.Keys(idle)) {
				parts = append(parts, fmt.Sprintf("%s %d", st, idle[st]))
			}
			r.comp.Warnings = append(r.comp.Warnings, prefix+"app users whose assignment is not in force, counted as not assigned: "+strings.Join(parts, ", "))
		}
	}
}

// profileRoles reads the role attribute of an app-user or app-group
// profile. Profile attributes follow the app's schema, which may declare
// the attribute an array of strings: then each value is a role.
func profileRoles(profile json.RawMessage, attr string) []string {
	if len(profile) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(profile, &m) != nil {
		return nil
	}
	raw, ok := m[attr]
	if !ok {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	switch v := v.(type) {
	case string:
		if v = strings.TrimSpace(v); v != "" {
			return []string{v}
		}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok && strings.TrimSpace(s) != "" && !slices.Contains(out, strings.TrimSpace(s)) {
				out = append(out, strings.TrimSpace(s))
			}
		}
		return out
	}
	return nil
}
