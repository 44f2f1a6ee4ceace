// Package okta reads users, groups and the Stonly application's
// assignments from Okta through the official SDK
// (github.com/okta/okta-sdk-golang/v2).
//
// Configuration:
//
//	okta:
//	  org_url: https://acme.okta.com
//	  token_env: OKTA_API_TOKEN          # SSWS API token, or:
//	  client_id: 0oa...                  # OAuth 2.0 service app
//	  private_key_env: OKTA_PRIVATE_KEY  # its PEM private key (private key JWT)
//	  private_key_id: kid                # optional key id
//	  scopes: [okta.users.read, okta.groups.read, okta.apps.read, okta.roles.read]
//	  app_id: 0oa1abcd                   # the Stonly application
//	  role_attribute: role               # app-user profile attribute holding the role
//	  request_timeout: 2m                # one call, including its retries
//	  max_retries: 4                     # 5xx and network errors; 429s wait for the reset
//	  max_concurrency: 8                 # requests in flight at once (Okta limits them per org)
package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
)

// Version is recorded in evidence manifests.
const Version = "okta/2 (okta-sdk-golang v2.20.0)"

// Page sizes: the largest each endpoint allows, always asked for
// explicitly. Okta says of listGroupUsers that its default limit "is set
// to a very high number due to historical reasons ... This will change in
// a future version of this API": an explicit limit keeps the read the
// same when it does (a 500 on a large page is retried with a smaller one).
const (
	usersPage      = 200
	appUsersPage   = 500
	appGroupsPage  = 200
	groupUsersPage = 1000
)

// DefaultScopes are the read-only scopes the OAuth service app needs:
// okta.roles.read lets idgraph check that the app's admin role sees every
// user.
var DefaultScopes = []string{"okta.users.read", "okta.groups.read", "okta.apps.read", "okta.roles.read"}

// Concurrency: Okta limits the requests an org has unfinished at once (75
// for Workforce orgs, 35 for paid developer orgs, 15 for free ones, shared
// by every integration: "Concurrency limits", developer.okta.com/docs/
// reference/rl2-concurrency), and notes that "even large bulk loads
// rarely require more than 10 simultaneous transactions".
const (
	defaultConcurrency = 8
	maxConcurrency     = 75
)

func init() {
	collectors.Register("okta", collectors.One("okta", func(c Config, env collectors.Env) (collectors.Collector, error) { return NewCollector(c, env) }))
}

// Config is the okta section of the configuration file.
type Config struct {
	OrgURL         string        `yaml:"org_url"`
	TokenEnv       string        `yaml:"token_env"`
	ClientID       string        `yaml:"client_id"`
	PrivateKeyEnv  string        `yaml:"private_key_env"`
	PrivateKeyID   string        `yaml:"private_key_id"`
	Scopes         []string      `yaml:"scopes"`
	AppID          string        `yaml:"app_id"`
	RoleAttribute  string        `yaml:"role_attribute"`
	RequestTimeout time.Duration `yaml:"request_timeout"`
	MaxRetries     *int          `yaml:"max_retries"`
	// MaxConcurrency bounds the requests in flight (default 8, at most
	// 75): Okta answers 429 to requests beyond its per-org concurrency
	// limit, which every integration of the org shares.
	MaxConcurrency int `yaml:"max_concurrency"`
	// Incremental reads only the users changed since the last complete
	// run (lastUpdated filter) and the members of groups whose membership
	// changed; assignments are always re-read in full. Default true.
	Incremental *bool `yaml:"incremental"`
	// FullEvery forces a full read after this many incremental ones
	// (default 7): a user deleted outright (not deprovisioned) leaves no
	// trace in a lastUpdated filter. 0 keeps the default; -1 never.
	FullEvery int `yaml:"full_every"`
}

// skew is how far back an incremental read reaches before the previous
// read began, against clock differences and in-flight changes.
const skew = 5 * time.Minute

// state is what the collector keeps between runs.
type state struct {
	UsersSince  string            `json:"users_since"`      // RFC 3339: read users changed after this
	Groups      map[string]string `json:"groups,omitempty"` // group id -> lastMembershipUpdated seen
	Incremental int               `json:"incremental"`      // incremental reads since the last full one
}

