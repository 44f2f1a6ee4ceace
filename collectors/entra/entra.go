// Package entra reads users, the Stonly enterprise application's app roles
// and assignments, and the members of assigned groups from Microsoft Entra
// ID through Microsoft Graph, with the official SDK
// (github.com/microsoftgraph/msgraph-sdk-go). It is the only package that
// imports that SDK, whose cold build takes minutes: the rest of idgraph
// stays fast to build and test.
//
// Configuration:
//
//	entra:
//	  tenant_id: 00000000-0000-0000-0000-000000000000
//	  client_id: 00000000-0000-0000-0000-000000000000
//	  client_secret_env: ENTRA_CLIENT_SECRET
//	  service_principal_id: 00000000-0000-0000-0000-000000000000   # Stonly's enterprise app
//	  graph_url: https://graph.microsoft.com/v1.0                   # optional
//	  token_url: https://login.microsoftonline.com/TENANT/oauth2/v2.0/token  # optional
//	  ca_file: ""              # extra CA certificates (PEM), e.g. a TLS-inspecting proxy
//	  delta: true              # read users incrementally through users/delta
//	  max_retry_wait: 2m       # total waiting for throttled requests (429, 503, 504) allowed in one read
//	  request_timeout: 2m      # one request's limit
//
// Entra extends an app assignment to a group's direct members only, never
// to members of nested groups (Microsoft's documentation on assigning users
// and groups to an enterprise application): transitive membership is read
// to explain, never to grant.
//
// What the real service does and how the collector meets it (each with
// Microsoft's reference where it is handled):
//   - appRoleAssignmentRequired false on the service principal is reported
//     as an open-access AppPolicy; accountEnabled false as a warning
//     (readApp, policy);
//   - users/delta items carry only the changed properties and are merged
//     into the previous snapshot's users; @removed takes a user out
//     (users.go);
//   - a delta link Graph no longer accepts (410 Gone, syncStateNotFound,
//     resyncRequired) or that names another graph_url leads to a full read
//     in the same run, with a warning saying why (readUsers, isResync);
//   - throttling is retried by kiota, and its real waits are held to
//     max_retry_wait (retry.go);
//   - paging that goes in a circle stops the read, and a cancelled context
//     stops it before the next page (pages.go);
//   - failures say whether the network, TLS, DNS, the credentials or a
//     permission is at fault, with the fix for that (errors.go).
package entra

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	kauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraph "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
)

// Version is recorded in evidence manifests.
const Version = "entra/1 (msgraph-sdk-go v1.89.0)"

// UserFields are exactly the user properties idgraph needs; the default
// property set lacks accountEnabled, userType, otherMails, proxyAddresses
// and employeeId.
var UserFields = []string{"id", "displayName", "userPrincipalName", "mail", "otherMails", "proxyAddresses", "accountEnabled", "userType", "employeeId"}

const pageSize = 999 // Graph's maximum $top

const defaultAccess = "00000000-0000-0000-0000-000000000000"

func init() {
	collectors.Register("entra", collectors.One("entra", func(c Config, env collectors.Env) (collectors.Collector, error) { return NewCollector(c, env) }))
}

// Config is the entra section of the configuration file.
type Config struct {
	TenantID           string        `yaml:"tenant_id"`
	ClientID           string        `yaml:"client_id"`
	ClientSecretEnv    string        `yaml:"client_secret_env"`
	ServicePrincipalID string        `yaml:"service_principal_id"`
	GraphURL           string        `yaml:"graph_url"`
	TokenURL           string        `yaml:"token_url"`
	CAFile             string        `yaml:"ca_file"`
	Delta              *bool         `yaml:"delta"`
	MaxRetryWait       time.Duration `yaml:"max_retry_wait"`
	RequestTimeout     time.Duration `yaml:"request_timeout"`
}

// Collector reads one tenant.
type Collector struct {
	hosts     []string // test hook: replaces AllowedHosts
	cfg       Config
	secret    string
	graphURL  *url.URL
	authority string // https://host/
	roots     *x509.CertPool
}

