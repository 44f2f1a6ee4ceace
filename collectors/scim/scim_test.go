package scim

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/scim/scimtest"
)

// secretToken is distinctive so that a test can prove no error, detail or
// capture carries it.
const secretToken = "tok-3f9c1d7e-never-print-me"

type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

// start serves sc and builds a source reading it; mod adjusts the
// configuration. Retry waits are recorded, not spent.
func start(t *testing.T, sc *scimtest.Scenario, mod func(*Config)) (*scimtest.Server, *Collector, *waits) {
	t.Helper()
	sc.Token = secretToken
	srv := scimtest.New(sc)
	t.Cleanup(srv.Close)
	cfg := Config{App: "notion", URL: srv.URL, TokenEnv: "NOTION_SCIM_TOKEN", Roles: []string{"Member", "Admin", "Owner"}, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	env := collectors.Env{File: "idgraph.yaml", Getenv: func(k string) string {
		if k == "NOTION_SCIM_TOKEN" {
			return srv.Token
		}
		return ""
	}}
	c, err := NewCollector("notion", cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	w := &waits{}
	c.sleep = func(ctx context.Context, d time.Duration) error {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.d = append(w.d, d)
		return ctx.Err()
	}
	return srv, c, w
}

// listQueries returns the query strings of the /Users list requests.
func listQueries(srv *scimtest.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		if r.Method == http.MethodGet && r.Path == "/Users" {
			out = append(out, r.Query)
		}
	}
	return out
}

func TestInfo(t *testing.T) {
	_, c, _ := start(t, scimtest.DefaultScenario(), nil)
	got := c.Info()
	if got.Name != "notion" || got.Type != "scim" || got.Kind != collectors.KindApp || got.App != "notion" || got.Title != "Notion" ||
		!slices.Equal(got.Roles, []string{"Member", "Admin", "Owner"}) || got.Version != Version {
		t.Errorf("Info = %+v", got)
	}
}

func TestPagingToTheEnd(t *testing.T) {
	const users = 95
	tests := []struct {
		name       string
		maxResults int // the server's filter.maxResults
		pageSize   int
		faults     scimtest.Faults
		pages      int
		firstQuery string // the first list request's query
		retries    int
		waited     time.Duration
		warning    string
	}{
		{name: "pages of the size asked", pageSize: 10, pages: 10, firstQuery: "count=10&startIndex=1"},
		{name: "count capped by filter.maxResults", maxResults: 20, pageSize: 100, pages: 5, firstQuery: "count=20&startIndex=1"},
		{name: "server caps count silently", pageSize: 10, faults: scimtest.Faults{CapCount: 7}, pages: 14, firstQuery: "count=10&startIndex=1"},
		{name: "server ignores count and serves more", pageSize: 10, faults: scimtest.Faults{IgnoreCount: 25}, pages: 4,
			firstQuery: "count=10&startIndex=1", warning: "ignores count"},
		{name: "no ServiceProviderConfig", pageSize: 50, faults: scimtest.Faults{NoServiceProviderConfig: true}, pages: 2,
			firstQuery: "count=50&startIndex=1", warning: "no ServiceProviderConfig"},
		{name: "429 with Retry-After on page 3", pageSize: 10, faults: scimtest.Faults{RateLimitPage: 3, RetryAfter: "7"}, pages: 10,
			firstQuery: "count=10&startIndex=1", retries: 1, waited: 7 * time.Second},
		{name: "429 twice on page 2", pageSize: 10, faults: scimtest.Faults{RateLimitPage: 2, RateLimitTimes: 2, RetryAfter: "2"}, pages: 10,
			firstQuery: "count=10&startIndex=1", retries: 2, waited: 4 * time.Second},
		{name: "503 with Retry-After on page 2", pageSize: 10, faults: scimtest.Faults{UnavailablePage: 2, RetryAfter: "3"}, pages: 10,
			firstQuery: "count=10&startIndex=1", retries: 1, waited: 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := scimtest.Many(users)
			if tt.maxResults > 0 {
				sc.MaxResults = tt.maxResults
			}
			srv, c, w := start(t, sc, func(c *Config) { c.PageSize = tt.pageSize })
			srv.SetFaults(tt.faults)
			res, err := c.Collect(context.Background(), collectors.Request{})
			if err != nil {
				t.Fatalf("Collect: %v", err)
			}
			comp := res.Completeness
			if !comp.Complete || len(res.Accounts) != users || comp.Records != users {
				t.Fatalf("complete=%v accounts=%d records=%d errors=%v", comp.Complete, len(res.Accounts), comp.Records, comp.Errors)
			}
			ids := map[string]bool{}
			for _, a := range res.Accounts {
				ids[a.ID] = true
			}
			if len(ids) != users {
				t.Errorf("%d distinct ids, want %d", len(ids), users)
			}
			if comp.Pages != tt.pages {
				t.Errorf("pages = %d, want %d", comp.Pages, tt.pages)
			}
			if q := listQueries(srv); len(q) == 0 || q[0] != tt.firstQuery {
				t.Errorf("list queries = %v, want the first %q", q, tt.firstQuery)
			}
			if len(comp.Parts) != 1 || comp.Parts[0].ID != "users" || comp.Parts[0].Records != users || comp.Parts[0].Shown != users {
				t.Errorf("parts = %+v", comp.Parts)
			}
			if comp.Retries != tt.retries || comp.Waited != tt.waited {
				t.Errorf("retries=%d waited=%s, want %d and %s", comp.Retries, comp.Waited, tt.retries, tt.waited)
			}
			var sum time.Duration
			for _, d := range w.d {
				sum += d
			}
			if sum != tt.waited {
				t.Errorf("waits spent %v, want %s in all", w.d, tt.waited)
			}
			if got := strings.Join(comp.Warnings, "; "); (tt.warning == "") != (got == "") || !strings.Contains(got, tt.warning) {
				t.Errorf("warnings = %q, want one containing %q", got, tt.warning)
			}
		})
	}
}