// Incremental tells the pipeline to hand over the previous snapshot.
func (c *Collector) Incremental() bool { return c.cfg.Incremental == nil || *c.cfg.Incremental }

// Collector reads one Okta org.
type Collector struct {
	cfg    Config
	token  string // SSWS token, or
	key    string // PEM private key
	secret []string
	base   http.RoundTripper // for tests; nil: http.DefaultTransport
}

// NewCollector validates cfg and reads its secrets.
func NewCollector(cfg Config, env collectors.Env) (*Collector, error) {
	bad := config.Section(env.File, "okta")
	u, err := url.Parse(cfg.OrgURL)
	switch {
	case cfg.OrgURL == "":
		return nil, bad("org_url is required (e.g. https://acme.okta.com)")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return nil, bad("org_url %q is not an absolute URL", cfg.OrgURL)
	case u.Scheme == "http" && !Loopback(u.Hostname()):
		return nil, bad("org_url %q must use https (plain http is allowed for a local simulator only)", cfg.OrgURL)
	case cfg.AppID == "":
		return nil, bad("app_id is required (the Stonly application's id in Okta, 0oa...)")
	case cfg.TokenEnv != "" && cfg.ClientID != "":
		return nil, bad("token_env and client_id exclude each other: use an API token or an OAuth service app")
	case cfg.TokenEnv == "" && cfg.ClientID == "":
		return nil, bad("token_env (an SSWS API token) or client_id with private_key_env (an OAuth service app) is required")
	case cfg.ClientID != "" && cfg.PrivateKeyEnv == "":
		return nil, bad("private_key_env is required with client_id")
	case cfg.MaxConcurrency < 0 || cfg.MaxConcurrency > maxConcurrency:
		return nil, bad("max_concurrency %d is out of range: 1 to %d (Okta's limit of concurrent requests per org, shared by every integration; default %d)",
			cfg.MaxConcurrency, maxConcurrency, defaultConcurrency)
	case cfg.MaxRetries != nil && *cfg.MaxRetries < 0:
		return nil, bad("max_retries must not be negative")
	}
	if cfg.MaxConcurrency == 0 {
		cfg.MaxConcurrency = defaultConcurrency
	}
	cfg.OrgURL = strings.TrimRight(cfg.OrgURL, "/")
	if cfg.RoleAttribute == "" {
		cfg.RoleAttribute = "role"
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 2 * time.Minute
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = DefaultScopes
	}
	c := &Collector{cfg: cfg}
	if cfg.TokenEnv != "" {
		if c.token, err = env.Secret("okta.token_env", cfg.TokenEnv); err != nil {
			return nil, &config.Error{Err: err}
		}
		c.secret = append(c.secret, c.token)
	} else {
		if c.key, err = env.Secret("okta.private_key_env", cfg.PrivateKeyEnv); err != nil {
			return nil, &config.Error{Err: err}
		}
		c.secret = append(c.secret, c.key)
	}
	return c, nil
}

// Loopback reports whether host is this machine.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Info describes the source.
func (c *Collector) Info() collectors.Info {
	return collectors.Info{Name: "okta", Kind: collectors.KindIdP, Version: Version}
}

func (c *Collector) maxRetries() int {
	if c.cfg.MaxRetries != nil {
		return *c.cfg.MaxRetries
	}
	return 4
}