// NewCollector validates cfg and reads its secret.
func NewCollector(cfg Config, env collectors.Env) (*Collector, error) {
	bad := config.Section(env.File, "entra")
	if cfg.CAFile != "" && !strings.HasPrefix(cfg.CAFile, "/") && env.Dir != "" {
		cfg.CAFile = env.Dir + "/" + cfg.CAFile
	}
	for k, v := range map[string]string{"tenant_id": cfg.TenantID, "client_id": cfg.ClientID, "service_principal_id": cfg.ServicePrincipalID} {
		if v == "" {
			return nil, bad("%s is required", k)
		}
	}
	if !isGUID(cfg.ServicePrincipalID) {
		return nil, bad("service_principal_id %q is not a GUID (the object id of Stonly's enterprise application)", cfg.ServicePrincipalID)
	}
	if cfg.GraphURL == "" {
		cfg.GraphURL = "https://graph.microsoft.com/v1.0"
	}
	if cfg.TokenURL == "" {
		cfg.TokenURL = "https://login.microsoftonline.com/" + cfg.TenantID + "/oauth2/v2.0/token"
	}
	if cfg.MaxRetryWait == 0 {
		cfg.MaxRetryWait = 2 * time.Minute
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 2 * time.Minute
	}
	g, err := url.Parse(strings.TrimRight(cfg.GraphURL, "/"))
	if err != nil || g.Scheme != "https" || g.Host == "" {
		return nil, bad("graph_url %q must be an absolute https URL", cfg.GraphURL)
	}
	t, err := url.Parse(cfg.TokenURL)
	if err != nil || t.Scheme != "https" || t.Host == "" || !strings.HasSuffix(t.Path, "/oauth2/v2.0/token") {
		return nil, bad("token_url %q must be an https URL ending in /TENANT/oauth2/v2.0/token", cfg.TokenURL)
	}
	if tp := strings.Split(strings.Trim(t.Path, "/"), "/"); tp[0] != cfg.TenantID {
		return nil, bad("token_url names tenant %q but tenant_id is %q", tp[0], cfg.TenantID)
	}
	c := &Collector{cfg: cfg, graphURL: g, authority: t.Scheme + "://" + t.Host + "/"}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, bad("ca_file: %v", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, bad("ca_file %s holds no PEM certificate", cfg.CAFile)
		}
		c.roots = pool
	}
	if c.secret, err = env.Secret("entra.client_secret_env", cfg.ClientSecretEnv); err != nil {
		return nil, &config.Error{Err: err}
	}
	return c, nil
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'):
			return false
		}
	}
	return true
}

// Info describes the source.
func (c *Collector) Info() collectors.Info {
	return collectors.Info{Name: "entra", Kind: collectors.KindIdP, Version: Version}
}

// Incremental tells the pipeline to hand over the last snapshot's users
// and delta link.
func (c *Collector) Incremental() bool { return c.cfg.Delta == nil || *c.cfg.Delta }

// AllowedHosts is the host list given to the SDK's authentication
// provider. The provider silently sends no token to any other host, so it
// must be exactly graph_url's host, never the SDK's default list.
func (c *Collector) AllowedHosts() []string {
	if c.hosts != nil {
		return c.hosts
	}
	return []string{c.graphURL.Hostname()}
}

func (c *Collector) transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.roots != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: c.roots, MinVersion: tls.VersionTLS12}
	}
	return tr
}

