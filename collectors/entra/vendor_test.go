package entra

// Tests of the behaviours of the real Graph and Entra that idgraph must
// survive (issue 15, issue 14 item 5, issue 19), each through
// msgraph-sdk-go against graphtest switched into that behaviour.

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/entra/graphtest"
)

func part(c collectors.Completeness, id string) (collectors.Part, bool) {
	for _, p := range c.Parts {
		if p.ID == id {
			return p, true
		}
	}
	return collectors.Part{}, false
}

func hasWarning(c collectors.Completeness, sub string) bool {
	for _, w := range c.Warnings {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

// TestOpenAccess: appRoleAssignmentRequired false on the service principal
// (Entra's default for many apps) is reported as an open-access policy;
// accountEnabled false as a source warning.
func TestOpenAccess(t *testing.T) {
	for _, tt := range []struct {
		name    string
		variant graphtest.Variant
		open    bool
		detail  string
		warning string
	}{
		{"assignment required (simulator default)", graphtest.Variant{}, false, "appRoleAssignmentRequired is true on service principal Stonly (", ""},
		{"assignment not required", graphtest.Variant{AssignmentNotRequired: true}, true,
			"appRoleAssignmentRequired is false on service principal Stonly (" + graphtest.GUID(3, 1) + "): every enabled user can sign in", ""},
		{"sign-in disabled for the app", graphtest.Variant{ServicePrincipalDisabled: true}, false, "appRoleAssignmentRequired is true", "accountEnabled false"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := graphtest.Generate(300, 50)
			srv, c := start(t, sc)
			srv.SetVariant(tt.variant)
			res, err := c.Collect(context.Background(), collectors.Request{})
			if err != nil || !res.Completeness.Complete || len(res.Accounts) != 300 {
				t.Fatalf("err %v complete %v accounts %d", err, res.Completeness.Complete, len(res.Accounts))
			}
			if len(res.Policies) != 1 {
				t.Fatalf("policies %+v, want one", res.Policies)
			}
			p := res.Policies[0]
			if p.AppID != sc.SPID || p.OpenAccess != tt.open || !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("policy %+v, want open %v and detail %q", p, tt.open, tt.detail)
			}
			if tt.warning != "" && !hasWarning(res.Completeness, tt.warning) {
				t.Errorf("warnings %v, want one saying %q", res.Completeness.Warnings, tt.warning)
			}
			if tt.warning == "" && len(res.Completeness.Warnings) != 0 {
				t.Errorf("unexpected warnings %v", res.Completeness.Warnings)
			}
			// The assignments still say who should have the app.
			if a := byUPN(res.Accounts)["user0000000@acme.com"]; !a.AssignedTo("") {
				t.Errorf("the direct assignment must still be read: %+v", a)
			}
			// doctor shows the settings without failing on them.
			shown := map[string]string{}
			for _, ch := range c.Check(context.Background()) {
				if !ch.OK {
					t.Errorf("doctor fails on a tenant setting: %+v", ch)
				}
				shown[ch.Name] = ch.Detail
			}
			if got := strings.Contains(shown["assignment required"], "appRoleAssignmentRequired is false"); got != tt.open {
				t.Errorf("doctor's assignment line %q, open access %v", shown["assignment required"], tt.open)
			}
			if _, got := shown["sign-in enabled"]; got != tt.variant.ServicePrincipalDisabled {
				t.Errorf("doctor's sign-in line: %v, want %v", shown, tt.variant.ServicePrincipalDisabled)
			}
		})
	}
}

