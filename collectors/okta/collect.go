// collect.go holds one collection: the read state, Collect (which runs
// the reads together and merges what they found), the admin-role check,
// the parts recorded for the guard, and the accounts handed back.

package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/idgraph/idgraph/collectors"
)

// read is the state of one collection.
type read struct {
	c   *Collector
	req collectors.Request
	tr  *transport

	mu   sync.Mutex
	comp *collectors.Completeness
	// accs are the users read, one lean record each, by user id; they
	// become collectors.Accounts only when the read ends.
	accs    *store
	apps    []*appRead
	names   map[string]string   // group id -> name
	members map[string][]string // group id -> user ids
	seen    map[string]string   // group id -> lastMembershipUpdated
	prev    *state
	prevMem map[string][]string // group name -> user ids, from the previous snapshot
}

// Collect reads users (including DEPROVISIONED ones), each configured
// app's user and group assignments and the members of every assigned
// group, and checks that the credential's admin role sees every user.
func (c *Collector) Collect(ctx context.Context, req collectors.Request) (*collectors.Result, error) {
	start := time.Now()
	r := &read{c: c, req: req, accs: newStore(), names: map[string]string{}, members: map[string][]string{},
		seen: map[string]string{},
		comp: &collectors.Completeness{Source: c.name, Kind: collectors.KindIdP, Started: start, Mode: "full", Complete: true}}
	for _, a := range c.apps {
		r.apps = append(r.apps, &appRead{appRef: a})
	}
	r.loadPrevious()
	r.tr = newTransport(c.base, c.maxRetries(), min(c.cfg.RequestTimeout, time.Minute), c.cfg.MaxConcurrency)
	r.tr.onWait = func(d time.Duration) {
		req.Log().Info("waiting for the Okta rate-limit window", "wait", d.Round(time.Millisecond))
	}
	res := &collectors.Result{}
	finish := func(err error) (*collectors.Result, error) {
		r.comp.Requests = int(r.tr.requests.Load())
		r.comp.Retries = int(r.tr.retries.Load() + r.tr.throttled.Load())
		r.comp.Waited = time.Duration(r.tr.waited.Load())
		r.comp.Duration = time.Since(start)
		if n := r.tr.lowered.Load(); n > 0 {
			r.comp.Warnings = append(r.comp.Warnings, fmt.Sprintf("Okta answered 429 at its limit of concurrent requests: the read went on with %d in flight "+
				"instead of okta.max_concurrency %d; other integrations share the org's limit, so lower max_concurrency", n, c.cfg.MaxConcurrency))
		}
		if n := r.tr.smaller.Load(); n > 0 {
			r.comp.Warnings = append(r.comp.Warnings, fmt.Sprintf("Okta failed a large page %d time(s); each was asked again with a smaller limit, as Okta advises", n))
		}
		if err != nil {
			tagSource(err, c.name)
			r.comp.Fail(err)
		}
		res.Completeness = *r.comp
		return res, err
	}
	client, err := c.client(ctx, r.tr)
	if err != nil {
		return finish(err)
	}
	var wg sync.WaitGroup
	var errs []error
	var emu sync.Mutex
	run := func(f func(context.Context, *sdk.Client) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx, client); err != nil {
				emu.Lock()
				errs = append(errs, err)
				emu.Unlock()
			}
		}()
	}
	// Users, deprovisioned users, each app's users and groups and the
	// admin role are independent reads: run them together (the transport
	// bounds the requests in flight to okta.max_concurrency).
	if r.prev != nil {
		// Users changed since the last read, whatever their status (a
		// filter makes Okta include DEPROVISIONED users).
		run(func(ctx context.Context, cl *sdk.Client) error {
			return r.listUsers(ctx, cl, fmt.Sprintf(`lastUpdated gt "%s"`, r.prev.UsersSince), "changed users")
		})
	} else {
		run(func(ctx context.Context, cl *sdk.Client) error { return r.listUsers(ctx, cl, "", "users") })
		run(func(ctx context.Context, cl *sdk.Client) error {
			// The default list leaves DEPROVISIONED users out, and a leaver
			// is exactly such a user.
			return r.listUsers(ctx, cl, `status eq "DEPROVISIONED"`, "deprovisioned users")
		})
	}
	for _, a := range r.apps {
		run(func(ctx context.Context, cl *sdk.Client) error { return r.listAppUsers(ctx, cl, a) })
		run(func(ctx context.Context, cl *sdk.Client) error { return r.listAppGroups(ctx, cl, a) })
	}
	run(r.checkAccess)
	wg.Wait()
	if len(errs) == 0 {
		// Group members explain why; they come after we know the groups,
		// read by a bounded pool: one goroutine per assigned group put 152
		// requests in flight with 150 groups, and Okta answered with a 429
		// storm.
		run(r.listGroups)
		wg.Wait()
	}
	if err := ctx.Err(); err != nil {
		// The run's deadline or a cancellation: one message, not one per
		// read under way.
		res.Accounts = r.accounts()
		return finish(&Error{Class: ClassStopped, What: "reading Okta",
			Msg: fmt.Sprintf("the read was stopped (%v) after %d pages; what it read is not a whole list", err, r.comp.Pages), Err: err})
	}
	if len(errs) > 0 {
		res.Accounts = r.accounts()
		return finish(combine(errs))
	}
	if r.accs.len() == 0 {
		// An API token whose user has no admin role gets 200 [] from the
		// users endpoint; no real org has no users.
		return finish(&Error{Class: ClassPermission, What: "reading users",
			Msg: "the users endpoint returned no users at all, which no real org has",
			Fix: "the API token's user (or the service app) lacks an admin role that may read users; grant the Read-only Administrator role"})
	}
	r.resolveManagers()
	r.assign()
	r.parts()
	res.Accounts = r.accounts()
	r.comp.Records = len(res.Accounts)
	n := 0
	if r.prev != nil {
		n = r.prev.Incremental + 1
	}
	st, _ := json.Marshal(state{UsersSince: start.Add(-skew).UTC().Format("2006-01-02T15:04:05.000Z"), Groups: r.seen, Incremental: n})
	res.State = string(st)
	return finish(nil)
}

