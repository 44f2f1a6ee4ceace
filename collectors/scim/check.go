package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/idgraph/idgraph/collectors"
)

// Check reads ServiceProviderConfig, one page of /Users (which proves the
// token) and /Me, for `idgraph doctor`.
func (c *Collector) Check(ctx context.Context) []collectors.Check {
	var n counters
	var out []collectors.Check
	pc, err := c.providerConfig(ctx, &n)
	switch {
	case errors.Is(err, errNoProviderConfig):
		out = append(out, collectors.Check{Name: "service provider config", OK: true,
			Detail: fmt.Sprintf("%v: the server's limits are unknown; pages of %d are asked", err, c.cfg.PageSize)})
	case err != nil:
		return append(out, collectors.Check{Name: "service provider config", Detail: c.detailOf(err), Fix: fixOf(err, "check scim.url (the SCIM base URL, ending in /scim/v2 or similar)")})
	default:
		out = append(out, collectors.Check{Name: "service provider config", OK: true, Detail: pc.String()})
	}
	p, err := c.listPage(ctx, &n, 1, 1)
	if err != nil {
		return append(out, collectors.Check{Name: "read users", Detail: c.detailOf(err), Fix: fixOf(err, "check scim.url and the token in "+c.cfg.TokenEnv)})
	}
	out = append(out, collectors.Check{Name: "read users", OK: true,
		Detail: fmt.Sprintf("token in %s accepted; %s reports %d users", c.cfg.TokenEnv, c.cfg.Title, *p.TotalResults)})
	me, err := c.me(ctx, &n)
	switch {
	case err != nil:
		out = append(out, collectors.Check{Name: "token owner (/Me)", Detail: c.detailOf(err), Fix: fixOf(err, "")})
	case me == nil:
		out = append(out, collectors.Check{Name: "token owner (/Me)", OK: true,
			Detail: "the server does not say whose token it is (/Me not supported, RFC 7644 §3.11); actions cannot recognise idgraph's own account by itself"})
	default:
		out = append(out, collectors.Check{Name: "token owner (/Me)", OK: true, Detail: fmt.Sprintf("the token acts as %s (id %s); actions never touch it", me.UserName, me.ID)})
	}
	return out
}

// detailOf is what a failed check saw: the server's answer (its fix goes
// in Fix), or the error.
func (c *Collector) detailOf(err error) string {
	var he *HTTPError
	if errors.As(err, &he) && he.Fix != "" {
		return c.redact(he.Answer())
	}
	return c.redact(err)
}

func fixOf(err error, def string) string {
	var he *HTTPError
	if errors.As(err, &he) && he.Fix != "" {
		return he.Fix
	}
	return def
}

// me reads the token's own account (RFC 7644 §3.11). nil without error:
// the server does not support /Me (501, or 404, 403 or 400 from servers
// that never heard of it).
func (c *Collector) me(ctx context.Context, n *counters) (*user, error) {
	const path = "/Me"
	r, err := c.do(ctx, n, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, err
	}
	switch r.Status {
	case http.StatusOK:
	case http.StatusNotImplemented, http.StatusNotFound, http.StatusBadRequest, http.StatusForbidden:
		return nil, nil
	default:
		return nil, c.httpError(http.MethodGet, path, r)
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(r.Body, &probe) != nil {
		return nil, fmt.Errorf("GET %s: the answer is not SCIM JSON (%s)", path, describe(r))
	}
	u, err := parseUser(r.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return u, nil
}