func TestRetryAfterHTTPDate(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{"0", 0, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.v, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %s, %v; want %s, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}

func TestIncompleteReads(t *testing.T) {
	tests := []struct {
		name    string
		faults  scimtest.Faults
		mod     func(*Config)
		token   string // a token other than the server's
		want    string // in the error
		partial bool   // some users were read before it stopped
	}{
		{name: "the same page twice", faults: scimtest.Faults{RepeatPage: 2}, want: "served a page again", partial: true},
		{name: "a server that does not page", faults: scimtest.Faults{IgnoreStartIndex: true}, want: "does not page by startIndex", partial: true},
		{name: "totalResults changes mid-read", faults: scimtest.Faults{TotalDriftPage: 3, TotalDrift: 1}, want: "totalResults changed from 95 to 96", partial: true},
		{name: "500 on page 3", faults: scimtest.Faults{FailPage: 3}, want: "500 Internal Server Error", partial: true},
		{name: "502 on page 1", faults: scimtest.Faults{FailPage: 1, FailStatus: 502}, want: "502 Bad Gateway"},
		{name: "429 that never ends", faults: scimtest.Faults{RateLimitPage: 2, RateLimitTimes: -1}, want: "still answered after 4 retries", partial: true},
		{name: "503 that never ends", faults: scimtest.Faults{UnavailablePage: 2, UnavailableTimes: -1}, want: "503 Service Unavailable", partial: true},
		{name: "Retry-After too long", faults: scimtest.Faults{RateLimitPage: 1, RetryAfter: "3600"}, want: "asks to wait 1h0m0s"},
		{name: "an HTML page instead of JSON", faults: scimtest.Faults{BodyPage: 2}, want: "not a SCIM ListResponse (text/html", partial: true},
		{name: "JSON that is not a ListResponse", faults: scimtest.Faults{BodyPage: 1, Body: `{"users":[]}`, BodyType: "application/json"}, want: "not a SCIM ListResponse (application/json"},
		{name: "wrong token", token: "tok-wrong", want: "401 Unauthorized: The access token is invalid; the token in NOTION_SCIM_TOKEN was refused"},
		{name: "token expires mid-read", faults: scimtest.Faults{ExpireAfter: 3}, want: "401 Unauthorized: The access token expired; the token in NOTION_SCIM_TOKEN was refused", partial: true},
		{name: "token without the right", faults: scimtest.Faults{Forbidden: true}, want: "403 Forbidden"},
		{name: "slow server", faults: scimtest.Faults{Slow: 300 * time.Millisecond}, mod: func(c *Config) { c.Timeout = 100 * time.Millisecond },
			want: "no answer within 100ms (scim.timeout)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c, _ := start(t, scimtest.Many(95), func(c *Config) {
				c.PageSize = 10
				if tt.mod != nil {
					tt.mod(c)
				}
			})
			if tt.token != "" {
				c.token = tt.token
			}
			srv.SetFaults(tt.faults)
			res, err := c.Collect(context.Background(), collectors.Request{})
			if err == nil {
				t.Fatal("Collect succeeded")
			}
			comp := res.Completeness
			if comp.Complete {
				t.Error("complete despite the error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if len(comp.Errors) == 0 || !strings.HasPrefix(comp.Errors[0], "notion: ") {
				t.Errorf("errors = %q, want the source named", comp.Errors)
			}
			if strings.Contains(err.Error()+strings.Join(comp.Errors, ""), secretToken) {
				t.Error("the token appears in an error")
			}
			if tt.partial != (len(res.Accounts) > 0) {
				t.Errorf("%d accounts returned; partial = %v", len(res.Accounts), tt.partial)
			}
			// A read that failed before the list has no part to show; one
			// that failed on the way never shows the part read whole.
			if len(comp.Parts) > 1 || len(comp.Parts) == 1 && comp.Parts[0].Records == comp.Parts[0].Shown {
				t.Errorf("parts = %+v: a part read whole", comp.Parts)
			}
		})
	}
}

