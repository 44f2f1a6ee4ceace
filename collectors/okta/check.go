package okta

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"github.com/idgraph/idgraph/collectors"
)

// Check reads one record of each endpoint the collector needs and the
// credential's admin roles. Each failure says what kind it is (network,
// credential, permission) and the fix of that kind.
func (c *Collector) Check(ctx context.Context) []collectors.Check {
	tr := newTransport(c.base, 1, min(c.cfg.RequestTimeout, 30*time.Second), c.cfg.MaxConcurrency)
	cl, err := c.client(ctx, tr)
	if err != nil {
		return []collectors.Check{{Name: "client", Detail: err.Error(), Fix: "check okta.org_url and the credentials"}}
	}
	var out []collectors.Check
	fail := func(name string, err error, def string) []collectors.Check {
		return append(out, collectors.Check{Name: name, Detail: detailOf(err), Fix: fixOf(err, def)})
	}
	users, _, err := cl.User.ListUsers(ctx, query.NewQueryParams(query.WithLimit(1)))
	switch {
	case err != nil:
		return fail("read users", c.explain(tr, err, "/api/v1/users", "reading users"), "check that "+c.cfg.OrgURL+" is reachable and the credentials are valid")
	case len(users) == 0:
		out = append(out, collectors.Check{Name: "read users", Detail: "the users endpoint returned no users (200 [])",
			Fix: "the API token's user lacks an admin role: grant Read-only Administrator"})
	default:
		out = append(out, collectors.Check{Name: "read users", OK: true, Detail: "credential accepted, users readable at " + c.cfg.OrgURL})
	}
	switch a, err := c.access(ctx, cl); {
	case err != nil:
		e := c.explain(tr, err, "/roles", "reading the credential's admin roles")
		def := "give the API token's user the Read-only Administrator role, which may read its own roles"
		if c.token == "" {
			def = "grant the scope okta.roles.read to the service app and request it in okta.scopes"
		}
		var ee *Error
		if errors.As(e, &ee) && ee.Class == ClassPermission {
			ee.Fix = def
		}
		out = fail("admin role", e, def)
	case !a.Full:
		p := a.partial()
		out = append(out, collectors.Check{Name: "admin role", Detail: p.Msg, Fix: p.Fix})
	default:
		out = append(out, collectors.Check{Name: "admin role", OK: true, Detail: a.String() + ": sees every user"})
	}
	if len(users) == 0 {
		return out
	}
	if _, _, err := cl.Application.ListApplicationUsers(ctx, c.cfg.AppID, query.NewQueryParams(query.WithLimit(1))); err != nil {
		return fail("read the Stonly app", c.explain(tr, err, "/api/v1/apps", "reading the app's users"), "check okta.app_id and the okta.apps.read right")
	}
	out = append(out, collectors.Check{Name: "read the Stonly app", OK: true, Detail: "app " + c.cfg.AppID + " and its assignments readable"})
	gs, _, err := cl.Application.ListApplicationGroupAssignments(ctx, c.cfg.AppID, query.NewQueryParams(query.WithLimit(1)))
	if err == nil && len(gs) > 0 {
		_, _, err = cl.Group.ListGroupUsers(ctx, gs[0].Id, query.NewQueryParams(query.WithLimit(1)))
	}
	if err != nil {
		return fail("read groups", c.explain(tr, err, "/api/v1/groups", "reading group members"), "grant okta.groups.read")
	}
	return append(out, collectors.Check{Name: "read groups", OK: true, Detail: fmt.Sprintf("group members readable (%d group assignment(s) sampled)", len(gs))})
}
