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
//	  scopes: [okta.users.read, okta.groups.read, okta.apps.read]
//	  app_id: 0oa1abcd                   # the Stonly application
//	  role_attribute: role               # app-user profile attribute holding the role
//	  request_timeout: 2m                # one call, including its retries
//	  max_retries: 4                     # 5xx and network errors; 429s wait for the reset
package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
)

// Version is recorded in evidence manifests.
const Version = "okta/1 (okta-sdk-golang v2.20.0)"

// Page sizes: the largest each endpoint allows.
const (
	usersPage      = 200
	appUsersPage   = 500
	appGroupsPage  = 200
	groupUsersPage = 1000
)

// DefaultScopes are the read-only scopes the OAuth service app needs.
var DefaultScopes = []string{"okta.users.read", "okta.groups.read", "okta.apps.read"}

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
// group assignments and the members of every assigned group.
func (c *Collector) Collect(ctx context.Context, req collectors.Request) (*collectors.Result, error) {
	start := time.Now()
	r := &read{c: c, req: req, users: map[string]*collectors.Account{}, names: map[string]string{}, members: map[string][]string{},
		seen: map[string]string{},
		comp: &collectors.Completeness{Source: "okta", Kind: collectors.KindIdP, Started: start, Mode: "full", Complete: true}}
	r.loadPrevious()
	r.tr = newTransport(c.base, c.maxRetries(), min(c.cfg.RequestTimeout, time.Minute))
	r.tr.onWait = func(d time.Duration) {
		req.Log().Info("waiting for the Okta rate-limit window", "wait", d.Round(time.Millisecond))
	}
	res := &collectors.Result{}
	finish := func(err error) (*collectors.Result, error) {
		r.comp.Requests = int(r.tr.requests.Load())
		r.comp.Retries = int(r.tr.retries.Load() + r.tr.throttled.Load())
		r.comp.Waited = time.Duration(r.tr.waited.Load())
		r.comp.Duration = time.Since(start)
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
	// Users, deprovisioned users, app users and app groups are independent
	// reads of different endpoint families: run them together.
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
	wg.Wait()
	if len(errs) == 0 {
		// Group members explain why; they come after we know the groups.
		for _, g := range r.groups {
			run(func(ctx context.Context, cl *sdk.Client) error { return r.listGroup(ctx, cl, g.Id) })
		}
		wg.Wait()
	}
	if len(errs) > 0 {
		res.Accounts = r.accounts()
		return finish(errors.Join(errs...))
	}
	if len(r.users) == 0 {
		// An API token whose user has no admin role gets 200 [] from the
		// users endpoint; no real org has no users.
		return finish(errors.New("okta: the users endpoint returned no users at all, which no real org has: " +
			"the API token's user (or the service app) lacks an admin role that may read users; grant the Read-only Administrator role"))
	}
	r.assign()
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
		a.Assigned, a.AssignedVia, a.AppRoles, a.Groups = false, nil, nil, nil
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
	users, resp, err := cl.User.ListUsers(ctx, qp)
	for pageNo := 1; ; pageNo++ {
		if err != nil {
			return r.c.explain(err, "/api/v1/users", fmt.Sprintf("reading %s, page %d", stage, pageNo))
		}
		r.addUsers(users)
		r.page(stage)
		if !resp.HasNextPage() {
			return nil
		}
		users = nil
		resp, err = resp.Next(ctx, &users)
	}
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

// Status maps Okta's user status onto idgraph's (DESIGN.md). An unknown
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
	aus, resp, err := cl.Application.ListApplicationUsers(ctx, r.c.cfg.AppID, query.NewQueryParams(query.WithLimit(appUsersPage)))
	for pageNo := 1; ; pageNo++ {
		if err != nil {
			return r.c.explain(err, "/api/v1/apps", fmt.Sprintf("reading the app's users, page %d", pageNo))
		}
		r.mu.Lock()
		r.appUsers = append(r.appUsers, aus...)
		r.mu.Unlock()
		r.page("app users")
		if !resp.HasNextPage() {
			return nil
		}
		aus = nil
		resp, err = resp.Next(ctx, &aus)
	}
}

func (r *read) listAppGroups(ctx context.Context, cl *sdk.Client) error {
	gs, resp, err := cl.Application.ListApplicationGroupAssignments(ctx, r.c.cfg.AppID, query.NewQueryParams(query.WithLimit(appGroupsPage)))
	for pageNo := 1; ; pageNo++ {
		if err != nil {
			return r.c.explain(err, "/api/v1/apps", fmt.Sprintf("reading the app's group assignments, page %d", pageNo))
		}
		r.mu.Lock()
		r.groups = append(r.groups, gs...)
		r.mu.Unlock()
		r.page("app groups")
		if !resp.HasNextPage() {
			return nil
		}
		gs = nil
		resp, err = resp.Next(ctx, &gs)
	}
}

func (r *read) listGroup(ctx context.Context, cl *sdk.Client, id string) error {
	g, _, err := cl.Group.GetGroup(ctx, id)
	if err != nil {
		return r.c.explain(err, "/api/v1/groups", "reading assigned group "+id)
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
	us, resp, err := cl.Group.ListGroupUsers(ctx, id, query.NewQueryParams(query.WithLimit(groupUsersPage)))
	for pageNo := 1; ; pageNo++ {
		if err != nil {
			return r.c.explain(err, "/api/v1/groups", fmt.Sprintf("reading members of group %s, page %d", name, pageNo))
		}
		for _, u := range us {
			ids = append(ids, u.Id)
		}
		r.page("group " + name)
		if !resp.HasNextPage() {
			break
		}
		us = nil
		resp, err = resp.Next(ctx, &us)
	}
	r.mu.Lock()
	r.names[id], r.members[id] = name, ids
	r.mu.Unlock()
	return nil
}

// assign marks assigned users, with the role Okta resolved and why.
func (r *read) assign() {
	type via struct {
		name string
		prio int64
		role string
	}
	byUser := map[string][]via{}
	for _, g := range r.groups {
		role := profileRole(g.Profile, r.c.cfg.RoleAttribute)
		for _, uid := range r.members[g.Id] {
			byUser[uid] = append(byUser[uid], via{r.names[g.Id], g.Priority, role})
			if a := r.users[uid]; a != nil && !slices.Contains(a.Groups, r.names[g.Id]) {
				a.Groups = append(a.Groups, r.names[g.Id])
			}
		}
	}
	missing := 0
	for _, au := range r.appUsers {
		a := r.users[au.Id]
		if a == nil {
			missing++
			continue
		}
		a.Assigned = true
		if role := profileRole(au.Profile, r.c.cfg.RoleAttribute); role != "" {
			a.AppRoles = append(a.AppRoles, role)
		}
		if au.Scope == "USER" {
			a.AssignedVia = append(a.AssignedVia, "direct assignment")
		}
		vs := byUser[au.Id]
		sort.Slice(vs, func(i, j int) bool { return vs[i].prio < vs[j].prio })
		for _, v := range vs {
			s := fmt.Sprintf("group %s (priority %d", v.name, v.prio)
			if v.role != "" {
				s += ", role " + v.role
			}
			a.AssignedVia = append(a.AssignedVia, s+")")
		}
		if len(a.AssignedVia) == 0 {
			a.AssignedVia = []string{"assigned (scope " + au.Scope + ")"}
		}
	}
	if missing > 0 {
		r.comp.Warnings = append(r.comp.Warnings, fmt.Sprintf("%d app users were not in the user list (changed during the read?)", missing))
	}
}

func profileRole(p any, attr string) string {
	m, ok := p.(map[string]any)
	if !ok {
		return ""
	}
	switch v := m[attr].(type) {
	case string:
		return v
	case []any:
		var s []string
		for _, x := range v {
			s = append(s, fmt.Sprint(x))
		}
		return strings.Join(s, ",")
	}
	return ""
}

func (r *read) accounts() []collectors.Account {
	out := make([]collectors.Account, 0, len(r.users))
	for _, a := range r.users {
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// explain turns an SDK error into one that says what to do, without the
// secret.
func (c *Collector) explain(err error, path, what string) error {
	var oe *sdk.Error
	msg := err.Error()
	if errors.As(err, &oe) {
		switch {
		case oe.ErrorMessage != "":
			msg = fmt.Sprintf("Okta's token endpoint refused the service app %s (%s: %s): check client_id, the public key registered for the app, and that it was granted the scopes %s",
				c.cfg.ClientID, oe.ErrorMessage, oe.ErrorDescription, strings.Join(c.cfg.Scopes, " "))
		case oe.ErrorCode == "E0000011" || strings.Contains(oe.ErrorSummary, "Invalid token"):
			if c.token != "" {
				msg = fmt.Sprintf("Okta rejected the API token in %s (E0000011 %s): it is wrong, revoked, or expired after 30 days unused",
					c.cfg.TokenEnv, oe.ErrorSummary)
			} else {
				msg = fmt.Sprintf("Okta rejected the service app's access token (E0000011 %s)", oe.ErrorSummary)
			}
		case oe.ErrorCode == "E0000006" || strings.Contains(oe.ErrorSummary, "permission") || strings.Contains(oe.ErrorSummary, "scope"):
			scope := map[string]string{"/api/v1/users": "okta.users.read", "/api/v1/groups": "okta.groups.read", "/api/v1/apps": "okta.apps.read"}[path]
			if c.token != "" {
				msg = fmt.Sprintf("Okta refused %s (E0000006): the API token's user lacks an admin role that may read it; grant the Read-only Administrator role", path)
			} else {
				msg = fmt.Sprintf("Okta refused %s (E0000006): grant the scope %s to the service app %s, and request it in okta.scopes", path, scope, c.cfg.ClientID)
			}
		case oe.ErrorCode == "E0000007" && path == "/api/v1/apps":
			msg = fmt.Sprintf("Okta has no application %s (E0000007): check okta.app_id", c.cfg.AppID)
		case oe.ErrorCode == "E0000047":
			msg = "Okta's rate limit was still exceeded after the retries (E0000047); the run will try again tomorrow, or raise max_retries"
		default:
			msg = fmt.Sprintf("Okta answered %s: %s", oe.ErrorCode, oe.ErrorSummary)
		}
	}
	return fmt.Errorf("okta: %s: %s", what, c.redact(msg))
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
