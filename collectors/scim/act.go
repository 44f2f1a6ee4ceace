// This file carries out actions (collectors.Actor): a removal deactivates
// the user with PATCH active=false (RFC 7644 §3.5.2.3) or, with
// delete_on_remove, deletes it (§3.6); a role change patches the role
// attribute, or moves the user between groups when groups carry roles.
// Every action first re-reads the user and refuses when it is no longer
// what the reviewer decided about, never touches the token's own account
// (/Me, §3.11), and reads the user again afterwards for the evidence.

package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/idgraph/idgraph/collectors"
)

// Act carries out actions in order. An answer that leaves the
// application's state unknown (a 5xx, a timeout, a body that is not SCIM,
// a refused token, a change the next read does not show) stops the batch:
// the rest are skipped.
func (c *Collector) Act(ctx context.Context, actions []collectors.Action) ([]collectors.ActionResult, error) {
	results := make([]collectors.ActionResult, len(actions))
	for i, a := range actions {
		results[i] = collectors.ActionResult{ID: a.ID, Outcome: collectors.OutcomeSkipped,
			Detail: "not attempted: the batch stopped before it", CaptureType: scimMedia}
	}
	if len(actions) == 0 {
		return results, nil
	}
	var n counters
	me, err := c.me(ctx, &n)
	if err != nil {
		return results, fmt.Errorf("%s: reading the token's own account (GET /Me) before acting: %s; nothing was changed", c.name, c.redact(err))
	}
	// ServiceProviderConfig says whether PATCH is supported (RFC 7643 §5);
	// without it, PATCH is tried and its answer tells.
	patchOK := true
	pc, err := c.providerConfig(ctx, &n)
	switch {
	case err == nil:
		patchOK = pc.Patch.Supported
	case !errors.Is(err, errNoProviderConfig):
		return results, fmt.Errorf("%s: reading ServiceProviderConfig before acting: %s; nothing was changed", c.name, c.redact(err))
	}
	for i, a := range actions {
		if err := ctx.Err(); err != nil {
			return results, fmt.Errorf("%s: stopped before action %s: %w; the %d actions from it on were not attempted", c.name, a.ID, err, len(actions)-i)
		}
		r, stop := c.act(ctx, &n, a, me, patchOK)
		r.Ended = time.Now()
		results[i] = r
		if stop != nil {
			return results, fmt.Errorf("%s: action %s (%s %s): %s; the batch stopped and the %d actions after it were not attempted",
				c.name, a.ID, a.Op, a.Account.ID, c.redact(stop), len(actions)-i-1)
		}
	}
	return results, nil
}

