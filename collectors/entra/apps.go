// apps.go reads the service principals: their settings (open access),
// app roles and appRoleAssignedTo, and applies the assignments to users.

package entra

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"

	"github.com/idgraph/idgraph/collectors"
)

const defaultAccess = "00000000-0000-0000-0000-000000000000"

// readApp reads the service principal's settings and app roles, who is
// assigned, and the members of every assigned group.
func (r *read) readApp(ctx context.Context) error {
	spID := r.c.cfg.ServicePrincipalID
	sp, err := r.client.ServicePrincipals().ByServicePrincipalId(spID).Get(ctx,
		&serviceprincipals.ServicePrincipalItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &serviceprincipals.ServicePrincipalItemRequestBuilderGetQueryParameters{
				Select: []string{"id", "appId", "displayName", "appRoles", "appRoleAssignmentRequired", "accountEnabled"}}})
	if err != nil {
		return r.c.explain(ctx, err, "/servicePrincipals", "reading Stonly's service principal", r.cnt)
	}
	r.progress("service principal")
	if err := r.policy(sp); err != nil {
		return err
	}
	for _, ar := range sp.GetAppRoles() {
		if ar.GetId() == nil {
			continue
		}
		v := str(ar.GetValue())
		if v == "" {
			v = str(ar.GetDisplayName())
		}
		r.roles[ar.GetId().String()] = v
	}
	top := int32(pageSize)
	asgb := r.client.ServicePrincipals().ByServicePrincipalId(spID).AppRoleAssignedTo()
	asg, err := asgb.Get(ctx, &serviceprincipals.ItemAppRoleAssignedToRequestBuilderGetRequestConfiguration{
		QueryParameters: &serviceprincipals.ItemAppRoleAssignedToRequestBuilderGetQueryParameters{Top: &top}})
	if err != nil {
		return r.c.explain(ctx, err, "/servicePrincipals", "reading the app's assignments", r.cnt)
	}
	_, err = walk(ctx, "/servicePrincipals/"+spID+"/appRoleAssignedTo", asg, func(ctx context.Context, link string) (models.AppRoleAssignmentCollectionResponseable, error) {
		return asgb.WithUrl(link).Get(ctx, nil)
	}, func(a models.AppRoleAssignmentable) string { return str(a.GetId()) }, func(a models.AppRoleAssignmentable) {
		r.assignments++
		if a.GetPrincipalId() == nil {
			return
		}
		role := ""
		if a.GetAppRoleId() != nil && a.GetAppRoleId().String() != defaultAccess {
			role = r.roles[a.GetAppRoleId().String()]
		}
		pid := a.GetPrincipalId().String()
		switch str(a.GetPrincipalType()) {
		case "User":
			r.direct[pid] = append(r.direct[pid], role)
		case "Group":
			if g, ok := r.groups[pid]; ok && role != "" {
				g.role = role
			} else if !ok {
				r.groups[pid] = &group{id: pid, name: str(a.GetPrincipalDisplayName()), role: role}
			}
		}
	}, func() { r.progress("assignments") })
	if err != nil {
		return r.c.explain(ctx, err, "/servicePrincipals", "reading the app's assignments", r.cnt)
	}
	r.addPart(collectors.Part{Kind: "list", ID: "app_role_assignments", Name: "assignments of service principal " + str(sp.GetDisplayName()), Records: r.assignments,
		Fix: "grant Application.Read.All (application permission) with admin consent to application " + r.c.cfg.ClientID})
	var wg sync.WaitGroup
	errs := make([]error, 0)
	var emu sync.Mutex
	sem := make(chan struct{}, 4)
	for _, g := range r.groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				emu.Lock()
				errs = append(errs, r.c.explain(ctx, ctx.Err(), "/groups", "reading members of group "+g.name, r.cnt))
				emu.Unlock()
				return
			}
			defer func() { <-sem }()
			if err := r.readGroup(ctx, g); err != nil {
				emu.Lock()
				errs = append(errs, err)
				emu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	members := 0
	for _, g := range r.groups {
		members += len(g.direct)
	}
	r.addPart(collectors.Part{Kind: "list", ID: "group_members", Name: fmt.Sprintf("direct members of the %d assigned groups", len(r.groups)), Records: members,
		Fix: "grant GroupMember.Read.All (application permission) with admin consent to application " + r.c.cfg.ClientID})
	return nil
}