// combine joins the errors of reads that ran together, saying once what
// several of them said alike (a refused token fails every read the same
// way).
func combine(errs []error) error {
	var flat []error
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		flat = append(flat, err)
	}
	for _, err := range errs {
		walk(err)
	}
	type key struct{ msg, fix string }
	var order []key
	groups := map[key][]*Error{}
	var out []error
	for _, err := range flat {
		e, ok := err.(*Error)
		if !ok {
			out = append(out, err)
			continue
		}
		k := key{e.Msg, e.Fix}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], e)
	}
	var merged []error
	for _, k := range order {
		g := groups[k]
		e := *g[0]
		if len(g) > 1 {
			whats := make([]string, len(g))
			for i, x := range g {
				whats[i] = x.What
			}
			slices.Sort(whats)
			e.What = strings.Join(whats, "; ")
		}
		merged = append(merged, &e)
	}
	return errors.Join(append(merged, out...)...)
}

// checkAccess fails the read when the credential's admin roles see only
// part of the org.
func (r *read) checkAccess(ctx context.Context, cl *sdk.Client) error {
	a, err := r.c.access(ctx, cl)
	if err != nil {
		e := r.c.explain(r.tr, err, "/roles", "checking the credential's admin role")
		var ee *Error
		if errors.As(e, &ee) && ee.Class == ClassPermission {
			// Fail closed: a role that may not read roles is no proof of a
			// role that sees every user.
			if r.c.token != "" {
				ee.Fix = "the API token's user may not read its own admin roles; give it the Read-only Administrator role, which may"
			} else {
				ee.Fix = "grant the scope okta.roles.read to the service app " + r.c.cfg.ClientID + " and request it in okta.scopes, so that idgraph can check that its admin role sees every user"
			}
		}
		return e
	}
	r.req.Log().Info("okta credential", "roles", a.String(), "sees_every_user", a.Full)
	if !a.Full {
		return a.partial()
	}
	return nil
}

// parts records each list read with its count, for the pipeline's guard
// against a list that shrank. Incremental reads record the merged lists,
// so that the parts are the same whatever the mode. A single-app
// configuration keeps the ids it always had ("app_users", "groups"), so
// that the guards of existing stores go on working; okta.apps records one
// of each per app ("app_users:notion").
func (r *read) parts() {
	users, deprov, members := 0, 0, 0
	for i := range r.accs.len() {
		if r.accs.at(i).status == "DEPROVISIONED" {
			deprov++
		} else {
			users++
		}
	}
	for _, ids := range r.members {
		members += len(ids)
	}
	r.comp.AddPart(collectors.Part{Kind: "list", ID: "users", Name: "users", Records: users, Fix: "give the credential the Read-only Administrator role"})
	r.comp.AddPart(collectors.Part{Kind: "list", ID: "deprovisioned_users", Name: "deprovisioned users", Records: deprov})
	for _, a := range r.apps {
		id, of := "", a.id
		if a.name != "" {
			id, of = ":"+a.name, a.name+" ("+a.id+")"
		}
		r.comp.AddPart(collectors.Part{Kind: "list", ID: "app_users" + id, Name: "app users of " + of, Records: len(a.users), Fix: "check " + a.key()})
		r.comp.AddPart(collectors.Part{Kind: "list", ID: "groups" + id, Name: "groups assigned to " + of, Records: len(a.groups)})
	}
	r.comp.AddPart(collectors.Part{Kind: "list", ID: "group_members", Name: "members of the assigned groups", Records: members})
}

// page counts a page read and reports progress. The reads run
// concurrently, so the counts are taken under the lock.
func (r *read) page(stage string) {
	r.mu.Lock()
	r.comp.Pages++
	pages, records := r.comp.Pages, r.accs.len()
	r.mu.Unlock()
	r.req.Report(collectors.Progress{Source: r.c.name, Stage: stage, Pages: pages, Records: records,
		Retries: int(r.tr.retries.Load() + r.tr.throttled.Load()), Waited: time.Duration(r.tr.waited.Load())})
}

// accounts hands back the accounts sorted by id.
func (r *read) accounts() []collectors.Account { return r.accs.sorted(r.c.name) }
