// Package scim is a source that reads an application's accounts through
// its SCIM 2.0 API (RFC 7643, the schema; RFC 7644, the protocol) and can
// change them (collectors.Actor): many SaaS applications serve SCIM for
// identity providers to provision into, and the same endpoints tell who
// holds an account and with which role.
//
// Configuration (one mapping, or a list of mappings each with a name):
//
//	scim:
//	  app: notion                          # the application's short name
//	  title: Notion                        # default: app capitalised
//	  url: https://api.notion.com/scim/v2  # the SCIM base URL
//	  token_env: NOTION_SCIM_TOKEN         # env var holding the bearer token
//	  roles: [Member, Admin, Owner]        # the role ladder, lowest first
//	  role_attribute: roles                # roles | entitlements | groups | title | urn:…:User:attr
//	  page_size: 100                       # count asked per page (server caps it)
//	  delete_on_remove: false              # remove = PATCH active=false; true: DELETE
//	  timeout: 1m                          # per request
//
// A read asks ServiceProviderConfig for the server's limits (RFC 7643 §5),
// then pages /Users with startIndex and count (RFC 7644 §3.4.2.4) until
// totalResults users are read. A server may cap count or ignore it, so the
// next startIndex follows the number of users actually returned; a page
// that repeats users, a startIndex other than asked, an empty page before
// the end or a totalResults that changes while reading makes the read
// incomplete, as do an answer that is not a SCIM ListResponse, a refused
// token, 5xx answers and timeouts. 429 and 503 answers are retried after
// the Retry-After they name, a bounded number of times.
package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/idgraph/idgraph/collectors"
)

// Version is recorded in evidence manifests.
const Version = "scim/1"

// Collector reads (and changes) one SCIM application.
type Collector struct {
	name  string
	cfg   Config
	token string
	role  roleAttr
	hc    *http.Client
	// sleep waits between retries; tests replace it to count the waits
	// instead of spending them.
	sleep func(context.Context, time.Duration) error
}

// Info describes the source.
func (c *Collector) Info() collectors.Info {
	return collectors.Info{Name: c.name, Type: "scim", Kind: collectors.KindApp, App: c.cfg.App, Title: c.cfg.Title,
		Roles: append([]string(nil), c.cfg.Roles...), Version: Version}
}

// providerConfig is what idgraph uses of ServiceProviderConfig (RFC 7643
// §5).
type providerConfig struct {
	Schemas []string `json:"schemas"`
	Patch   struct {
		Supported bool `json:"supported"`
	} `json:"patch"`
	Bulk struct {
		Supported     bool `json:"supported"`
		MaxOperations int  `json:"maxOperations"`
	} `json:"bulk"`
	Filter struct {
		Supported  bool `json:"supported"`
		MaxResults int  `json:"maxResults"`
	} `json:"filter"`
}

func (p *providerConfig) String() string {
	s := "patch " + supported(p.Patch.Supported) + ", bulk " + supported(p.Bulk.Supported) + ", filter " + supported(p.Filter.Supported)
	if p.Filter.MaxResults > 0 {
		s += fmt.Sprintf(", at most %d results per page", p.Filter.MaxResults)
	}
	return s
}

func supported(b bool) string {
	if b {
		return "supported"
	}
	return "not supported"
}

// errNoProviderConfig: the server does not serve ServiceProviderConfig.
// RFC 7644 §4 defines it for every service provider, but a read can go
// on without it.
var errNoProviderConfig = errors.New("no ServiceProviderConfig")

func (c *Collector) providerConfig(ctx context.Context, n *counters) (*providerConfig, error) {
	const path = "/ServiceProviderConfig"
	r, err := c.do(ctx, n, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, err
	}
	switch {
	case r.Status == http.StatusNotFound || r.Status == http.StatusNotImplemented:
		return nil, fmt.Errorf("%w: GET %s answered %d", errNoProviderConfig, path, r.Status)
	case r.Status != http.StatusOK:
		return nil, c.httpError(http.MethodGet, path, r)
	}
	var p providerConfig
	if err := json.Unmarshal(r.Body, &p); err != nil {
		return nil, fmt.Errorf("GET %s: the answer is not SCIM JSON (%s); check scim.url", path, describe(r))
	}
	return &p, nil
}

// page is a ListResponse (RFC 7644 §3.4.2).
type page struct {
	Schemas      []string          `json:"schemas"`
	TotalResults *int              `json:"totalResults"`
	StartIndex   int               `json:"startIndex"`
	ItemsPerPage int               `json:"itemsPerPage"`
	Resources    []json.RawMessage `json:"Resources"`
}

// listPage reads one page of /Users.
func (c *Collector) listPage(ctx context.Context, n *counters, start, count int) (*page, error) {
	q := url.Values{"startIndex": {strconv.Itoa(start)}, "count": {strconv.Itoa(count)}}
	shown := "/Users?" + q.Encode()
	r, err := c.do(ctx, n, http.MethodGet, "/Users", q, nil)
	if err != nil {
		return nil, err
	}
	if r.Status != http.StatusOK {
		return nil, c.httpError(http.MethodGet, shown, r)
	}
	var p page
	if err := json.Unmarshal(r.Body, &p); err != nil || p.TotalResults == nil {
		return nil, fmt.Errorf("GET %s: the answer is not a SCIM ListResponse (%s); a proxy or sign-in page may stand in front of the API: check scim.url", shown, describe(r))
	}
	if len(p.Schemas) > 0 && !contains(p.Schemas, listResponseURN) {
		return nil, fmt.Errorf("GET %s: the answer's schemas %v do not name %s", shown, p.Schemas, listResponseURN)
	}
	return &p, nil
}