// client builds the Graph client: azidentity client credentials against
// token_url's authority, the SDK's middleware with a retry handler whose
// total waiting is bounded by max_retry_wait (retry.go), and the allowed
// hosts from graph_url.
func (c *Collector) client(cnt *counter) (*msgraph.GraphServiceClient, error) {
	httpc := &http.Client{Transport: c.transport(), Timeout: c.cfg.RequestTimeout}
	cred, err := azidentity.NewClientSecretCredential(c.cfg.TenantID, c.cfg.ClientID, c.secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: c.authority},
			Transport: httpc,
			Retry: policy.RetryOptions{MaxRetries: 3, ShouldRetry: func(resp *http.Response, err error) bool {
				if err != nil {
					return !permanentNetErr(err)
				}
				// azcore's default list of retried statuses (policy.RetryOptions.StatusCodes).
				switch resp.StatusCode {
				case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
					http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
					return true
				}
				return false
			}},
		},
		// Instance discovery asks login.microsoftonline.com about the
		// authority; with a configured token_url there is nothing to ask.
		DisableInstanceDiscovery: c.authority != "https://login.microsoftonline.com/",
	})
	if err != nil {
		return nil, fmt.Errorf("entra: building the credential: %s", c.redact(err.Error()))
	}
	scope := c.graphURL.Scheme + "://" + c.graphURL.Host + "/.default"
	if c.graphURL.Host == "graph.microsoft.com" {
		scope = "https://graph.microsoft.com/.default"
	}
	auth, err := kauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, []string{scope}, c.AllowedHosts())
	if err != nil {
		return nil, fmt.Errorf("entra: building the authentication provider: %w", err)
	}
	cnt.budget = &budget{max: c.cfg.MaxRetryWait}
	mw, err := khttp.GetDefaultMiddlewaresWithOptions(cnt.budget.options())
	if err != nil {
		return nil, err
	}
	opts := msgraphcore.GraphClientOptions{GraphServiceVersion: "v1.0", GraphServiceLibraryVersion: "1.89.0"}
	mw = append([]khttp.Middleware{msgraphcore.NewGraphTelemetryHandler(&opts)}, mw...)
	cnt.base = c.transport()
	hc := &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(cnt, mw...), Timeout: c.cfg.RequestTimeout}
	adapter, err := msgraph.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, hc)
	if err != nil {
		return nil, err
	}
	adapter.SetBaseUrl(c.graphURL.String())
	return msgraph.NewGraphServiceClient(adapter), nil
}

// state is what the collector keeps between runs.
type state struct {
	DeltaLink string `json:"delta_link"`
}

// read is one collection's state.
type read struct {
	c      *Collector
	req    collectors.Request
	client *msgraph.GraphServiceClient
	cnt    *counter
	mu     sync.Mutex
	comp   *collectors.Completeness

	users       map[string]*collectors.Account
	deltaLink   string
	roles       map[string]string // app role id -> value (or display name)
	direct      map[string][]string
	groups      map[string]*group
	assignments int
	policies    []collectors.AppPolicy
}

type group struct {
	id, name, role string
	direct         []string // user ids
	nestedGroups   []string // names of groups nested directly in it
	transitive     []string // user ids
}

// Collect reads the tenant.
func (c *Collector) Collect(ctx context.Context, req collectors.Request) (*collectors.Result, error) {
	start := time.Now()
	r := &read{c: c, req: req, cnt: &counter{}, users: map[string]*collectors.Account{}, roles: map[string]string{},
		direct: map[string][]string{}, groups: map[string]*group{},
		comp: &collectors.Completeness{Source: "entra", Kind: collectors.KindIdP, Started: start, Complete: true, Mode: "full"}}
	res := &collectors.Result{}
	finish := func(err error) (*collectors.Result, error) {
		r.comp.Requests = int(r.cnt.requests.Load())
		r.comp.Retries = int(r.cnt.retries.Load())
		r.comp.Waited = time.Duration(r.cnt.waited.Load())
		r.comp.Duration = time.Since(start)
		sort.Slice(r.comp.Parts, func(i, j int) bool { return r.comp.Parts[i].ID < r.comp.Parts[j].ID })
		res.Policies = r.policies
		if err != nil {
			err = errors.New(c.redact(err.Error()))
			r.comp.Fail(err)
		}
		res.Completeness = *r.comp
		return res, err
	}
	client, err := c.client(r.cnt)
	if err != nil {
		return finish(err)
	}
	r.client = client
	// msgraph-sdk-go-core creates its error registry on first use with
	// double-checked locking on a plain pointer, a data race when two page
	// iterators start at once (go test -race ./cmd/idgraph found it).
	// Creating it here, before the reads fan out, leaves them only reads.
	msgraphcore.GetErrorFactoryFromRegistry("")
	var wg sync.WaitGroup
	var userErr, appErr error
	wg.Add(2)
	go func() { defer wg.Done(); userErr = r.readUsers(ctx) }()
	go func() { defer wg.Done(); appErr = r.readApp(ctx) }()
	wg.Wait()
	if err := errors.Join(userErr, appErr); err != nil {
		res.Accounts = r.accounts()
		return finish(err)
	}
	r.assign()
	res.Accounts = r.accounts()
	r.comp.Records = len(res.Accounts)
	if len(res.Accounts) == 0 {
		return finish(errors.New("entra: Graph listed no users at all, which no real tenant has: check that User.Read.All is an application permission with admin consent"))
	}
	st, _ := json.Marshal(state{DeltaLink: r.deltaLink})
	res.State = string(st)
	return finish(nil)
}