// act carries out one action. A non-nil error stops the batch.
func (c *Collector) act(ctx context.Context, n *counters, a collectors.Action, me *user, patchOK bool) (collectors.ActionResult, error) {
	r := collectors.ActionResult{ID: a.ID, Started: time.Now(), CaptureType: scimMedia}
	end := func(o collectors.Outcome, format string, args ...any) (collectors.ActionResult, error) {
		r.Outcome, r.Detail = o, c.redact(fmt.Sprintf(format, args...))
		return r, nil
	}
	stop := func(err error) (collectors.ActionResult, error) {
		r.Outcome, r.Detail = collectors.OutcomeFailed, c.redact(err)
		return r, err
	}
	switch {
	case a.Account.Source != "" && a.Account.Source != c.name:
		return end(collectors.OutcomeRefused, "the account belongs to source %s, not %s", a.Account.Source, c.name)
	case a.Account.ID == "":
		return end(collectors.OutcomeRefused, "the action names no SCIM id")
	case a.Op == collectors.OpRevokeInvitation:
		return end(collectors.OutcomeRefused, "SCIM has no invitations to revoke; remove the user instead")
	case a.Op != collectors.OpRemove && a.Op != collectors.OpSetRole:
		return end(collectors.OutcomeRefused, "operation %q is not one this source carries out", a.Op)
	case me != nil && me.ID == a.Account.ID:
		return end(collectors.OutcomeRefused, "user %s is the account idgraph's token acts as (GET /Me); it is never changed", a.Account.ID)
	}
	path := "/Users/" + url.PathEscape(a.Account.ID)
	cur, body, gone, err := c.getUser(ctx, n, path)
	if err != nil {
		return stop(fmt.Errorf("re-reading the user before acting: %w", err))
	}
	if gone {
		if a.Op == collectors.OpRemove {
			return end(collectors.OutcomeAlreadyDone, "GET %s: 404 Not Found: the user is already gone", path)
		}
		return end(collectors.OutcomeRefused, "GET %s: 404 Not Found: the user no longer exists; no role to change", path)
	}
	r.Before = c.redactBytes(body)
	if me != nil && me.UserName != "" && strings.EqualFold(me.UserName, cur.UserName) {
		return end(collectors.OutcomeRefused, "user %s (%s) is the account idgraph's token acts as (GET /Me); it is never changed", cur.ID, cur.UserName)
	}
	if why := c.otherPerson(a.Account, cur); why != "" {
		return end(collectors.OutcomeRefused, "changed since the decision: %s; nothing was changed", why)
	}
	active, raw, err := cur.active()
	if err != nil {
		return stop(err)
	}
	role := c.roleOf(cur)
	if a.Op == collectors.OpRemove && !active && !c.cfg.DeleteOnRemove {
		r.After = r.Before
		return end(collectors.OutcomeAlreadyDone, "GET %s: the user is already deactivated (%s)", path, raw)
	}
	if a.Account.Role != "" && !strings.EqualFold(role, a.Account.Role) {
		return end(collectors.OutcomeRefused, "changed since the decision: the role is now %q, not %q as decided; nothing was changed", role, a.Account.Role)
	}

	if !patchOK && !(a.Op == collectors.OpRemove && c.cfg.DeleteOnRemove) {
		return end(collectors.OutcomeFailed, "%s does not support PATCH (ServiceProviderConfig patch.supported is false); set delete_on_remove to delete users instead, or change this one by hand; nothing was changed", c.cfg.Title)
	}
	var detail string
	if a.Op == collectors.OpRemove {
		if c.cfg.DeleteOnRemove {
			detail, err = c.deleteUser(ctx, n, path)
		} else {
			detail, err = c.patch(ctx, n, path, []any{map[string]any{"op": "replace", "path": "active", "value": false}})
		}
	} else {
		target := c.canonical(a.Role)
		switch {
		case c.rank(target) < 0:
			return end(collectors.OutcomeRefused, "role %q is not on %s's ladder %v; nothing was changed", a.Role, c.cfg.Title, c.cfg.Roles)
		case !active:
			return end(collectors.OutcomeRefused, "changed since the decision: the user is deactivated (%s); nothing was changed", raw)
		case strings.EqualFold(role, target):
			r.After = r.Before
			return end(collectors.OutcomeAlreadyDone, "GET %s: the role is already %s", path, target)
		}
		detail, err = c.setRole(ctx, n, path, cur, role, target)
	}
	if err != nil {
		if wr, ok := err.(*writeRefused); ok {
			// The application said no, in SCIM: its state is known and
			// unchanged, so the batch goes on.
			return end(wr.outcome, "%s", wr.Error())
		}
		return stop(err)
	}

	// The next read proves the change, and is the evidence.
	after, body, gone, err := c.getUser(ctx, n, path)
	if err != nil {
		return stop(fmt.Errorf("%s; reading the user again afterwards: %w", detail, err))
	}
	r.After = c.redactBytes(body)
	switch {
	case a.Op == collectors.OpRemove && c.cfg.DeleteOnRemove:
		if !gone {
			return stop(fmt.Errorf("%s, but GET %s still finds the user", detail, path))
		}
		return end(collectors.OutcomeDone, "%s; GET %s now answers 404", detail, path)
	case gone:
		return stop(fmt.Errorf("%s, but GET %s now answers 404", detail, path))
	case a.Op == collectors.OpRemove:
		if act, raw, _ := after.active(); act {
			return stop(fmt.Errorf("%s, but GET %s still shows %s", detail, path, raw))
		}
		return end(collectors.OutcomeDone, "%s; the user is now deactivated (active=false)", detail)
	default:
		if got := c.roleOf(after); !strings.EqualFold(got, a.Role) {
			return stop(fmt.Errorf("%s, but GET %s shows role %q, not %q", detail, path, got, a.Role))
		}
		return end(collectors.OutcomeDone, "%s; the role is now %s", detail, c.canonical(a.Role))
	}
}

