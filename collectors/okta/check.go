package okta

import (
	"context"
	"fmt"
	"time"

	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"github.com/idgraph/idgraph/collectors"
)

// Check reads one record of each endpoint the collector needs.
func (c *Collector) Check(ctx context.Context) []collectors.Check {
	tr := newTransport(c.base, 1, min(c.cfg.RequestTimeout, 30*time.Second))
	cl, err := c.client(ctx, tr)
	if err != nil {
		return []collectors.Check{{Name: "client", Detail: err.Error(), Fix: "check okta.org_url and the credentials"}}
	}
	var out []collectors.Check
	users, _, err := cl.User.ListUsers(ctx, query.NewQueryParams(query.WithLimit(1)))
	switch {
	case err != nil:
		out = append(out, collectors.Check{Name: "read users", Detail: c.explain(err, "/api/v1/users", "reading users").Error(),
			Fix: "check that " + c.cfg.OrgURL + " is reachable and the credentials are valid"})
		return out
	case len(users) == 0:
		out = append(out, collectors.Check{Name: "read users", Detail: "the users endpoint returned no users (200 [])",
			Fix: "the API token's user lacks an admin role: grant Read-only Administrator"})
		return out
	default:
		out = append(out, collectors.Check{Name: "read users", OK: true, Detail: "token accepted, users readable at " + c.cfg.OrgURL})
	}
	if _, _, err := cl.Application.ListApplicationUsers(ctx, c.cfg.AppID, query.NewQueryParams(query.WithLimit(1))); err != nil {
		out = append(out, collectors.Check{Name: "read the Stonly app", Detail: c.explain(err, "/api/v1/apps", "reading the app's users").Error(), Fix: "check okta.app_id and the okta.apps.read right"})
		return out
	}
	out = append(out, collectors.Check{Name: "read the Stonly app", OK: true, Detail: "app " + c.cfg.AppID + " and its assignments readable"})
	gs, _, err := cl.Application.ListApplicationGroupAssignments(ctx, c.cfg.AppID, query.NewQueryParams(query.WithLimit(1)))
	if err == nil && len(gs) > 0 {
		_, _, err = cl.Group.ListGroupUsers(ctx, gs[0].Id, query.NewQueryParams(query.WithLimit(1)))
	}
	if err != nil {
		out = append(out, collectors.Check{Name: "read groups", Detail: c.explain(err, "/api/v1/groups", "reading group members").Error(), Fix: "grant okta.groups.read"})
		return out
	}
	out = append(out, collectors.Check{Name: "read groups", OK: true, Detail: fmt.Sprintf("group members readable (%d group assignment(s) sampled)", len(gs))})
	return out
}