// policy records how the service principal lets users in. With
// appRoleAssignmentRequired false (Entra's default: "The default value is
// false. Not nullable", servicePrincipal resource type) every enabled user
// of the tenant can sign in, so Entra says who should have the app, never
// who should not (docs/RULES.md, Open access). accountEnabled false means "no
// users are able to sign in to this app, even if they're assigned to it"
// (same reference): worth a warning, since the assignments then grant
// nothing in fact.
func (r *read) policy(sp models.ServicePrincipalable) error {
	name, id := str(sp.GetDisplayName()), r.c.cfg.ServicePrincipalID
	required := sp.GetAppRoleAssignmentRequired()
	if required == nil {
		return &Error{Class: ClassService, What: "reading Stonly's service principal",
			Msg: fmt.Sprintf("Graph did not say whether service principal %s (%s) requires assignment (appRoleAssignmentRequired missing): whether Entra can say who should not have the app is unknown", name, id),
			Fix: "run again; if it persists, check that Application.Read.All is granted"}
	}
	p := collectors.AppPolicy{AppID: id, OpenAccess: !*required,
		Detail: fmt.Sprintf("appRoleAssignmentRequired is true on service principal %s (%s): only assigned users and groups can sign in", name, id)}
	if p.OpenAccess {
		p.Detail = fmt.Sprintf("appRoleAssignmentRequired is false on service principal %s (%s): every enabled user can sign in", name, id)
	}
	r.mu.Lock()
	r.policies = []collectors.AppPolicy{p}
	r.mu.Unlock()
	if e := sp.GetAccountEnabled(); e != nil && !*e {
		r.warn(fmt.Sprintf("service principal %s (%s) has accountEnabled false: sign-in to the app is disabled in Entra for everyone, assigned or not; its assignments are read as they stand", name, id))
	}
	return nil
}

// assign applies the assignments to the users: a direct user assignment or
// direct membership of an assigned group grants; membership reached only
// through a nested group is recorded to explain, and grants nothing.
func (r *read) assign() {
	for uid, roles := range r.direct {
		a := r.users[uid]
		if a == nil {
			r.comp.Warnings = append(r.comp.Warnings, "an assignment names user "+uid+", who is not in the user list")
			continue
		}
		as := a.Assign("")
		as.InForce = true
		for _, role := range roles {
			via := "direct assignment"
			if role != "" {
				via += " (app role " + role + ")"
				as.Roles = append(as.Roles, role)
			} else {
				via += " (default access)"
			}
			as.Via = append(as.Via, via)
		}
	}
	gs := make([]*group, 0, len(r.groups))
	for _, g := range r.groups {
		gs = append(gs, g)
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].name < gs[j].name })
	for _, g := range gs {
		direct := map[string]bool{}
		for _, uid := range g.direct {
			direct[uid] = true
			a := r.users[uid]
			if a == nil {
				continue
			}
			as := a.Assign("")
			as.InForce = true
			a.Groups = append(a.Groups, g.name)
			via := "group " + g.name
			if g.role != "" {
				via += " (app role " + g.role + ")"
				as.Roles = append(as.Roles, g.role)
			} else {
				via += " (default access)"
			}
			as.Via = append(as.Via, via)
		}
		for _, uid := range g.transitive {
			if direct[uid] {
				continue
			}
			if a := r.users[uid]; a != nil {
				note := g.name + " (nested: through " + strings.Join(g.nestedGroups, ", ") + "; Entra does not extend app assignments to nested groups)"
				if !slices.Contains(a.NestedGroups, note) {
					a.NestedGroups = append(a.NestedGroups, note)
				}
			}
		}
	}
}
