package entra

import (
	"context"
	"errors"

	msgraph "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/idgraph/idgraph/collectors"
)

// Check obtains a token and exercises each application permission. A
// failed check's fix follows the failure's class: a refused connection or
// an untrusted certificate is not a bad secret.
func (c *Collector) Check(ctx context.Context) []collectors.Check {
	cnt := &counter{}
	cl, err := c.client(cnt)
	if err != nil {
		return []collectors.Check{{Name: "client", Detail: err.Error(), Fix: "check " + c.key("token_url") + " and " + c.key("graph_url")}}
	}
	failed := func(name string, err error, path, what, fix string) collectors.Check {
		err = c.explain(ctx, err, path, what, cnt)
		var e *Error
		if errors.As(err, &e) && e.Fix != "" && e.Class != ClassService {
			fix = e.Fix
		}
		return collectors.Check{Name: name, Detail: c.redact(err.Error()), Fix: fix}
	}
	var out []collectors.Check
	one := int32(1)
	if _, err := cl.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: []string{"id"}, Top: &one}}); err != nil {
		return append(out, failed("token and User.Read.All", err, "/users", "reading users", "check the client secret, and grant User.Read.All (application) with admin consent"))
	}
	out = append(out, collectors.Check{Name: "token and User.Read.All", OK: true, Detail: "token obtained from " + c.authority + ", users readable"})
	var assigned []models.AppRoleAssignmentable
	bad := false
	for _, a := range c.apps {
		checks, gs, failure := c.checkApp(ctx, cl, a, failed)
		out = append(out, checks...)
		switch failure {
		case "":
			assigned = append(assigned, gs...)
		case ClassConfig:
			bad = true // this application's id is wrong: the others may still be checked
		default:
			return out
		}
	}
	if bad {
		return out
	}
	if len(assigned) == 0 {
		return append(out, collectors.Check{Name: "GroupMember.Read.All", OK: true, Detail: "no group is assigned the app: nothing to read"})
	}
	// One assigned group shows whether members can be read at all.
	a := assigned[0]
	if _, err := cl.Groups().ByGroupId(a.GetPrincipalId().String()).Members().Get(ctx, &groups.ItemMembersRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.ItemMembersRequestBuilderGetQueryParameters{Top: &one}}); err != nil {
		return append(out, failed("GroupMember.Read.All", err, "/groups", "reading group members", "grant GroupMember.Read.All"))
	}
	return append(out, collectors.Check{Name: "GroupMember.Read.All", OK: true, Detail: "members of assigned group " + str(a.GetPrincipalDisplayName()) + " readable"})
}

// checkApp checks that one application's service principal and its
// assignments are readable, and shows its settings. It returns the
// assignments to groups (for the GroupMember.Read.All check) and, when a
// check failed, the class of the failure.
func (c *Collector) checkApp(ctx context.Context, cl *msgraph.GraphServiceClient, a appRef,
	failed func(name string, err error, path, what, fix string) collectors.Check) ([]collectors.Check, []models.AppRoleAssignmentable, Class) {
	name, of := "Application.Read.All and the Stonly app", ""
	if !a.single() {
		name, of = "Application.Read.All and application "+a.name, " ("+a.name+")"
	}
	sp := cl.ServicePrincipals().ByServicePrincipalId(a.spID)
	spv, err := sp.Get(ctx, &serviceprincipals.ServicePrincipalItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &serviceprincipals.ServicePrincipalItemRequestBuilderGetQueryParameters{Select: []string{"id", "displayName", "appRoles", "appRoleAssignmentRequired", "accountEnabled"}}})
	if err != nil {
		ch := failed(name, err, "/servicePrincipals", "reading the service principal", "grant Application.Read.All and check "+c.appKey(a))
		class := ClassService
		var e *Error
		if err := c.explainApp(ctx, err, a, "reading the service principal", nil); errors.As(err, &e) {
			class = e.Class
			if e.Class == ClassConfig {
				ch.Detail, ch.Fix = c.redact(e.Error()), e.Fix
			}
		}
		return []collectors.Check{ch}, nil, class
	}
	asg, err := sp.AppRoleAssignedTo().Get(ctx, nil)
	if err != nil {
		return []collectors.Check{failed(name, err, "/servicePrincipals", "reading assignments", "grant Application.Read.All")}, nil, ClassService
	}
	out := []collectors.Check{{Name: name, OK: true, Detail: "service principal " + a.spID + " and its assignments readable"}}
	// These two are settings of the tenant, not of idgraph: doctor shows
	// them and does not fail on them (a run reports them: an open_access
	// finding, a source warning).
	if req := spv.GetAppRoleAssignmentRequired(); req != nil {
		detail := "appRoleAssignmentRequired is true: only assigned users and groups can sign in"
		if !*req {
			detail = "appRoleAssignmentRequired is false: every enabled user can sign in, so Entra cannot say who should not have the app " +
				"(reported as an open_access finding; to change it: Enterprise applications > " + str(spv.GetDisplayName()) + " > Properties > Assignment required? Yes)"
		}
		out = append(out, collectors.Check{Name: "assignment required" + of, OK: true, Detail: detail})
	}
	if e := spv.GetAccountEnabled(); e != nil && !*e {
		out = append(out, collectors.Check{Name: "sign-in enabled" + of, OK: true, Detail: "accountEnabled is false on service principal " + str(spv.GetDisplayName()) +
			": nobody can sign in to the app through Entra (Properties > Enabled for users to sign-in?)"})
	}
	var gs []models.AppRoleAssignmentable
	for _, as := range asg.GetValue() {
		if str(as.GetPrincipalType()) == "Group" && as.GetPrincipalId() != nil {
			gs = append(gs, as)
		}
	}
	return out, gs, ""
}
