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

// appRef is one configured application: its name as configured under
// entra.apps, or "" for the single-app key service_principal_id, and the
// object id of its service principal (enterprise application).
type appRef struct{ name, spID string }

// single tells the application of the single-app key apart: its texts and
// part ids stay what they were before several applications were possible.
func (a appRef) single() bool { return a.name == "" }

// appKey is the configuration key that names a's service principal.
func (c *Collector) appKey(a appRef) string {
	if a.single() {
		return c.key("service_principal_id")
	}
	return c.key("apps." + a.name)
}

// partID names a part of this application's read: the list's own name for
// the single-app key, "list:app" otherwise.
func (a appRef) partID(list string) string {
	if a.single() {
		return list
	}
	return list + ":" + a.name
}

// app is what one collection read of one application.
type app struct {
	appRef
	displayName string
	roles       map[string]string   // app role id -> value (or display name)
	direct      map[string][]string // user id -> roles of its direct assignments ("" default access)
	grants      map[string]*grant   // assigned group id -> the grant
	assignments int
	policy      collectors.AppPolicy
}

// grant is an assignment of the application to a group.
type grant struct{ name, role string }

func newApp(ref appRef) *app {
	return &app{appRef: ref, roles: map[string]string{}, direct: map[string][]string{}, grants: map[string]*grant{}}
}

// readApps reads every configured application, then the members of every
// group one of them assigns (each group once, however many applications
// it grants).
func (r *read) readApps(ctx context.Context) error {
	if err := r.fanOut(ctx, len(r.apps), func(i int) error { return r.readApp(ctx, r.apps[i]) }, func(i int) error {
		return r.c.explainApp(ctx, ctx.Err(), r.apps[i].appRef, r.apps[i].what("reading the service principal of"), r.cnt)
	}); err != nil {
		return err
	}
	for _, a := range r.apps {
		for id, g := range a.grants {
			if _, ok := r.groups[id]; !ok {
				r.groups[id] = &group{id: id, name: g.name}
			}
		}
	}
	gs := make([]*group, 0, len(r.groups))
	for _, g := range r.groups {
		gs = append(gs, g)
	}
	if err := r.fanOut(ctx, len(gs), func(i int) error { return r.readGroup(ctx, gs[i]) }, func(i int) error {
		return r.c.explain(ctx, ctx.Err(), "/groups", "reading members of group "+gs[i].name, r.cnt)
	}); err != nil {
		return err
	}
	for _, a := range r.apps {
		members := 0
		for id := range a.grants {
			members += len(r.groups[id].direct)
		}
		r.addPart(collectors.Part{Kind: "list", ID: a.partID("group_members"), Name: fmt.Sprintf("direct members of the %d assigned groups%s", len(a.grants), a.of()), Records: members,
			Fix: "grant GroupMember.Read.All (application permission) with admin consent to application " + r.c.cfg.ClientID})
	}
	return nil
}