// TestDeltaMergesPartialItems: a tracked delta round carries only id and
// the changed properties (return=minimal, and the PartialDeltaItems variant
// that gives such items whatever the client asks); each is merged into the
// user's previous state.
func TestDeltaMergesPartialItems(t *testing.T) {
	for _, variant := range []graphtest.Variant{{}, {PartialDeltaItems: true}} {
		t.Run(map[bool]string{false: "return=minimal", true: "partial items variant"}[variant.PartialDeltaItems], func(t *testing.T) {
			sc := graphtest.Generate(1200, 300)
			srv, c := start(t, sc)
			srv.SetVariant(variant)
			first, err := c.Collect(context.Background(), collectors.Request{})
			if err != nil {
				t.Fatal(err)
			}
			before := byUPN(first.Accounts)
			g := graphtest.GUID
			srv.ChangeUser(g(7, 42), func(u *graphtest.User) { u.AccountEnabled = false })
			srv.ChangeUser(g(7, 44), func(u *graphtest.User) { u.Mail = "" })                                        // cleared: null in the item
			srv.ChangeUser(g(7, 50), func(u *graphtest.User) { u.ProxyAddresses = []string{"SMTP:new50@acme.com"} }) // replaced
			srv.ChangeUser(g(7, 52), func(u *graphtest.User) { u.JobTitle = "Chief" })                               // not selected: no item
			srv.DeleteUser(g(7, 43))                                                                                 // @removed reason changed
			srv.PurgeUser(g(7, 45))                                                                                  // @removed reason deleted
			srv.AddUser(graphtest.User{ID: g(7, 5000), DisplayName: "New Hire", UserPrincipalName: "newhire@acme.com", Mail: "newhire@acme.com", AccountEnabled: true})
			srv.ResetStats()
			second, err := c.Collect(context.Background(), collectors.Request{Previous: &collectors.Previous{State: first.State, Accounts: first.Accounts}})
			if err != nil || second.Completeness.Mode != "delta" || !second.Completeness.Complete {
				t.Fatalf("err %v %+v", err, second.Completeness)
			}
			if n := srv.Stats().Requests["GET /v1.0/users"]; n != 0 {
				t.Fatalf("%d full list requests on a delta run", n)
			}
			m := byUPN(second.Accounts)
			u42 := m["user0000042@acme.com"]
			if u42.Status != collectors.StatusInactive || u42.Email != "user0000042@acme.com" || len(u42.Addresses) != len(before["user0000042@acme.com"].Addresses) ||
				u42.EmployeeID != "E0000042" || u42.DisplayName != "User 42" {
				t.Errorf("a user whose accountEnabled changed must keep everything else: %+v", u42)
			}
			u44 := m["user0000044@acme.com"]
			for _, a := range u44.Addresses {
				if a.Field == "mail" {
					t.Errorf("a mail cleared in Entra must be cleared: %+v", u44.Addresses)
				}
			}
			if u44.Email != "user0000044@acme.com" || u44.Status != collectors.StatusActive {
				t.Errorf("user 44: %+v", u44)
			}
			var proxies []string
			for _, a := range m["user0000050@acme.com"].Addresses {
				if a.Field == "proxyAddresses" {
					proxies = append(proxies, a.Value)
				}
			}
			if len(proxies) != 1 || proxies[0] != "SMTP:new50@acme.com" {
				t.Errorf("proxyAddresses of user 50: %v", proxies)
			}
			for _, gone := range []string{"user0000043@acme.com", "user0000045@acme.com"} {
				if _, ok := m[gone]; ok {
					t.Errorf("%s was removed (reason changed or deleted) but is still listed", gone)
				}
			}
			if nh := m["newhire@acme.com"]; nh.Status != collectors.StatusActive || nh.Email != "newhire@acme.com" {
				t.Errorf("new user: %+v", nh)
			}
			if len(second.Accounts) != 1200-2+1 {
				t.Errorf("%d accounts, want %d", len(second.Accounts), 1200-2+1)
			}
			if p, ok := part(second.Completeness, "users"); !ok || p.Records != len(second.Accounts) {
				t.Errorf("users part %+v: in delta mode its records are the merged total %d", p, len(second.Accounts))
			}
		})
	}
}

// TestDeltaReadsUnknownPartialUser: an item for a user the previous
// snapshot does not hold, without the properties that say who it is, is
// read on its own instead of becoming an account without addresses.
func TestDeltaReadsUnknownPartialUser(t *testing.T) {
	sc := graphtest.Generate(400, 100)
	srv, c := start(t, sc)
	first, err := c.Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	id := graphtest.GUID(7, 46)
	var prevAccounts []collectors.Account
	for _, a := range first.Accounts {
		if a.ID != id {
			prevAccounts = append(prevAccounts, a)
		}
	}
	srv.ChangeUser(id, func(u *graphtest.User) { u.DisplayName = "Renamed" })
	srv.ResetStats()
	second, err := c.Collect(context.Background(), collectors.Request{Previous: &collectors.Previous{State: first.State, Accounts: prevAccounts}})
	if err != nil || second.Completeness.Mode != "delta" {
		t.Fatalf("err %v %+v", err, second.Completeness)
	}
	a := byUPN(second.Accounts)["user0000046@acme.com"]
	if a.DisplayName != "Renamed" || a.Status != collectors.StatusActive || len(a.Addresses) < 2 {
		t.Errorf("user read on its own: %+v", a)
	}
	if n := srv.Stats().Requests["GET /v1.0/users/{id}"]; n != 1 {
		t.Errorf("%d single-user reads, want 1", n)
	}
}