func TestTokenNeverLeaks(t *testing.T) {
	for _, f := range []scimtest.Faults{{EchoToken: true, ExpireAfter: 2}, {EchoToken: true, FailPage: 2}} {
		srv, c, _ := start(t, scimtest.Many(30), func(c *Config) { c.PageSize = 10 })
		srv.SetFaults(f)
		var logs bytes.Buffer
		res, err := c.Collect(context.Background(), collectors.Request{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err == nil {
			t.Fatal("Collect succeeded")
		}
		out := err.Error() + strings.Join(res.Completeness.Errors, "") + logs.String()
		if strings.Contains(out, secretToken) || !strings.Contains(out, "[redacted]") {
			t.Errorf("the server echoed the token; idgraph must redact it: %s", out)
		}
		checks := c.Check(context.Background())
		for _, ch := range checks {
			if strings.Contains(ch.Detail+ch.Fix, secretToken) {
				t.Errorf("check %s shows the token", ch.Name)
			}
		}
	}
}

func TestBadUserMakesIncomplete(t *testing.T) {
	sc := scimtest.DefaultScenario()
	srv, c, _ := start(t, sc, nil)
	srv.SetFaults(scimtest.Faults{BodyPage: 1, BodyType: "application/scim+json",
		Body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":2,"startIndex":1,"itemsPerPage":2,` +
			`"Resources":[{"id":"u-1","userName":"a@acme.com","active":true},{"id":"u-2","userName":"b@acme.com","active":"maybe"}]}`})
	res, err := c.Collect(context.Background(), collectors.Request{})
	if err == nil || res.Completeness.Complete {
		t.Fatalf("err=%v complete=%v", err, res.Completeness.Complete)
	}
	if len(res.Accounts) != 1 || !strings.Contains(err.Error(), "active is \"maybe\"") {
		t.Errorf("accounts=%d err=%v", len(res.Accounts), err)
	}
}

func TestActiveAsString(t *testing.T) {
	// Some servers send active as "True"/"False" (strings, not booleans).
	srv, c, _ := start(t, scimtest.DefaultScenario(), nil)
	srv.SetFaults(scimtest.Faults{BodyPage: 1, BodyType: "application/scim+json",
		Body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":3,"itemsPerPage":3,"startIndex":1,` +
			`"Resources":[{"id":"1","userName":"a@acme.com","active":"True"},{"id":"2","userName":"b@acme.com","active":"False"},{"id":"3","userName":"c@acme.com"}]}`})
	res, err := c.Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	got := byID(res.Accounts)
	if got["1"].Status != collectors.StatusActive || got["2"].Status != collectors.StatusInactive || got["3"].Status != collectors.StatusActive ||
		got["3"].RawStatus != "active absent" || got["1"].Email != "a@acme.com" {
		t.Errorf("accounts = %+v", res.Accounts)
	}
}

func byID(accounts []collectors.Account) map[string]collectors.Account {
	m := map[string]collectors.Account{}
	for _, a := range accounts {
		m[a.ID] = a
	}
	return m
}

func TestMapping(t *testing.T) {
	_, c, _ := start(t, scimtest.DefaultScenario(), nil)
	res, err := c.Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	got := byID(res.Accounts)
	ada := got["u-ada"]
	if ada.Source != "notion" || ada.Team != "" || ada.Email != "ada@acme.com" || ada.DisplayName != "Ada Lovelace" ||
		ada.EmployeeID != "1001" || ada.Status != collectors.StatusActive || ada.RawStatus != "active=true" || ada.Role != "Admin" {
		t.Errorf("ada = %+v", ada)
	}
	// The primary address first; externalId 00u-ada is no address.
	wantAddr := []collectors.Address{{Field: "emails", Value: "ada@acme.com"}, {Field: "emails", Value: "ada.lovelace@acme.com"}}
	if !slices.Equal(ada.Addresses, wantAddr) {
		t.Errorf("ada's addresses = %v, want %v (primary first)", ada.Addresses, wantAddr)
	}
	if !slices.Equal(ada.Groups, []string{"Admin", "Engineering"}) {
		t.Errorf("ada's groups = %v", ada.Groups)
	}
	if cy := got["u-cy"]; cy.DisplayName != "Cy Twombly" || cy.Role != "Member" {
		t.Errorf("cy = %+v (name.formatted, primary role)", cy)
	}
	if dee := got["u-dee"]; dee.Status != collectors.StatusInactive || dee.RawStatus != "active=false" {
		t.Errorf("dee = %+v: an inactive SCIM user is not a member", dee)
	}
	if bob := got["u-bob"]; bob.Role != "Member" {
		t.Errorf("bob's role = %q (the only value, not primary)", bob.Role)
	}
}

func TestRoleAttribute(t *testing.T) {
	tests := []struct {
		attr string
		want map[string]string // id -> role
	}{
		{"", map[string]string{"u-ada": "Admin", "u-bob": "Member", "u-bot": "Owner"}},
		{"roles", map[string]string{"u-ada": "Admin", "u-bob": "Member"}},
		{"entitlements", map[string]string{"u-ada": "Admin", "u-bob": "Member", "u-bot": ""}},
		{"groups", map[string]string{"u-ada": "Admin", "u-bob": "Member", "u-bot": "Owner"}},
		{"title", map[string]string{"u-ada": "Admin", "u-bob": ""}},
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", map[string]string{"u-ada": "Admin", "u-bob": "Member", "u-cy": "Member"}},
		{"urn:ietf:params:scim:schemas:core:2.0:User:title", map[string]string{"u-ada": "Admin"}},
	}
	for _, tt := range tests {
		t.Run(tt.attr, func(t *testing.T) {
			_, c, _ := start(t, scimtest.DefaultScenario(), func(c *Config) { c.RoleAttribute = tt.attr })
			res, err := c.Collect(context.Background(), collectors.Request{})
			if err != nil {
				t.Fatal(err)
			}
			got := byID(res.Accounts)
			for id, want := range tt.want {
				if got[id].Role != want {
					t.Errorf("%s: role %q, want %q", id, got[id].Role, want)
				}
			}
		})
	}
}

func TestRoleSpellingAndUnknownRoles(t *testing.T) {
	sc := scimtest.DefaultScenario()
	sc.Users[2].Roles = []scimtest.MultiValue{{Value: "admin"}}                                      // bob: lower case
	sc.Users[3].Roles = []scimtest.MultiValue{{Value: "Guest"}, {Value: "Viewer"}}                   // cy: off the ladder
	sc.Users[1].Roles = []scimtest.MultiValue{{Value: "Member"}, {Value: "Owner"}, {Value: "Admin"}} // ada: no primary
	_, c, _ := start(t, sc, nil)
	res, err := c.Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	got := byID(res.Accounts)
	for id, want := range map[string]string{"u-bob": "Admin", "u-cy": "Guest", "u-ada": "Owner"} {
		if got[id].Role != want {
			t.Errorf("%s: role %q, want %q", id, got[id].Role, want)
		}
	}
}

func TestCheck(t *testing.T) {
	t.Run("healthy", func(t *testing.T) {
		_, c, _ := start(t, scimtest.DefaultScenario(), nil)
		checks := c.Check(context.Background())
		if len(checks) != 3 {
			t.Fatalf("checks = %+v", checks)
		}
		for _, ch := range checks {
			if !ch.OK {
				t.Errorf("%s failed: %s", ch.Name, ch.Detail)
			}
		}
		if !strings.Contains(checks[0].Detail, "at most 100 results per page") || !strings.Contains(checks[1].Detail, "reports 5 users") ||
			!strings.Contains(checks[2].Detail, "it-bot@acme.com") {
			t.Errorf("details: %q / %q / %q", checks[0].Detail, checks[1].Detail, checks[2].Detail)
		}
	})
	t.Run("refused token", func(t *testing.T) {
		_, c, _ := start(t, scimtest.DefaultScenario(), nil)
		c.token = "tok-wrong"
		checks := c.Check(context.Background())
		last := checks[len(checks)-1]
		if last.OK || !strings.Contains(last.Detail, "401") || !strings.Contains(last.Fix, "NOTION_SCIM_TOKEN") {
			t.Errorf("checks = %+v", checks)
		}
	})
	t.Run("no /Me", func(t *testing.T) {
		sc := scimtest.DefaultScenario()
		sc.Me = ""
		_, c, _ := start(t, sc, nil)
		checks := c.Check(context.Background())
		if len(checks) != 3 || !checks[2].OK || !strings.Contains(checks[2].Detail, "/Me not supported") {
			t.Errorf("checks = %+v", checks)
		}
	})
	t.Run("expired token after the config", func(t *testing.T) {
		srv, c, _ := start(t, scimtest.DefaultScenario(), nil)
		srv.SetFaults(scimtest.Faults{ExpireAfter: 1})
		checks := c.Check(context.Background())
		if len(checks) != 2 || !checks[0].OK || checks[1].OK || !strings.Contains(checks[1].Detail, "expired") {
			t.Errorf("checks = %+v", checks)
		}
	})
}