func (c *Collector) client(ctx context.Context, tr *transport) (*sdk.Client, error) {
	opts := []sdk.ConfigSetter{
		sdk.WithOrgUrl(c.cfg.OrgURL),
		// The SDK caches GET responses by default; a nightly reconciliation
		// must see today's data, never yesterday's.
		sdk.WithCache(false),
		sdk.WithHttpClientPtr(&http.Client{Transport: tr}),
		sdk.WithRequestTimeout(int64(c.cfg.RequestTimeout / time.Second)),
		sdk.WithRateLimitMaxRetries(int32(c.maxRetries())),
		sdk.WithRateLimitMaxBackOff(120),
		sdk.WithUserAgentExtra("idgraph"),
	}
	if u, _ := url.Parse(c.cfg.OrgURL); u.Scheme == "http" && Loopback(u.Hostname()) {
		// Only a simulator on this machine may be reached without TLS.
		opts = append(opts, sdk.WithTestingDisableHttpsCheck(true))
	}
	if c.token != "" {
		opts = append(opts, sdk.WithAuthorizationMode("SSWS"), sdk.WithToken(c.token))
	} else {
		opts = append(opts, sdk.WithAuthorizationMode("PrivateKey"), sdk.WithClientId(c.cfg.ClientID),
			sdk.WithScopes(c.cfg.Scopes), sdk.WithPrivateKey(c.key), sdk.WithToken(""))
		if c.cfg.PrivateKeyID != "" {
			opts = append(opts, sdk.WithPrivateKeyId(c.cfg.PrivateKeyID))
		}
	}
	_, client, err := sdk.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("okta: configuring the SDK: %s", c.redact(err.Error()))
	}
	return client, nil
}

// read is the state of one collection.
type read struct {
	c   *Collector
	req collectors.Request
	tr  *transport

	mu       sync.Mutex
	comp     *collectors.Completeness
	users    map[string]*collectors.Account
	appUsers []*sdk.AppUser
	groups   []*sdk.ApplicationGroupAssignment
	names    map[string]string   // group id -> name
	members  map[string][]string // group id -> user ids
	seen     map[string]string   // group id -> lastMembershipUpdated
	prev     *state
	prevMem  map[string][]string // group name -> user ids, from the previous snapshot
}