// Collect reads every user.
func (c *Collector) Collect(ctx context.Context, req collectors.Request) (*collectors.Result, error) {
	start := time.Now()
	res := &collectors.Result{Completeness: collectors.Completeness{
		Source: c.name, Kind: collectors.KindApp, Started: start, Mode: "full"}}
	comp := &res.Completeness
	var n counters
	defer func() {
		comp.Requests, comp.Retries, comp.Waited = n.Requests, n.Retries, n.Waited
		comp.Duration = time.Since(start)
	}()
	fail := func(err error) (*collectors.Result, error) {
		err = fmt.Errorf("%s: %s", c.name, c.redact(err))
		comp.Fail(err)
		req.Log().Warn("scim: read incomplete", "source", c.name, "error", err)
		return res, err
	}

	size := c.cfg.PageSize
	pc, err := c.providerConfig(ctx, &n)
	switch {
	case errors.Is(err, errNoProviderConfig):
		comp.Warnings = append(comp.Warnings, fmt.Sprintf("%v; paging with count=%d", err, size))
	case err != nil:
		return fail(err)
	case pc.Filter.MaxResults > 0 && pc.Filter.MaxResults < size:
		// filter.maxResults is "the maximum number of resources returned
		// in a response" (RFC 7643 §5): asking for more is pointless.
		size = pc.Filter.MaxResults
	}

	accounts, total, err := c.readUsers(ctx, req, &n, comp, size)
	res.Accounts = accounts
	comp.Records = len(accounts)
	if total >= 0 {
		// Without a first page there is no total to show: no part, rather
		// than one that reads as "0 of 0 users".
		comp.AddPart(collectors.Part{Kind: "list", ID: "users", Name: c.cfg.Title + " users", Records: len(accounts), Shown: total,
			Fix: fmt.Sprintf("check that the token in %s still reads every user of %s (GET %s/Users)", c.cfg.TokenEnv, c.cfg.Title, c.cfg.URL)})
	}
	if err != nil {
		return fail(err)
	}
	comp.Complete = len(comp.Errors) == 0
	if !comp.Complete {
		return res, fmt.Errorf("%s: %d users could not be read (first: %s)", c.name, len(comp.Errors), comp.Errors[0])
	}
	req.Log().Info("scim: read users", "source", c.name, "users", len(accounts), "pages", comp.Pages, "retries", n.Retries)
	return res, nil
}

// readUsers pages /Users to the end. It returns the accounts read, the
// totalResults of the first page (-1 when none came) and why it stopped
// early. Resources it cannot map are recorded in comp.Errors and the read
// goes on.
func (c *Collector) readUsers(ctx context.Context, req collectors.Request, n *counters, comp *collectors.Completeness, size int) ([]collectors.Account, int, error) {
	var out []collectors.Account
	seen := map[string]int{} // id -> startIndex of the page that held it
	total, start, warned := -1, 1, false
	for {
		p, err := c.listPage(ctx, n, start, size)
		if err != nil {
			return out, total, err
		}
		comp.Pages++
		shown := fmt.Sprintf("GET /Users?count=%d&startIndex=%d", size, start)
		switch {
		case total < 0:
			total = *p.TotalResults
		case *p.TotalResults != total:
			// RFC 7644 §3.4.2.4: pagination is not session-based; users
			// created or deleted while paging shift every later page, so
			// what was read cannot be trusted to be each user once.
			return out, total, fmt.Errorf("%s: totalResults changed from %d to %d while reading: users were added or removed meanwhile; run again", shown, total, *p.TotalResults)
		}
		if p.StartIndex != 0 && p.StartIndex != start {
			return out, total, fmt.Errorf("%s: the server answered startIndex %d: it does not page by startIndex (RFC 7644 §3.4.2.4), so users past the first page cannot be read", shown, p.StartIndex)
		}
		if len(p.Resources) > size && !warned {
			warned = true
			comp.Warnings = append(comp.Warnings, fmt.Sprintf("%s returned %d users: the server ignores count; paging by the number returned", shown, len(p.Resources)))
		}
		for i, raw := range p.Resources {
			a, err := c.account(raw)
			if err != nil {
				comp.Errors = append(comp.Errors, fmt.Sprintf("%s: user %d of the page: %s", shown, i+1, c.redact(err)))
				continue
			}
			if first, dup := seen[a.ID]; dup {
				return out, total, fmt.Errorf("%s: user %s was already on the page at startIndex %d: the server served a page again; run again", shown, a.ID, first)
			}
			seen[a.ID] = start
			out = append(out, a)
		}
		read := start - 1 + len(p.Resources)
		req.Report(collectors.Progress{Source: c.name, Stage: "users", Pages: comp.Pages, Records: len(out), Retries: n.Retries, Waited: n.Waited})
		switch {
		case read > total:
			return out, total, fmt.Errorf("%s: %d users read, more than the totalResults of %d", shown, read, total)
		case read == total:
			return out, total, nil
		case len(p.Resources) == 0:
			return out, total, fmt.Errorf("%s: an empty page after %d of %d users", shown, read, total)
		}
		start = read + 1
	}
}