// otherPerson says how the user differs from the account decided about
// (another address, another userName), or "".
func (c *Collector) otherPerson(want collectors.Account, cur *user) string {
	have := append(cur.emails(), cur.UserName, cur.ExternalID)
	if want.Email != "" && !contains(have, want.Email) {
		return fmt.Sprintf("user %s is now %s (addresses %s), not %s as decided", cur.ID, cur.UserName, strings.Join(cur.emails(), ", "), want.Email)
	}
	for _, ad := range want.Addresses {
		if ad.Field == "userName" && !strings.EqualFold(ad.Value, cur.UserName) {
			return fmt.Sprintf("user %s's userName is now %s, not %s as decided", cur.ID, cur.UserName, ad.Value)
		}
	}
	return ""
}

// getUser reads one user (RFC 7644 §3.4.1). gone: 404.
func (c *Collector) getUser(ctx context.Context, n *counters, path string) (*user, []byte, bool, error) {
	r, err := c.do(ctx, n, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, nil, false, err
	}
	switch {
	case r.Status == http.StatusNotFound:
		return nil, r.Body, true, nil
	case r.Status != http.StatusOK:
		return nil, nil, false, c.httpError(http.MethodGet, path, r)
	}
	u, err := parseUser(r.Body)
	if err != nil {
		return nil, nil, false, fmt.Errorf("GET %s: the answer is not a SCIM User (%s): %v", path, describe(r), err)
	}
	return u, r.Body, false, nil
}

// writeRefused is a write the application refused with a SCIM error, its
// state unchanged: the action failed (or is done, for a 404 on removal)
// and the batch goes on.
type writeRefused struct {
	outcome collectors.Outcome
	err     *HTTPError
}

func (w *writeRefused) Error() string { return w.err.Error() + "; nothing was changed" }

// written classifies the answer to a write: nil for a success, a
// *writeRefused when the application refused in SCIM (a 4xx with a SCIM
// error body), another error when its state is unknown.
func (c *Collector) written(method, path string, r *response, removal bool) error {
	switch {
	case r.Status >= 200 && r.Status < 300:
		if r.Status != http.StatusNoContent && len(r.Body) > 0 && !json.Valid(r.Body) {
			return fmt.Errorf("%s %s: %d, but the answer is not SCIM JSON (%s): the state is unknown", method, path, r.Status, describe(r))
		}
		return nil
	}
	e := c.httpError(method, path, r)
	switch {
	case r.Status == http.StatusNotFound && removal && e.SCIM:
		return &writeRefused{outcome: collectors.OutcomeAlreadyDone, err: e}
	case r.Status >= 400 && r.Status < 500 && r.Status != http.StatusUnauthorized && e.SCIM:
		return &writeRefused{outcome: collectors.OutcomeFailed, err: e}
	}
	return e
}

// patch sends a PatchOp (RFC 7644 §3.5.2). A server answers 200 with the
// resource or 204 without it.
func (c *Collector) patch(ctx context.Context, n *counters, path string, ops []any) (string, error) {
	body := map[string]any{"schemas": []string{patchOpURN}, "Operations": ops}
	r, err := c.do(ctx, n, http.MethodPatch, path, nil, body)
	if err != nil {
		return "", err
	}
	if err := c.written(http.MethodPatch, path, r, strings.HasPrefix(path, "/Users/")); err != nil {
		return "", err
	}
	return fmt.Sprintf("PATCH %s: %d %s", path, r.Status, http.StatusText(r.Status)), nil
}

// deleteUser deletes the user (RFC 7644 §3.6: 204 No Content).
func (c *Collector) deleteUser(ctx context.Context, n *counters, path string) (string, error) {
	r, err := c.do(ctx, n, http.MethodDelete, path, nil, nil)
	if err != nil {
		return "", err
	}
	if err := c.written(http.MethodDelete, path, r, true); err != nil {
		return "", err
	}
	return fmt.Sprintf("DELETE %s: %d %s", path, r.Status, http.StatusText(r.Status)), nil
}