func (r *read) progress(stage string) {
	r.mu.Lock()
	r.comp.Pages++
	p := collectors.Progress{Source: "entra", Stage: stage, Pages: r.comp.Pages, Records: len(r.users), Retries: int(r.cnt.retries.Load()),
		Waited: time.Duration(r.cnt.waited.Load())}
	r.mu.Unlock()
	r.req.Report(p)
}

func (r *read) addPart(p collectors.Part) {
	r.mu.Lock()
	r.comp.AddPart(p)
	r.mu.Unlock()
}

func (r *read) warn(msg string) {
	r.req.Log().Warn("entra: " + msg)
	r.mu.Lock()
	r.comp.Warnings = append(r.comp.Warnings, msg)
	r.mu.Unlock()
}

// readApp reads the service principal's settings and app roles, who is
// assigned, and the members of every assigned group.
func (r *read) readApp(ctx context.Context) error {
	spID := r.c.cfg.ServicePrincipalID
	sp, err := r.client.ServicePrincipals().ByServicePrincipalId(spID).Get(ctx,
		&serviceprincipals.ServicePrincipalItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &serviceprincipals.ServicePrincipalItemRequestBuilderGetQueryParameters{
				Select: []string{"id", "appId", "displayName", "appRoles", "appRoleAssignmentRequired", "accountEnabled"}}})
	if err != nil {
		return r.c.explain(ctx, err, "/servicePrincipals", "reading Stonly's service principal", r.cnt)
	}
	r.progress("service principal")
	if err := r.policy(sp); err != nil {
		return err
	}
	for _, ar := range sp.GetAppRoles() {
		if ar.GetId() == nil {
			continue
		}
		v := str(ar.GetValue())
		if v == "" {
			v = str(ar.GetDisplayName())
		}
		r.roles[ar.GetId().String()] = v
	}
	top := int32(pageSize)
	asgb := r.client.ServicePrincipals().ByServicePrincipalId(spID).AppRoleAssignedTo()
	asg, err := asgb.Get(ctx, &serviceprincipals.ItemAppRoleAssignedToRequestBuilderGetRequestConfiguration{
		QueryParameters: &serviceprincipals.ItemAppRoleAssignedToRequestBuilderGetQueryParameters{Top: &top}})
	if err != nil {
		return r.c.explain(ctx, err, "/servicePrincipals", "reading the app's assignments", r.cnt)
	}
	_, err = walk(ctx, "/servicePrincipals/"+spID+"/appRoleAssignedTo", asg, func(ctx context.Context, link string) (models.AppRoleAssignmentCollectionResponseable, error) {
		return asgb.WithUrl(link).Get(ctx, nil)
	}, func(a models.AppRoleAssignmentable) string { return str(a.GetId()) }, func(a models.AppRoleAssignmentable) {
		r.assignments++
		if a.GetPrincipalId() == nil {
			return
		}
		role := ""
		if a.GetAppRoleId() != nil && a.GetAppRoleId().String() != defaultAccess {
			role = r.roles[a.GetAppRoleId().String()]
		}
		pid := a.GetPrincipalId().String()
		switch str(a.GetPrincipalType()) {
		case "User":
			r.direct[pid] = append(r.direct[pid], role)
		case "Group":
			if g, ok := r.groups[pid]; ok && role != "" {
				g.role = role
			} else if !ok {
				r.groups[pid] = &group{id: pid, name: str(a.GetPrincipalDisplayName()), role: role}
			}
		}
	}, func() { r.progress("assignments") })
	if err != nil {
		return r.c.explain(ctx, err, "/servicePrincipals", "reading the app's assignments", r.cnt)
	}
	r.addPart(collectors.Part{Kind: "list", ID: "app_role_assignments", Name: "assignments of service principal " + str(sp.GetDisplayName()), Records: r.assignments,
		Fix: "grant Application.Read.All (application permission) with admin consent to application " + r.c.cfg.ClientID})
	var wg sync.WaitGroup
	errs := make([]error, 0)
	var emu sync.Mutex
	sem := make(chan struct{}, 4)
	for _, g := range r.groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				emu.Lock()
				errs = append(errs, r.c.explain(ctx, ctx.Err(), "/groups", "reading members of group "+g.name, r.cnt))
				emu.Unlock()
				return
			}
			defer func() { <-sem }()
			if err := r.readGroup(ctx, g); err != nil {
				emu.Lock()
				errs = append(errs, err)
				emu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	members := 0
	for _, g := range r.groups {
		members += len(g.direct)
	}
	r.addPart(collectors.Part{Kind: "list", ID: "group_members", Name: fmt.Sprintf("direct members of the %d assigned groups", len(r.groups)), Records: members,
		Fix: "grant GroupMember.Read.All (application permission) with admin consent to application " + r.c.cfg.ClientID})
	return nil
}

