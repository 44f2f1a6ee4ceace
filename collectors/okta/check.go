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
	// Every configured app: one app user and one group assignment each, and
	// the members of one assigned group. An app id Okta does not know is
	// named with its configuration key.
	var sampled []string
	for _, a := range c.apps {
		name := "read the app"
		if a.name != "" {
			name = "read app " + a.name
		}
		l := listing{endpoint: "/api/v1/apps", app: &a}
		if _, _, err := cl.Application.ListApplicationUsers(ctx, a.id, query.NewQueryParams(query.WithLimit(1))); err != nil {
			out = append(out, collectors.Check{Name: name, Detail: detailOf(c.explainList(tr, err, l, "reading "+a.label()+"'s users")),
				Fix: fixOf(c.explainList(tr, err, l, ""), "check "+a.key()+" and the okta.apps.read right")})
			continue
		}
		gs, _, err := cl.Application.ListApplicationGroupAssignments(ctx, a.id, query.NewQueryParams(query.WithLimit(1)))
		if err != nil {
			out = append(out, collectors.Check{Name: name, Detail: detailOf(c.explainList(tr, err, l, "reading "+a.label()+"'s group assignments")),
				Fix: fixOf(c.explainList(tr, err, l, ""), "check "+a.key()+" and the okta.apps.read right")})
			continue
		}
		out = append(out, collectors.Check{Name: name, OK: true, Detail: "app " + a.id + " (" + a.key() + ") and its assignments readable"})
		if len(gs) > 0 && len(sampled) == 0 {
			sampled = append(sampled, gs[0].Id)
		}
	}
	var gerr error
	for _, g := range sampled {
		_, _, gerr = cl.Group.ListGroupUsers(ctx, g, query.NewQueryParams(query.WithLimit(1)))
	}
	if gerr != nil {
		return fail("read groups", c.explain(tr, gerr, "/api/v1/groups", "reading group members"), "grant okta.groups.read")
	}
	return append(out, collectors.Check{Name: "read groups", OK: true, Detail: fmt.Sprintf("group members readable (%d group assignment(s) sampled)", len(sampled))})
}