// setRole changes the role from role to target in the attribute that
// carries it.
func (c *Collector) setRole(ctx context.Context, n *counters, path string, cur *user, role, target string) (string, error) {
	switch c.role.kind {
	case "groups":
		return c.moveGroups(ctx, n, cur, target)
	case "roles", "entitlements":
		// Replacing a multi-valued attribute without a filter replaces
		// all its values (RFC 7644 §3.5.2.3), so the other values are
		// sent back as they were, the role's value swapped.
		vals, _ := lookupFold(cur.raw, c.role.kind).([]any)
		out := make([]any, 0, len(vals)+1)
		swapped, primary := false, false
		for _, v := range vals {
			m, ok := v.(map[string]any)
			if ok && !swapped && role != "" && strings.EqualFold(scalar(m["value"]), role) {
				nm := map[string]any{}
				for k, x := range m {
					nm[k] = x
				}
				nm["value"] = target
				if _, has := nm["display"]; has {
					nm["display"] = target
				}
				out = append(out, nm)
				swapped = true
				continue
			}
			if ok && m["primary"] == true {
				primary = true
			}
			out = append(out, v)
		}
		if !swapped {
			nv := map[string]any{"value": target}
			if c.role.kind == "roles" && !primary {
				nv["primary"] = true
			}
			out = append(out, nv)
		}
		return c.patch(ctx, n, path, []any{map[string]any{"op": "replace", "path": c.role.kind, "value": out}})
	}
	return c.patch(ctx, n, path, []any{map[string]any{"op": "replace", "path": c.role.path(), "value": target}})
}

// moveGroups makes the user a member of the group named target and then
// no longer a member of the other ladder groups, through the Group
// resource: a User's groups attribute is read-only (RFC 7643 §4.1.2).
// Adding first means a failure half-way leaves the old role, never none.
func (c *Collector) moveGroups(ctx context.Context, n *counters, cur *user, target string) (string, error) {
	lit, _ := json.Marshal(target)
	q := url.Values{"filter": {"displayName eq " + string(lit)}}
	shown := "/Groups?" + q.Encode()
	r, err := c.do(ctx, n, http.MethodGet, "/Groups", q, nil)
	if err != nil {
		return "", err
	}
	if r.Status != http.StatusOK {
		return "", c.httpError(http.MethodGet, shown, r)
	}
	var p page
	if json.Unmarshal(r.Body, &p) != nil || p.TotalResults == nil {
		return "", fmt.Errorf("GET %s: the answer is not a SCIM ListResponse (%s)", shown, describe(r))
	}
	var gid string
	for _, raw := range p.Resources {
		var g struct {
			ID          string `json:"id"`
			DisplayName string `json:"displayName"`
		}
		if json.Unmarshal(raw, &g) == nil && strings.EqualFold(g.DisplayName, target) {
			gid = g.ID
			break
		}
	}
	if gid == "" {
		return "", &writeRefused{outcome: collectors.OutcomeRefused, err: &HTTPError{Method: http.MethodGet, Path: shown, Status: r.Status,
			Detail: fmt.Sprintf("no group named %s in %s", target, c.cfg.Title), Fix: "create the group or fix scim.roles"}}
	}
	var steps []string
	gpath := "/Groups/" + url.PathEscape(gid)
	d, err := c.patch(ctx, n, gpath, []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": cur.ID}}}})
	if err != nil {
		return "", err
	}
	steps = append(steps, d)
	for _, g := range cur.Groups {
		name := firstOf(g.Display, g.Value)
		if c.rank(name) < 0 || strings.EqualFold(name, target) || g.Value == "" {
			continue
		}
		filter, _ := json.Marshal(cur.ID)
		d, err := c.patch(ctx, n, "/Groups/"+url.PathEscape(g.Value), []any{map[string]any{"op": "remove", "path": "members[value eq " + string(filter) + "]"}})
		if err != nil {
			// The user is in both groups now: not what was decided, and
			// not what it was. Stop and say so.
			return "", fmt.Errorf("%s, then removing the user from group %s failed: %w", strings.Join(steps, "; "), name, err)
		}
		steps = append(steps, d)
	}
	return strings.Join(steps, "; "), nil
}