// Collect reads users (including DEPROVISIONED ones), the app's user and
// group assignments and the members of every assigned group, and checks
// that the credential's admin role sees every user.
func (c *Collector) Collect(ctx context.Context, req collectors.Request) (*collectors.Result, error) {
	start := time.Now()
	r := &read{c: c, req: req, users: map[string]*collectors.Account{}, names: map[string]string{}, members: map[string][]string{},
		seen: map[string]string{},
		comp: &collectors.Completeness{Source: "okta", Kind: collectors.KindIdP, Started: start, Mode: "full", Complete: true}}
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
	// Users, deprovisioned users, app users, app groups and the admin role
	// are independent reads: run them together (the transport bounds the
	// requests in flight).
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
	run(r.listAppUsers)
	run(r.listAppGroups)
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
	if len(r.users) == 0 {
		// An API token whose user has no admin role gets 200 [] from the
		// users endpoint; no real org has no users.
		return finish(&Error{Class: ClassPermission, What: "reading users",
			Msg: "the users endpoint returned no users at all, which no real org has",
			Fix: "the API token's user (or the service app) lacks an admin role that may read users; grant the Read-only Administrator role"})
	}
	r.assign()
	res.Accounts = r.accounts()
	r.comp.Records = len(res.Accounts)
	r.parts()
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
// so that the parts are the same whatever the mode.
func (r *read) parts() {
	users, deprov, members := 0, 0, 0
	for _, a := range r.users {
		if a.RawStatus == "DEPROVISIONED" {
			deprov++
		} else {
			users++
		}
	}
	for _, ids := range r.members {
		members += len(ids)
	}
	for _, p := range []collectors.Part{
		{Kind: "list", ID: "users", Name: "users", Records: users, Fix: "give the credential the Read-only Administrator role"},
		{Kind: "list", ID: "deprovisioned_users", Name: "deprovisioned users", Records: deprov},
		{Kind: "list", ID: "app_users", Name: "app users of " + r.c.cfg.AppID, Records: len(r.appUsers), Fix: "check okta.app_id"},
		{Kind: "list", ID: "groups", Name: "groups assigned to " + r.c.cfg.AppID, Records: len(r.groups)},
		{Kind: "list", ID: "group_members", Name: "members of the assigned groups", Records: members},
	} {
		r.comp.AddPart(p)
	}
}

// loadPrevious prepares an incremental read from the last complete
// snapshot's accounts and state, if the request allows one.
func (r *read) loadPrevious() {
	p := r.req.Previous
	if p == nil || p.State == "" || r.req.Full || !r.c.Incremental() {
		return
	}
	var st state
	if err := json.Unmarshal([]byte(p.State), &st); err != nil || st.UsersSince == "" {
		return
	}
	every := r.c.cfg.FullEvery
	if every == 0 {
		every = 7
	}
	if every > 0 && st.Incremental >= every {
		r.req.Log().Info("periodic full read of Okta users", "after_incremental_reads", st.Incremental)
		return
	}
	r.prev = &st
	r.prevMem = map[string][]string{}
	for _, a := range p.Accounts {
		a := a
		for _, g := range a.Groups {
			r.prevMem[g] = append(r.prevMem[g], a.ID)
		}
		a.Assignments, a.Groups = nil, nil
		r.users[a.ID] = &a
	}
	r.comp.Mode = "incremental"
}

// page counts a page read and reports progress. The reads run
// concurrently, so the counts are taken under the lock.
func (r *read) page(stage string) {
	r.mu.Lock()
	r.comp.Pages++
	pages, records := r.comp.Pages, len(r.users)
	r.mu.Unlock()
	r.req.Report(collectors.Progress{Source: "okta", Stage: stage, Pages: pages, Records: records,
		Retries: int(r.tr.retries.Load() + r.tr.throttled.Load()), Waited: time.Duration(r.tr.waited.Load())})
}

func (r *read) listUsers(ctx context.Context, cl *sdk.Client, filter, stage string) error {
	qp := query.NewQueryParams(query.WithLimit(usersPage))
	if filter != "" {
		qp.Filter = filter
	}
	return pages(ctx, r, "/api/v1/users", stage, func() ([]*sdk.User, *sdk.Response, error) { return cl.User.ListUsers(ctx, qp) }, r.addUsers)
}

// pages reads a list from its first page to its last by Okta's Link:
// next, stopping when a next page is one already read: a cursor that does
// not advance would otherwise repeat the same page for as long as the run
// lasts (a 90 s read of 1,800 requests was seen).
func pages[T any](ctx context.Context, r *read, endpoint, stage string, first func() ([]T, *sdk.Response, error), add func([]T)) error {
	items, resp, err := first()
	seen := map[string]bool{}
	for pageNo := 1; ; pageNo++ {
		if err != nil {
			return r.c.explain(r.tr, err, endpoint, fmt.Sprintf("reading %s, page %d", stage, pageNo))
		}
		add(items)
		r.page(stage)
		if !resp.HasNextPage() {
			return nil
		}
		if pageNo == 1 {
			seen[cursor(resp.Self)] = true
		}
		next := cursor(resp.NextPage)
		if seen[next] {
			return &Error{Class: ClassData, What: fmt.Sprintf("reading %s, page %d", stage, pageNo+1),
				Msg: fmt.Sprintf("Okta's Link: next of %s leads to a page already read (%s; X-Okta-Request-Id %s): the read stopped there and the list is incomplete",
					endpoint, next, resp.Header.Get("X-Okta-Request-Id")),
				Fix: "a fault on Okta's side or in a proxy between: try again later, and report the request id to Okta support if it persists"}
		}
		seen[next] = true
		if err := ctx.Err(); err != nil {
			return err
		}
		items = nil
		resp, err = resp.Next(ctx, &items)
	}
}

// cursor is what identifies a page: its after cursor, or its whole URL.
func cursor(link string) string {
	if u, err := url.Parse(link); err == nil {
		if a := u.Query().Get("after"); a != "" {
			return u.Path + " after=" + a
		}
	}
	return link
}

func (r *read) addUsers(users []*sdk.User) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range users {
		if u == nil || u.Id == "" {
			continue
		}
		r.users[u.Id] = toAccount(u)
	}
}

func str(m map[string]any, k string) string {
	if v, ok := m[k].(string); ok {
		return strings.TrimSpace(v)
	}
	return ""
}

func toAccount(u *sdk.User) *collectors.Account {
	var p map[string]any
	if u.Profile != nil {
		p = *u.Profile
	}
	a := &collectors.Account{Source: "okta", ID: u.Id, Email: str(p, "email"), RawStatus: u.Status,
		EmployeeID: str(p, "employeeNumber"), Status: Status(u.Status)}
	for _, f := range []string{"login", "email", "secondEmail"} {
		if v := str(p, f); v != "" {
			a.Addresses = append(a.Addresses, collectors.Address{Field: f, Value: v})
		}
	}
	if a.Email == "" {
		a.Email = str(p, "login")
	}
	a.DisplayName = str(p, "displayName")
	if a.DisplayName == "" {
		a.DisplayName = strings.TrimSpace(str(p, "firstName") + " " + str(p, "lastName"))
	}
	if u.StatusChanged != nil {
		a.StatusChanged = *u.StatusChanged
	}
	if u.LastLogin != nil {
		a.LastActivity = *u.LastLogin
	}
	return a
}

