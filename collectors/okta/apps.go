// apps.go reads the application's user and group assignments and turns
// them into each account's Assignment.

package okta

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
)

func (r *read) listAppUsers(ctx context.Context, cl *sdk.Client) error {
	return pages(ctx, r, "/api/v1/apps", "the app's users", func() ([]*sdk.AppUser, *sdk.Response, error) {
		return cl.Application.ListApplicationUsers(ctx, r.c.cfg.AppID, query.NewQueryParams(query.WithLimit(appUsersPage)))
	}, func(aus []*sdk.AppUser) {
		r.mu.Lock()
		r.appUsers = append(r.appUsers, aus...)
		r.mu.Unlock()
	})
}

func (r *read) listAppGroups(ctx context.Context, cl *sdk.Client) error {
	return pages(ctx, r, "/api/v1/apps", "the app's group assignments", func() ([]*sdk.ApplicationGroupAssignment, *sdk.Response, error) {
		return cl.Application.ListApplicationGroupAssignments(ctx, r.c.cfg.AppID, query.NewQueryParams(query.WithLimit(appGroupsPage)))
	}, func(gs []*sdk.ApplicationGroupAssignment) {
		r.mu.Lock()
		r.groups = append(r.groups, gs...)
		r.mu.Unlock()
	})
}

// notInForce are the app-user statuses of an assignment that is not in
// force (AppUserStatus in Okta's management API spec: INACTIVE and
// SUSPENDED "isn't enabled to use the app", PENDING "can't use the app",
// REVOKED "is disabled and waiting for deprovisioning acknowledgment",
// DEPROVISIONED, UNASSIGNED "the user-matching operation was skipped").
// They grant nothing (docs/RULES.md).
var notInForce = map[string]bool{"INACTIVE": true, "SUSPENDED": true, "DEPROVISIONED": true, "REVOKED": true, "UNASSIGNED": true, "PENDING": true}

// assign marks assigned users, with the roles Okta resolved and why.
func (r *read) assign() {
	type via struct {
		name  string
		prio  int64
		roles []string
	}
	byUser := map[string][]via{}
	for _, g := range r.groups {
		roles := profileRoles(g.Profile, r.c.cfg.RoleAttribute)
		for _, uid := range r.members[g.Id] {
			byUser[uid] = append(byUser[uid], via{r.names[g.Id], g.Priority, roles})
			if a := r.users[uid]; a != nil && !slices.Contains(a.Groups, r.names[g.Id]) {
				a.Groups = append(a.Groups, r.names[g.Id])
			}
		}
	}
	missing := 0
	idle := map[string]int{}
	for _, au := range r.appUsers {
		a := r.users[au.Id]
		if a == nil {
			missing++
			continue
		}
		if notInForce[au.Status] {
			idle[au.Status]++
			as := a.Assign("")
			as.Via = append(as.Via, fmt.Sprintf("app user %s (scope %s): grants nothing", au.Status, au.Scope))
			continue
		}
		as := a.Assign("")
		as.InForce = true
		as.Roles = append(as.Roles, profileRoles(au.Profile, r.c.cfg.RoleAttribute)...)
		if au.Scope == "USER" {
			as.Via = append(as.Via, "direct assignment")
		}
		vs := byUser[au.Id]
		sort.Slice(vs, func(i, j int) bool { return vs[i].prio < vs[j].prio })
		for _, v := range vs {
			s := fmt.Sprintf("group %s (priority %d", v.name, v.prio)
			if len(v.roles) > 0 {
				s += ", role " + strings.Join(v.roles, ", ")
			}
			as.Via = append(as.Via, s+")")
		}
		if len(as.Via) == 0 {
			as.Via = []string{"assigned (scope " + au.Scope + ")"}
		}
	}
	if missing > 0 {
		r.comp.Warnings = append(r.comp.Warnings, fmt.Sprintf("%d app users were not in the user list (changed during the read?)", missing))
	}
	if len(idle) > 0 {
		var parts []string
		for _, st := range slices.Sorted(maps.Keys(idle)) {
			parts = append(parts, fmt.Sprintf("%s %d", st, idle[st]))
		}
		r.comp.Warnings = append(r.comp.Warnings, "app users whose assignment is not in force, counted as not assigned: "+strings.Join(parts, ", "))
	}
}

// profileRoles reads the role attribute of an app-user or app-group
// profile. Profile attributes follow the app's schema, which may declare
// the attribute an array of strings: then each value is a role.
func profileRoles(p any, attr string) []string {
	m, ok := p.(map[string]any)
	if !ok {
		return nil
	}
	switch v := m[attr].(type) {
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
