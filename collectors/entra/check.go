package entra

import (
	"context"

	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/idgraph/idgraph/collectors"
)

// Check obtains a token and exercises each application permission.
func (c *Collector) Check(ctx context.Context) []collectors.Check {
	cl, err := c.client(&counter{})
	if err != nil {
		return []collectors.Check{{Name: "client", Detail: err.Error(), Fix: "check entra.token_url and entra.graph_url"}}
	}
	var out []collectors.Check
	one := int32(1)
	if _, err := cl.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: []string{"id"}, Top: &one}}); err != nil {
		out = append(out, collectors.Check{Name: "token and User.Read.All", Detail: c.redact(c.explain(err, "/users", "reading users").Error()),
			Fix: "check the client secret, and grant User.Read.All (application) with admin consent"})
		return out
	}
	out = append(out, collectors.Check{Name: "token and User.Read.All", OK: true, Detail: "token obtained from " + c.authority + ", users readable"})
	sp := cl.ServicePrincipals().ByServicePrincipalId(c.cfg.ServicePrincipalID)
	if _, err := sp.Get(ctx, &serviceprincipals.ServicePrincipalItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &serviceprincipals.ServicePrincipalItemRequestBuilderGetQueryParameters{Select: []string{"id", "appRoles"}}}); err != nil {
		out = append(out, collectors.Check{Name: "Application.Read.All and the Stonly app", Detail: c.explain(err, "/servicePrincipals", "reading the service principal").Error(),
			Fix: "grant Application.Read.All and check entra.service_principal_id"})
		return out
	}
	asg, err := sp.AppRoleAssignedTo().Get(ctx, nil)
	if err != nil {
		out = append(out, collectors.Check{Name: "Application.Read.All and the Stonly app", Detail: c.explain(err, "/servicePrincipals", "reading assignments").Error(), Fix: "grant Application.Read.All"})
		return out
	}
	out = append(out, collectors.Check{Name: "Application.Read.All and the Stonly app", OK: true, Detail: "service principal " + c.cfg.ServicePrincipalID + " and its assignments readable"})
	for _, a := range asg.GetValue() {
		if str(a.GetPrincipalType()) != "Group" || a.GetPrincipalId() == nil {
			continue
		}
		if _, err := cl.Groups().ByGroupId(a.GetPrincipalId().String()).Members().Get(ctx, &groups.ItemMembersRequestBuilderGetRequestConfiguration{
			QueryParameters: &groups.ItemMembersRequestBuilderGetQueryParameters{Top: &one}}); err != nil {
			out = append(out, collectors.Check{Name: "GroupMember.Read.All", Detail: c.explain(err, "/groups", "reading group members").Error(), Fix: "grant GroupMember.Read.All"})
			return out
		}
		return append(out, collectors.Check{Name: "GroupMember.Read.All", OK: true, Detail: "members of assigned group " + str(a.GetPrincipalDisplayName()) + " readable"})
	}
	return append(out, collectors.Check{Name: "GroupMember.Read.All", OK: true, Detail: "no group is assigned the app: nothing to read"})
}