// Status maps Okta's user status onto idgraph's (docs/RULES.md). An unknown
// status counts as not yet active: never as a leaver, which would raise a
// false "orphaned" alarm.
func Status(s string) collectors.Status {
	switch s {
	case "ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY":
		return collectors.StatusActive
	case "SUSPENDED", "DEPROVISIONED":
		return collectors.StatusInactive
	}
	return collectors.StatusStaged
}

func (r *read) listAppUsers(ctx context.Context, cl *sdk.Client) error {
	return pages(ctx, r, "/api/v1/apps", "the app's users", func() ([]*sdk.AppUser, *sdk.Response, error) {
		return cl.Application.ListApplicationUsers(ctx, r.c.cfg.AppID, query.NewQueryParams(query.WithLimit(appUsersPage)))
	}, func(aus []*sdk.AppUser) {
		r.mu.Lock()
		r.appUsers = append(r.appUsers, aus...)
		r.mu.Unlock()
	})
}

func (r *read) listAppGroups(ctx context.Context, cl *sdk.Client) error {
	return pages(ctx, r, "/api/v1/apps", "the app's group assignments", func() ([]*sdk.ApplicationGroupAssignment, *sdk.Response, error) {
		return cl.Application.ListApplicationGroupAssignments(ctx, r.c.cfg.AppID, query.NewQueryParams(query.WithLimit(appGroupsPage)))
	}, func(gs []*sdk.ApplicationGroupAssignment) {
		r.mu.Lock()
		r.groups = append(r.groups, gs...)
		r.mu.Unlock()
	})
}