// TestResync: every way Graph (or the configuration) makes a stored delta
// link unusable leads to a full read in the same run, logged and warned
// with the reason, and the next run is incremental again.
func TestResync(t *testing.T) {
	for _, tt := range []struct {
		name   string
		setup  func(*graphtest.Server)
		state  func(string) string
		reason string
	}{
		{"expired token (syncStateNotFound)", func(s *graphtest.Server) { s.ExpireDeltaTokens() }, nil, "syncStateNotFound"},
		{"resyncRequired", func(s *graphtest.Server) { s.SetFaults(graphtest.Faults{DeltaErrorCode: "resyncRequired"}) }, nil, "resyncRequired"},
		{"410 Gone with Location and no body", func(s *graphtest.Server) { s.SetFaults(graphtest.Faults{DeltaGone: true}) }, nil, "410 Gone"},
		{"delta link of another host", nil, func(l string) string { return strings.Replace(l, "127.0.0.1", "graph.old.example", 1) }, "does not belong to the configured graph_url"},
		{"delta link of another API version", nil, func(l string) string { return strings.Replace(l, "/v1.0/", "/beta/", 1) }, "does not belong to the configured graph_url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := graphtest.Generate(500, 100)
			srv, c := start(t, sc)
			first, err := c.Collect(context.Background(), collectors.Request{})
			if err != nil {
				t.Fatal(err)
			}
			st := first.State
			if tt.state != nil {
				var s state
				json.Unmarshal([]byte(st), &s)
				b, _ := json.Marshal(state{DeltaLink: tt.state(s.DeltaLink)})
				st = string(b)
			}
			if tt.setup != nil {
				tt.setup(srv)
			}
			srv.ChangeUser(graphtest.GUID(7, 9), func(u *graphtest.User) { u.AccountEnabled = false })
			srv.ResetStats()
			var log bytes.Buffer
			second, err := c.Collect(context.Background(), collectors.Request{Logger: slog.New(slog.NewTextHandler(&log, nil)),
				Previous: &collectors.Previous{State: st, Accounts: first.Accounts}})
			if err != nil || !second.Completeness.Complete {
				t.Fatalf("the source must read in full in the same run: err %v %+v", err, second.Completeness)
			}
			if second.Completeness.Mode != "full" || len(second.Accounts) != 500 || srv.Stats().Requests["GET /v1.0/users"] == 0 {
				t.Errorf("mode %q, %d accounts, %d list requests: want a full read", second.Completeness.Mode, len(second.Accounts), srv.Stats().Requests["GET /v1.0/users"])
			}
			if byUPN(second.Accounts)["user0000009@acme.com"].Status != collectors.StatusInactive {
				t.Error("the full read must show the current state")
			}
			if !hasWarning(second.Completeness, tt.reason) || !strings.Contains(log.String(), "reading every user in full") || !strings.Contains(log.String(), tt.reason) {
				t.Errorf("warnings %v, log %q: want the reason %q", second.Completeness.Warnings, log.String(), tt.reason)
			}
			srv.SetFaults(graphtest.Faults{})
			third, err := c.Collect(context.Background(), collectors.Request{Previous: &collectors.Previous{State: second.State, Accounts: second.Accounts}})
			if err != nil || third.Completeness.Mode != "delta" {
				t.Errorf("the run after a resync must be incremental again: %v %q", err, third.Completeness.Mode)
			}
		})
	}
}