// policy records how the service principal lets users in. With
// appRoleAssignmentRequired false (Entra's default: "The default value is
// false. Not nullable", servicePrincipal resource type) every enabled user
// of the tenant can sign in, so Entra says who should have the app, never
// who should not (docs/RULES.md, Open access). accountEnabled false means "no
// users are able to sign in to this app, even if they're assigned to it"
// (same reference): worth a warning, since the assignments then grant
// nothing in fact.
func (r *read) policy(sp models.ServicePrincipalable) error {
	name, id := str(sp.GetDisplayName()), r.c.cfg.ServicePrincipalID
	required := sp.GetAppRoleAssignmentRequired()
	if required == nil {
		return &Error{Class: ClassService, What: "reading Stonly's service principal",
			Msg: fmt.Sprintf("Graph did not say whether service principal %s (%s) requires assignment (appRoleAssignmentRequired missing): whether Entra can say who should not have the app is unknown", name, id),
			Fix: "run again; if it persists, check that Application.Read.All is granted"}
	}
	p := collectors.AppPolicy{AppID: id, OpenAccess: !*required,
		Detail: fmt.Sprintf("appRoleAssignmentRequired is true on service principal %s (%s): only assigned users and groups can sign in", name, id)}
	if p.OpenAccess {
		p.Detail = fmt.Sprintf("appRoleAssignmentRequired is false on service principal %s (%s): every enabled user can sign in", name, id)
	}
	r.mu.Lock()
	r.policies = []collectors.AppPolicy{p}
	r.mu.Unlock()
	if e := sp.GetAccountEnabled(); e != nil && !*e {
		r.warn(fmt.Sprintf("service principal %s (%s) has accountEnabled false: sign-in to the app is disabled in Entra for everyone, assigned or not; its assignments are read as they stand", name, id))
	}
	return nil
}