// fanOut runs do(0..n-1), four at a time, and joins their errors; a job
// that cannot start because ctx is done fails with stopped(i).
func (r *read) fanOut(ctx context.Context, n int, do, stopped func(i int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	sem := make(chan struct{}, 4)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = stopped(i)
				return
			}
			defer func() { <-sem }()
			errs[i] = do(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// what says what a step reads, for an error: "reading Stonly's service
// principal" with the single-app key, as before several applications were
// possible; "reading the service principal of application notion" with
// entra.apps.
func (a *app) what(step string) string {
	if a.single() {
		switch step {
		case "reading the service principal of":
			return "reading Stonly's service principal"
		case "reading the assignments of":
			return "reading the app's assignments"
		}
	}
	return step + " application " + a.name
}

// of is " (application notion)" for an application of entra.apps.
func (a *app) of() string {
	if a.single() {
		return ""
	}
	return " (application " + a.name + ")"
}

// readApp reads one service principal's settings and app roles, and who
// is assigned the application.
func (r *read) readApp(ctx context.Context, a *app) error {
	spb := r.client.ServicePrincipals().ByServicePrincipalId(a.spID)
	sp, err := spb.Get(ctx,
		&serviceprincipals.ServicePrincipalItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &serviceprincipals.ServicePrincipalItemRequestBuilderGetQueryParameters{
				Select: []string{"id", "appId", "displayName", "appRoles", "appRoleAssignmentRequired", "accountEnabled"}}})
	if err != nil {
		return r.c.explainApp(ctx, err, a.appRef, a.what("reading the service principal of"), r.cnt)
	}
	r.progress("service principal" + a.of())
	a.displayName = str(sp.GetDisplayName())
	if err := r.policy(a, sp); err != nil {
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
		a.roles[ar.GetId().String()] = v
	}
	top := int32(pageSize)
	asgb := spb.AppRoleAssignedTo()
	asg, err := asgb.Get(ctx, &serviceprincipals.ItemAppRoleAssignedToRequestBuilderGetRequestConfiguration{
		QueryParameters: &serviceprincipals.ItemAppRoleAssignedToRequestBuilderGetQueryParameters{Top: &top}})
	if err != nil {
		return r.c.explainApp(ctx, err, a.appRef, a.what("reading the assignments of"), r.cnt)
	}
	_, err = walk(ctx, "/servicePrincipals/"+a.spID+"/appRoleAssignedTo", asg, func(ctx context.Context, link string) (models.AppRoleAssignmentCollectionResponseable, error) {
		return asgb.WithUrl(link).Get(ctx, nil)
	}, func(as models.AppRoleAssignmentable) string { return str(as.GetId()) }, func(as models.AppRoleAssignmentable) {
		a.assignments++
		if as.GetPrincipalId() == nil {
			return
		}
		role := ""
		if as.GetAppRoleId() != nil && as.GetAppRoleId().String() != defaultAccess {
			role = a.roles[as.GetAppRoleId().String()]
		}
		pid := as.GetPrincipalId().String()
		switch str(as.GetPrincipalType()) {
		case "User":
			a.direct[pid] = append(a.direct[pid], role)
		case "Group":
			if g, ok := a.grants[pid]; ok && role != "" {
				g.role = role
			} else if !ok {
				a.grants[pid] = &grant{name: str(as.GetPrincipalDisplayName()), role: role}
			}
		}
	}, func() { r.progress("assignments" + a.of()) })
	if err != nil {
		return r.c.explainApp(ctx, err, a.appRef, a.what("reading the assignments of"), r.cnt)
	}
	r.addPart(collectors.Part{Kind: "list", ID: a.partID("app_role_assignments"), Name: "assignments of service principal " + a.displayName + a.of(), Records: a.assignments,
		Fix: "grant Application.Read.All (application permission) with admin consent to application " + r.c.cfg.ClientID})
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
func (r *read) policy(a *app, sp models.ServicePrincipalable) error {
	name, id := str(sp.GetDisplayName()), a.spID
	required := sp.GetAppRoleAssignmentRequired()
	if required == nil {
		return &Error{Class: ClassService, What: a.what("reading the service principal of"),
			Msg: fmt.Sprintf("Graph did not say whether service principal %s (%s) requires assignment (appRoleAssignmentRequired missing): whether Entra can say who should not have the app is unknown", name, id),
			Fix: "run again; if it persists, check that Application.Read.All is granted"}
	}
	p := collectors.AppPolicy{App: a.name, AppID: id, OpenAccess: !*required,
		Detail: fmt.Sprintf("appRoleAssignmentRequired is true on service principal %s (%s): only assigned users and groups can sign in", name, id)}
	if p.OpenAccess {
		p.Detail = fmt.Sprintf("appRoleAssignmentRequired is false on service principal %s (%s): every enabled user can sign in", name, id)
	}
	a.policy = p
	if e := sp.GetAccountEnabled(); e != nil && !*e {
		r.warn(fmt.Sprintf("service principal %s (%s)%s has accountEnabled false: sign-in to the app is disabled in Entra for everyone, assigned or not; its assignments are read as they stand", name, id, a.of()))
	}
	return nil
}

// assign applies each application's assignments to the users: a direct
// user assignment or direct membership of an assigned group grants;
// membership reached only through a nested group is recorded to explain,
// and grants nothing.
func (r *read) assign() {
	for _, ap := range r.apps {
		r.assignApp(ap)
	}
}

func (r *read) assignApp(ap *app) {
	uids := make([]string, 0, len(ap.direct))
	for uid := range ap.direct {
		uids = append(uids, uid)
	}
	sort.Strings(uids)
	for _, uid := range uids {
		a := r.users.get(uid)
		if a == nil {
			r.comp.Warnings = append(r.comp.Warnings, "an assignment"+ap.of()+" names user "+uid+", who is not in the user list")
			continue
		}
		as := a.Assign(ap.name)
		as.InForce = true
		for _, role := range ap.direct[uid] {
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
	gids := make([]string, 0, len(ap.grants))
	for id := range ap.grants {
		gids = append(gids, id)
	}
	sort.Slice(gids, func(i, j int) bool { return r.groups[gids[i]].name < r.groups[gids[j]].name })
	for _, gid := range gids {
		g, gr := r.groups[gid], ap.grants[gid]
		direct := map[string]bool{}
		for _, uid := range g.direct {
			direct[uid] = true
			a := r.users.get(uid)
			if a == nil {
				continue
			}
			as := a.Assign(ap.name)
			as.InForce = true
			if !slices.Contains(a.Groups, g.name) {
				a.Groups = append(a.Groups, g.name)
			}
			via := "group " + g.name
			if gr.role != "" {
				via += " (app role " + gr.role + ")"
				as.Roles = append(as.Roles, gr.role)
			} else {
				via += " (default access)"
			}
			as.Via = append(as.Via, via)
		}
		for _, uid := range g.transitive {
			if direct[uid] {
				continue
			}
			if a := r.users.get(uid); a != nil {
				note := g.name + " (nested: through " + strings.Join(g.nestedGroups, ", ") + "; Entra does not extend app assignments to nested groups)"
				if !slices.Contains(a.NestedGroups, note) {
					a.NestedGroups = append(a.NestedGroups, note)
				}
			}
		}
	}
}