// TestThrottling: 429, 503 and 504, with and without Retry-After, are
// retried by kiota; the waits counted are the ones kiota really makes, and
// never add up to more than max_retry_wait.
func TestThrottling(t *testing.T) {
	for _, tt := range []struct {
		name      string
		faults    graphtest.Faults
		budget    time.Duration
		complete  bool
		minWaited time.Duration // kiota's least wait for these answers
		errHas    []string
	}{
		{"429 without Retry-After backs off 2 s", graphtest.Faults{Status429: 1, NoRetryAfter: true}, 20 * time.Second, true, 2 * time.Second, nil},
		{"503 without Retry-After", graphtest.Faults{Status503: 1, NoRetryAfter: true}, 20 * time.Second, true, 2 * time.Second, nil},
		{"504 with Retry-After", graphtest.Faults{Status504: 1, RetryAfter: 1}, 20 * time.Second, true, time.Second, nil},
		{"429 storm without Retry-After within a 5 s budget", graphtest.Faults{Status429: 1000, NoRetryAfter: true}, 5 * time.Second, false, 2 * time.Second,
			[]string{"still throttling", "answered 429", "retried 1 time", "without Retry-After", "max_retry_wait (5s)"}},
		{"503 storm with Retry-After 2 within a 5 s budget", graphtest.Faults{Status503: 1000, RetryAfter: 2}, 5 * time.Second, false, 4 * time.Second,
			[]string{"answered 503", "retried 2 times", "with Retry-After"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := graphtest.Generate(200, 40)
			srv, c := start(t, sc)
			c.cfg.MaxRetryWait = tt.budget
			srv.SetFaults(tt.faults)
			res, err := c.Collect(context.Background(), collectors.Request{})
			comp := res.Completeness
			if comp.Complete != tt.complete {
				t.Fatalf("complete %v, want %v: %v", comp.Complete, tt.complete, err)
			}
			if comp.Retries == 0 || comp.Waited < tt.minWaited {
				t.Errorf("retries %d waited %s: kiota waits at least %s here", comp.Retries, comp.Waited, tt.minWaited)
			}
			if comp.Waited > tt.budget {
				t.Errorf("waited %s, more than max_retry_wait %s", comp.Waited, tt.budget)
			}
			if tt.complete {
				if err != nil || len(res.Accounts) != 200 {
					t.Fatalf("err %v accounts %d", err, len(res.Accounts))
				}
				return
			}
			for _, s := range tt.errHas {
				if err == nil || !strings.Contains(err.Error(), s) {
					t.Errorf("error %v does not say %q", err, s)
				}
			}
		})
	}
}

// TestPagingCycle: an @odata.nextLink that leads back to a page already
// read (the same link, or a new link to the same items) stops the read at
// once and makes the source incomplete, naming the list.
func TestPagingCycle(t *testing.T) {
	for _, tt := range []struct {
		name     string
		faults   graphtest.Faults
		delta    bool
		endpoint string
		errHas   string
	}{
		{"users: page 2 links to itself", graphtest.Faults{RepeatPath: "/v1.0/users", RepeatPage: 2}, false, "GET /v1.0/users", "paging of /users went in a circle"},
		{"users: page 2 again under a new token", graphtest.Faults{RepeatPath: "/v1.0/users", RepeatPage: 2, RepeatFresh: true}, false, "GET /v1.0/users", "items had all been read"},
		{"group members", graphtest.Faults{RepeatPath: "/v1.0/groups", RepeatPage: 1}, false, "GET /v1.0/groups/{id}/members", "/groups/" + graphtest.GUID(6, 1) + "/members went in a circle"},
		{"delta round", graphtest.Faults{RepeatPath: "/v1.0/users/delta", RepeatPage: 1}, true, "GET /v1.0/users/delta()", "/users/delta() went in a circle"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := graphtest.Generate(2500, 2500)
			srv, c := start(t, sc)
			req := collectors.Request{}
			if tt.delta {
				first, err := c.Collect(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < 1500; i++ { // two delta pages of changes
					srv.ChangeUser(graphtest.GUID(7, i), func(u *graphtest.User) { u.DisplayName += "." })
				}
				req.Previous = &collectors.Previous{State: first.State, Accounts: first.Accounts}
			}
			srv.SetFaults(tt.faults)
			srv.ResetStats()
			res, err := c.Collect(context.Background(), req)
			if err == nil || res.Completeness.Complete || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("err %v complete %v: want incomplete, saying %q", err, res.Completeness.Complete, tt.errHas)
			}
			if n := srv.Stats().Requests[tt.endpoint]; n > 4 {
				t.Errorf("%d requests to %s: the cycle must stop the read at once", n, tt.endpoint)
			}
		})
	}
}