// listGroups reads the assigned groups with at most max_concurrency
// workers, and stops handing out groups after the first failure (the read
// is incomplete then, and 150 copies of one error help nobody).
func (r *read) listGroups(ctx context.Context, cl *sdk.Client) error {
	jobs := make(chan string)
	var failed atomic.Bool
	var skipped atomic.Int64
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range min(r.c.cfg.MaxConcurrency, len(r.groups)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range jobs {
				if failed.Load() || ctx.Err() != nil {
					skipped.Add(1)
					continue
				}
				if err := r.listGroup(ctx, cl, id); err != nil {
					failed.Store(true)
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, g := range r.groups {
		jobs <- g.Id
	}
	close(jobs)
	wg.Wait()
	if n := skipped.Load(); n > 0 && len(errs) > 0 {
		errs = append(errs, fmt.Errorf("okta: %d more assigned groups were not read", n))
	}
	return errors.Join(errs...)
}

func (r *read) listGroup(ctx context.Context, cl *sdk.Client, id string) error {
	g, _, err := cl.Group.GetGroup(ctx, id)
	if err != nil {
		return r.c.explain(r.tr, err, "/api/v1/groups", "reading assigned group "+id)
	}
	name := id
	if g.Profile != nil && g.Profile.Name != "" {
		name = g.Profile.Name
	}
	stamp := ""
	if g.LastMembershipUpdated != nil {
		stamp = g.LastMembershipUpdated.UTC().Format(time.RFC3339Nano)
	}
	r.mu.Lock()
	r.seen[id] = stamp
	r.mu.Unlock()
	if r.prev != nil && stamp != "" && r.prev.Groups[id] == stamp {
		// Membership unchanged since the last read: reuse it.
		if ids, ok := r.prevMem[name]; ok {
			r.mu.Lock()
			r.names[id], r.members[id] = name, ids
			r.mu.Unlock()
			return nil
		}
	}
	var ids []string
	err = pages(ctx, r, "/api/v1/groups", "members of group "+name, func() ([]*sdk.User, *sdk.Response, error) {
		return cl.Group.ListGroupUsers(ctx, id, query.NewQueryParams(query.WithLimit(groupUsersPage)))
	}, func(us []*sdk.User) {
		for _, u := range us {
			ids = append(ids, u.Id)
		}
	})
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.names[id], r.members[id] = name, ids
	r.mu.Unlock()
	return nil
}

// notInForce are the app-user statuses of an assignment that is not in
// force (AppUserStatus in Okta's management API spec: INACTIVE and
// SUSPENDED "isn't enabled to use the app", PENDING "can't use the app",
// REVOKED "is disabled and waiting for deprovisioning acknowledgment",
// DEPROVISIONED, UNASSIGNED "the user-matching operation was skipped").
// They grant nothing (docs/RULES.md).
var notInForce = map[string]bool{"INACTIVE": true, "SUSPENDED": true, "DEPROVISIONED": true, "REVOKED": true, "UNASSIGNED": true, "PENDING": true}

// assign marks assigned users, with the roles Okta resolved and why.
func (r *read) assign() {
	type via struct {
		name  string
		prio  int64
		roles []string
	}
	byUser := map[string][]via{}
	for _, g := range r.groups {
		roles := profileRoles(g.Profile, r.c.cfg.RoleAttribute)
		for _, uid := range r.members[g.Id] {
			byUser[uid] = append(byUser[uid], via{r.names[g.Id], g.Priority, roles})
			if a := r.users[uid]; a != nil && !slices.Contains(a.Groups, r.names[g.Id]) {
				a.Groups = append(a.Groups, r.names[g.Id])
			}
		}
	}
	missing := 0
	idle := map[string]int{}
	for _, au := range r.appUsers {
		a := r.users[au.Id]
		if a == nil {
			missing++
			continue
		}
		if notInForce[au.Status] {
			idle[au.Status]++
			as := a.Assign("")
			as.Via = append(as.Via, fmt.Sprintf("app user %s (scope %s): grants nothing", au.Status, au.Scope))
			continue
		}
		as := a.Assign("")
		as.InForce = true
		as.Roles = append(as.Roles, profileRoles(au.Profile, r.c.cfg.RoleAttribute)...)
		if au.Scope == "USER" {
			as.Via = append(as.Via, "direct assignment")
		}
		vs := byUser[au.Id]
		sort.Slice(vs, func(i, j int) bool { return vs[i].prio < vs[j].prio })
		for _, v := range vs {
			s := fmt.Sprintf("group %s (priority %d", v.name, v.prio)
			if len(v.roles) > 0 {
				s += ", role " + strings.Join(v.roles, ", ")
			}
			as.Via = append(as.Via, s+")")
		}
		if len(as.Via) == 0 {
			as.Via = []string{"assigned (scope " + au.Scope + ")"}
		}
	}
	if missing > 0 {
		r.comp.Warnings = append(r.comp.Warnings, fmt.Sprintf("%d app users were not in the user list (changed during the read?)", missing))
	}
	if len(idle) > 0 {
		var parts []string
		for _, st := range slices.Sorted(maps.Keys(idle)) {
			parts = append(parts, fmt.Sprintf("%s %d", st, idle[st]))
		}
		r.comp.Warnings = append(r.comp.Warnings, "app users whose assignment is not in force, counted as not assigned: "+strings.Join(parts, ", "))
	}
}

// profileRoles reads the role attribute of an app-user or app-group
// profile. Profile attributes follow the app's schema, which may declare
// the attribute an array of strings: then each value is a role.
func profileRoles(p any, attr string) []string {
	m, ok := p.(map[string]any)
	if !ok {
		return nil
	}
	switch v := m[attr].(type) {
	case string:
		if v = strings.TrimSpace(v); v != "" {
			return []string{v}
		}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok && strings.TrimSpace(s) != "" && !slices.Contains(out, strings.TrimSpace(s)) {
				out = append(out, strings.TrimSpace(s))
			}
		}
		return out
	}
	return nil
}

func (r *read) accounts() []collectors.Account {
	out := make([]collectors.Account, 0, len(r.users))
	for _, a := range r.users {
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// redact removes the secrets from text that may be logged.
func (c *Collector) redact(s string) string {
	for _, sec := range c.secret {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}
