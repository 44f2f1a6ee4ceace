// Package entra reads users, the app roles and assignments of one or more
// enterprise applications, and the members of assigned groups from
// Microsoft Entra ID through Microsoft Graph, with the official SDK
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
//	  # or, for several applications (not both): name -> service principal object id
//	  # apps: {stonly: 00000000-0000-0000-0000-000000000000, notion: 00000000-0000-0000-0000-000000000000}
//	  graph_url: https://graph.microsoft.com/v1.0                   # optional
//	  token_url: https://login.microsoftonline.com/TENANT/oauth2/v2.0/token  # optional
//	  ca_file: ""              # extra CA certificates (PEM), e.g. a TLS-inspecting proxy
//	  delta: true              # read users incrementally through users/delta
//	  managers: true           # each user's manager ($expand=manager: list pages of 100 instead of 999)
//	  max_retry_wait: 2m       # total waiting for throttled requests (429, 503, 504) allowed in one read
//	  request_timeout: 2m      # one request's limit
//
// entra: may also be a list of such mappings, each with a name, one source
// per tenant (two tenants after an acquisition); the name is the source's.
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
//     (readApp, policy), one per application;
//   - users/delta items carry only the changed properties and are merged
//     into the previous snapshot's users; @removed takes a user out
//     (delta.go);
//   - a delta link Graph no longer accepts (410 Gone, syncStateNotFound,
//     resyncRequired) or that names another graph_url leads to a full read
//     in the same run, with a warning saying why (readUsers, isResync);
//   - each user's manager comes from $expand=manager on the full read and
//     from manager@delta on delta runs (managers.go);
//   - throttling is retried by kiota, and its real waits are held to
//     max_retry_wait (retry.go);
//   - paging that goes in a circle stops the read, and a cancelled context
//     stops it before the next page (pages.go);
//   - failures say whether the network, TLS, DNS, the credentials or a
//     permission is at fault, with the fix for that (errors.go).
//
// Files: entra.go (Collect and the read it drives), config.go (the
// configuration and its validation), client.go (the Graph client:
// credential, middleware, allowed hosts), apps.go (service principals,
// their assignments, open access), groups.go (members of assigned groups),
// users.go (users and the full read), lean.go (user pages decoded without
// the SDK's models), userset.go (the users of a read), managers.go (the
// manager relationship), delta.go (the state kept between runs and
// users/delta()), pages.go (paging), retry.go (throttling), errors.go
// (failures explained), check.go (doctor).
package entra

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"sync"
	"time"

	msgraph "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"github.com/idgraph/idgraph/collectors"
)

// Version is recorded in evidence manifests.
const Version = "entra/1 (msgraph-sdk-go v1.89.0)"

// UserFields are exactly the user properties idgraph needs; the default
// property set lacks accountEnabled, userType, otherMails, proxyAddresses
// and employeeId.
var UserFields = []string{"id", "displayName", "userPrincipalName", "mail", "otherMails", "proxyAddresses", "accountEnabled", "userType", "employeeId"}

const pageSize = 999 // Graph's maximum $top

// read is one collection's state.
type read struct {
	c      *Collector
	req    collectors.Request
	client *msgraph.GraphServiceClient
	cnt    *counter
	mu     sync.Mutex
	comp   *collectors.Completeness

	users     *userSet
	mgr       managerOf // touched only by the users' read, then resolved
	deltaLink string
	apps      []*app            // in the order of their names
	groups    map[string]*group // every group an application is assigned to, by id
}

// Collect reads the tenant.
func (c *Collector) Collect(ctx context.Context, req collectors.Request) (*collectors.Result, error) {
	start := time.Now()
	r := &read{c: c, req: req, cnt: &counter{}, users: newUserSet(sizeHint(req)), groups: map[string]*group{}, mgr: newManagerOf(),
		comp: &collectors.Completeness{Source: c.name, Kind: collectors.KindIdP, Started: start, Complete: true, Mode: "full"}}
	for _, ref := range c.apps {
		r.apps = append(r.apps, newApp(ref))
	}
	res := &collectors.Result{}
	finish := func(err error) (*collectors.Result, error) {
		r.comp.Requests = int(r.cnt.requests.Load())
		r.comp.Retries = int(r.cnt.retries.Load())
		r.comp.Waited = time.Duration(r.cnt.waited.Load())
		r.comp.Duration = time.Since(start)
		sort.Slice(r.comp.Parts, func(i, j int) bool { return r.comp.Parts[i].ID < r.comp.Parts[j].ID })
		for _, a := range r.apps {
			if a.policy.AppID != "" {
				res.Policies = append(res.Policies, a.policy)
			}
		}
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
	go func() { defer wg.Done(); appErr = r.readApps(ctx) }()
	wg.Wait()
	r.resolveManagers()
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
	st, _ := json.Marshal(state{DeltaLink: r.deltaLink, Manager: c.managers()})
	res.State = string(st)
	return finish(nil)
}

func (r *read) progress(stage string) {
	r.mu.Lock()
	r.comp.Pages++
	p := collectors.Progress{Source: r.c.name, Stage: stage, Pages: r.comp.Pages, Records: r.users.len(), Retries: int(r.cnt.retries.Load()),
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
	r.req.Log().Warn(r.c.name + ": " + msg)
	r.mu.Lock()
	r.comp.Warnings = append(r.comp.Warnings, msg)
	r.mu.Unlock()
}

// accounts returns the users read, by id; the read holds them no longer.
func (r *read) accounts() []collectors.Account {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.users.sorted()
}

// sizeHint guesses how many users a read will hold: the previous
// snapshot's, when there is one.
func sizeHint(req collectors.Request) int {
	if req.Previous != nil {
		return len(req.Previous.Accounts) + len(req.Previous.Accounts)/50
	}
	return 0
}