// TestContextStopsRead: a cancelled run or an expired deadline stops the
// read before the next page, and says so.
func TestContextStopsRead(t *testing.T) {
	t.Run("cancelled after the first users page", func(t *testing.T) {
		sc := graphtest.Generate(3000, 100)
		srv, c := start(t, sc)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		res, err := c.Collect(ctx, collectors.Request{Progress: func(p collectors.Progress) {
			if p.Stage == "users" {
				cancel()
			}
		}})
		if err == nil || res.Completeness.Complete || !strings.Contains(err.Error(), "stopped before the read finished: context canceled") {
			t.Fatalf("err %v", err)
		}
		if n := srv.Stats().Requests["GET /v1.0/users"]; n != 1 {
			t.Errorf("%d users pages requested after the cancellation at page 1", n)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		sc := graphtest.Generate(100, 10)
		srv, c := start(t, sc)
		srv.SetFaults(graphtest.Faults{Slow: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		res, err := c.Collect(ctx, collectors.Request{})
		if err == nil || res.Completeness.Complete || !strings.Contains(err.Error(), "deadline exceeded") || !strings.Contains(err.Error(), "deadline passed") {
			t.Fatalf("err %v", err)
		}
	})
}

// TestParts: each list read is a part with its own count.
func TestParts(t *testing.T) {
	sc := graphtest.Generate(1500, 600)
	members := 0
	for _, g := range sc.Groups[:2] { // Stonly Users and Stonly Admins are assigned
		for _, m := range g.Members {
			if strings.Contains(m, "-0007-") { // a user (GUID kind 7), not a nested group
				members++
			}
		}
	}
	_, c := start(t, sc)
	res, err := c.Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"users": 1500, "app_role_assignments": len(sc.Assignments), "group_members": members}
	for id, n := range want {
		if p, ok := part(res.Completeness, id); !ok || p.Kind != "list" || p.Records != n || p.Fix == "" {
			t.Errorf("part %s: %+v, want %d records", id, p, n)
		}
	}
	if len(res.Completeness.Parts) != len(want) {
		t.Errorf("parts %+v", res.Completeness.Parts)
	}
}

// TestErrorClasses (issue 19): a failure says what kind it is and the fix
// that goes with it; only a rejected secret blames the secret.
func TestErrorClasses(t *testing.T) {
	for _, tt := range []struct {
		name     string
		setup    func(*graphtest.Server, *Collector)
		class    Class
		errHas   string
		fixHas   string
		noSecret bool
	}{
		{"connection refused", func(s *graphtest.Server, c *Collector) { s.Close() }, ClassNetwork, "connection refused", "entra.token_url", true},
		{"untrusted certificate", func(s *graphtest.Server, c *Collector) { c.roots = nil }, ClassTLS, "not trusted", "entra.ca_file", true},
		{"unknown host", func(s *graphtest.Server, c *Collector) {
			c.graphURL.Host = "graph.nonexistent.invalid"
			c.hosts = []string{"graph.nonexistent.invalid"}
		}, ClassDNS, "does not resolve", "entra.graph_url", true},
		{"no answer in time", func(s *graphtest.Server, c *Collector) {
			s.SetFaults(graphtest.Faults{Slow: time.Minute})
			c.cfg.RequestTimeout = 300 * time.Millisecond
		}, ClassTimeout, "did not answer within", "request_timeout", true},
		{"wrong secret", func(s *graphtest.Server, c *Collector) { c.secret = "wrong-secret-value-123" }, ClassAuth, "AADSTS7000215", "not its id", false},
		{"missing permission", func(s *graphtest.Server, c *Collector) {
			s.SetFaults(graphtest.Faults{DropPermissions: []string{graphtest.UserReadAll}})
		}, ClassPermission, "User.Read.All", "admin consent", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := graphtest.Generate(50, 10)
			srv, c := start(t, sc)
			tt.setup(srv, c)
			res, err := c.Collect(context.Background(), collectors.Request{})
			if err == nil || res.Completeness.Complete || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("err %v, want %q", err, tt.errHas)
			}
			if tt.noSecret && strings.Contains(err.Error(), "secret") {
				t.Errorf("a %s failure must not blame the secret: %v", tt.class, err)
			}
			checks := c.Check(context.Background())
			last := checks[len(checks)-1]
			if last.OK || !strings.Contains(last.Fix, tt.fixHas) || strings.Contains(last.Detail, sc.ClientSecret) {
				t.Errorf("doctor: %+v, want a failed check whose fix says %q", last, tt.fixHas)
			}
			if tt.noSecret && strings.Contains(last.Fix, "secret") {
				t.Errorf("doctor's fix blames the secret for a %s failure: %q", tt.class, last.Fix)
			}
		})
	}
}