func (r *read) readGroup(ctx context.Context, g *group) error {
	top := int32(pageSize)
	sel := []string{"id", "displayName"}
	gb := r.client.Groups().ByGroupId(g.id)
	direct, err := gb.Members().Get(ctx, &groups.ItemMembersRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.ItemMembersRequestBuilderGetQueryParameters{Select: sel, Top: &top}})
	if err != nil {
		return r.c.explain(ctx, err, "/groups", "reading members of group "+g.name, r.cnt)
	}
	if err := r.iterateMembers(ctx, "/groups/"+g.id+"/members", direct, func(ctx context.Context, link string) (models.DirectoryObjectCollectionResponseable, error) {
		return gb.Members().WithUrl(link).Get(ctx, nil)
	}, func(o models.DirectoryObjectable) {
		switch m := o.(type) {
		case models.Userable:
			g.direct = append(g.direct, str(m.GetId()))
		case models.Groupable:
			g.nestedGroups = append(g.nestedGroups, str(m.GetDisplayName()))
		}
	}); err != nil {
		return r.c.explain(ctx, err, "/groups", "reading members of group "+g.name, r.cnt)
	}
	if len(g.nestedGroups) == 0 {
		// No group nested in it: its transitive members are its direct ones.
		g.transitive = g.direct
		r.progress("group " + g.name)
		return nil
	}
	tr, err := gb.TransitiveMembers().Get(ctx, &groups.ItemTransitiveMembersRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.ItemTransitiveMembersRequestBuilderGetQueryParameters{Select: sel, Top: &top}})
	if err != nil {
		return r.c.explain(ctx, err, "/groups", "reading nested members of group "+g.name, r.cnt)
	}
	if err := r.iterateMembers(ctx, "/groups/"+g.id+"/transitiveMembers", tr, func(ctx context.Context, link string) (models.DirectoryObjectCollectionResponseable, error) {
		return gb.TransitiveMembers().WithUrl(link).Get(ctx, nil)
	}, func(o models.DirectoryObjectable) {
		if m, ok := o.(models.Userable); ok {
			g.transitive = append(g.transitive, str(m.GetId()))
		}
	}); err != nil {
		return r.c.explain(ctx, err, "/groups", "reading nested members of group "+g.name, r.cnt)
	}
	r.progress("group " + g.name)
	return nil
}

func (r *read) iterateMembers(ctx context.Context, list string, first models.DirectoryObjectCollectionResponseable,
	next func(context.Context, string) (models.DirectoryObjectCollectionResponseable, error), f func(models.DirectoryObjectable)) error {
	_, err := walk(ctx, list, first, next, func(o models.DirectoryObjectable) string { return str(o.GetId()) }, f, nil)
	return err
}

// assign applies the assignments to the users: a direct user assignment or
// direct membership of an assigned group grants; membership reached only
// through a nested group is recorded to explain, and grants nothing.
func (r *read) assign() {
	for uid, roles := range r.direct {
		a := r.users[uid]
		if a == nil {
			r.comp.Warnings = append(r.comp.Warnings, "an assignment names user "+uid+", who is not in the user list")
			continue
		}
		as := a.Assign("")
		as.InForce = true
		for _, role := range roles {
			via := "direct assignment"
			if role != "" {
				via += " (app role " + role + ")"
				as.Roles = append(as.Roles, role)
			} else {
				via += " (default access)"
			}
			as.Via = append(as.Via, via)
		}
	}
	gs := make([]*group, 0, len(r.groups))
	for _, g := range r.groups {
		gs = append(gs, g)
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].name < gs[j].name })
	for _, g := range gs {
		direct := map[string]bool{}
		for _, uid := range g.direct {
			direct[uid] = true
			a := r.users[uid]
			if a == nil {
				continue
			}
			as := a.Assign("")
			as.InForce = true
			a.Groups = append(a.Groups, g.name)
			via := "group " + g.name
			if g.role != "" {
				via += " (app role " + g.role + ")"
				as.Roles = append(as.Roles, g.role)
			} else {
				via += " (default access)"
			}
			as.Via = append(as.Via, via)
		}
		for _, uid := range g.transitive {
			if direct[uid] {
				continue
			}
			if a := r.users[uid]; a != nil {
				note := g.name + " (nested: through " + strings.Join(g.nestedGroups, ", ") + "; Entra does not extend app assignments to nested groups)"
				if !slices.Contains(a.NestedGroups, note) {
					a.NestedGroups = append(a.NestedGroups, note)
				}
			}
		}
	}
}

func (r *read) accounts() []collectors.Account {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]collectors.Account, 0, len(r.users))
	for _, a := range r.users {
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
