package okta

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/okta/oktatest"
)

// These tests hold the collector to Okta's own definitions (the
// management API spec, the rate-limit and concurrency guides), which
// oktatest models; each goes through okta-sdk-golang v2.

// oauth turns sc into an org read by a service app with private key JWT.
func oauth(t testing.TB, sc *oktatest.Scenario, granted []string) *oktatest.OAuthClient {
	t.Helper()
	block, _ := pem.Decode([]byte(testKeyPEM))
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sc.Token = ""
	sc.OAuth = &oktatest.OAuthClient{ClientID: "0oaServiceApp", PublicKey: &key.PublicKey, Scopes: granted}
	return sc.OAuth
}

func asServiceApp(c *Config) {
	c.TokenEnv, c.ClientID, c.PrivateKeyEnv = "", "0oaServiceApp", "OKTA_PRIVATE_KEY"
}

func classOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return ""
}

func TestAppUserStatusGrantsNothing(t *testing.T) {
	for _, st := range []string{"INACTIVE", "SUSPENDED", "DEPROVISIONED", "REVOKED", "UNASSIGNED", "PENDING"} {
		t.Run(st, func(t *testing.T) {
			sc := org()
			sc.Direct[0].Status = st                                                                  // heidi, direct, role Member
			sc.AppUserStatus = map[string]string{"00u06": st}                                         // frank, through Stonly Users
			sc.Direct = append(sc.Direct, oktatest.DirectAssignment{UserID: "00u07", Role: "Member"}) // grace stays ACTIVE
			srv := oktatest.NewServer(sc)
			defer srv.Close()
			res, err := collector(t, srv).Collect(context.Background(), collectors.Request{})
			if err != nil || !res.Completeness.Complete {
				t.Fatalf("err %v, %+v", err, res.Completeness)
			}
			m := byEmail(res.Accounts)
			for _, e := range []string{"heidi@acme.com", "frank@acme.com"} {
				a := m[e]
				as := a.Assignment("")
				if as == nil {
					t.Fatalf("%s: app user %s is not recorded at all; it must be, not in force, to say why it grants nothing", e, st)
				}
				if as.InForce || a.AssignedTo("") || len(as.Roles) != 0 {
					t.Errorf("%s: app user %s counts as assigned (%+v)", e, st, *as)
				}
				if !slices.ContainsFunc(via(a), func(s string) bool {
					return strings.Contains(s, "app user "+st) && strings.Contains(s, "grants nothing")
				}) {
					t.Errorf("%s: assigned_via %v does not say why", e, via(a))
				}
			}
			if f := m["frank@acme.com"]; !slices.Contains(f.Groups, "Stonly Users") {
				t.Errorf("frank's group membership is still the explanation: %v", f.Groups)
			}
			if g := m["grace@acme.com"]; !g.AssignedTo("") {
				t.Errorf("an ACTIVE app user must stay assigned: %+v", g)
			}
			if !strings.Contains(strings.Join(res.Completeness.Warnings, "|"), st+" 2") {
				t.Errorf("warnings %v do not count the app users not in force", res.Completeness.Warnings)
			}
		})
	}
}

func TestListValuedRoleAttribute(t *testing.T) {
	sc := org()
	sc.Direct[0].Role, sc.Direct[0].Roles = "", []string{"Admin", "Member"}
	sc.GroupAssignments[1].Role, sc.GroupAssignments[1].Roles = "", []string{"Member", "Reviewer"}
	srv := oktatest.NewServer(sc)
	defer srv.Close()
	res, err := collector(t, srv).Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	m := byEmail(res.Accounts)
	if got := roles(m["heidi@acme.com"]); !slices.Equal(got, []string{"Admin", "Member"}) {
		t.Errorf("a string-array role attribute gave %q, want each value a role", got)
	}
	// Frank reaches the app through Stonly Users only: Okta resolves the
	// group's array onto his app-user profile.
	if got := roles(m["frank@acme.com"]); !slices.Equal(got, []string{"Member", "Reviewer"}) {
		t.Errorf("frank's roles %q", got)
	}
	if v := strings.Join(via(m["frank@acme.com"]), "|"); !strings.Contains(v, "role Member, Reviewer") {
		t.Errorf("assigned via %q", v)
	}
}

func TestCredentialThatSeesPartOfTheOrg(t *testing.T) {
	tests := []struct {
		name     string
		roles    []oktatest.AdminRole
		service  bool // an OAuth service app instead of an API token
		granted  []string
		complete bool
		errHas   []string
	}{
		{"read-only administrator", []oktatest.AdminRole{{Type: "READ_ONLY_ADMIN"}}, false, nil, true, nil},
		{"super administrator", []oktatest.AdminRole{{Type: "SUPER_ADMIN"}}, false, nil, true, nil},
		{"group administrator for every group", []oktatest.AdminRole{{Type: "USER_ADMIN"}}, false, nil, true, nil},
		{"group administrator of one group", []oktatest.AdminRole{{Type: "USER_ADMIN", Targets: []string{"00gAdmins"}}}, false, nil, false,
			[]string{"Group Administrator (USER_ADMIN) limited to groups Stonly Admins", "Read-only Administrator"}},
		{"help desk administrator of one group", []oktatest.AdminRole{{Type: "HELP_DESK_ADMIN", Targets: []string{"00gUsers"}}}, false, nil, false,
			[]string{"Help Desk Administrator (HELP_DESK_ADMIN) limited to groups Stonly Users", "Read-only Administrator"}},
		{"app administrator only", []oktatest.AdminRole{{Type: "APP_ADMIN"}}, false, nil, false, []string{"APP_ADMIN", "Read-only Administrator"}},
		{"scoped and read-only together", []oktatest.AdminRole{{Type: "USER_ADMIN", Targets: []string{"00gAdmins"}}, {Type: "READ_ONLY_ADMIN"}}, false, nil, true, nil},
		{"service app, read-only", nil, true, DefaultScopes, true, nil},
		{"service app, group administrator of one group", []oktatest.AdminRole{{Type: "USER_ADMIN", Targets: []string{"00gAdmins"}}}, true, DefaultScopes, false,
			[]string{"the service app 0oaServiceApp has Group Administrator (USER_ADMIN) limited to groups Stonly Admins", "Read-only Administrator"}},
		{"service app without okta.roles.read", nil, true, []string{"okta.users.read", "okta.groups.read", "okta.apps.read"}, false,
			[]string{"okta.roles.read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := org()
			var mod []func(*Config)
			if tt.service {
				oauth(t, sc, tt.granted).Roles = tt.roles
				mod = append(mod, asServiceApp)
				if !slices.Contains(tt.granted, "okta.roles.read") {
					mod = append(mod, func(c *Config) { c.Scopes = tt.granted })
				}
			} else {
				sc.AdminRoles = tt.roles
			}
			srv := oktatest.NewServer(sc)
			defer srv.Close()
			c := collector(t, srv, mod...)
			res, err := c.Collect(context.Background(), collectors.Request{})
			if res.Completeness.Complete != tt.complete {
				t.Fatalf("complete = %v, want %v (err %v)", res.Completeness.Complete, tt.complete, err)
			}
			checks := c.Check(context.Background())
			i := slices.IndexFunc(checks, func(ch collectors.Check) bool { return ch.Name == "admin role" })
			if i < 0 {
				t.Fatalf("doctor shows no admin role: %+v", checks)
			}
			if checks[i].OK != tt.complete {
				t.Errorf("doctor's admin role line %+v", checks[i])
			}
			if tt.complete {
				if err != nil || res.Completeness.Records != 8 {
					t.Fatalf("err %v records %d", err, res.Completeness.Records)
				}
				if !strings.Contains(checks[i].Detail, "Administrator") {
					t.Errorf("doctor does not name the role: %+v", checks[i])
				}
				return
			}
			for _, s := range tt.errHas {
				if err == nil || !strings.Contains(err.Error(), s) {
					t.Errorf("error %v does not contain %q", err, s)
				}
				if !strings.Contains(checks[i].Detail+" "+checks[i].Fix, s) {
					t.Errorf("doctor %+v does not contain %q", checks[i], s)
				}
			}
			if classOf(err) != ClassPermission {
				t.Errorf("class %q, want permission", classOf(err))
			}
		})
	}
}

// TestScopedAdminReadsASubset shows why the role check exists: Okta (and
// the simulator) answer a group-scoped admin with 200 and some users.
func TestScopedAdminReadsASubset(t *testing.T) {
	sc := org()
	sc.AdminRoles = []oktatest.AdminRole{{Type: "USER_ADMIN", Targets: []string{"00gAdmins"}}}
	srv := oktatest.NewServer(sc)
	defer srv.Close()
	res, err := collector(t, srv).Collect(context.Background(), collectors.Request{})
	if err == nil || res.Completeness.Complete {
		t.Fatalf("a partial directory passed as complete: %+v", res.Completeness)
	}
	if len(res.Accounts) != 2 {
		t.Errorf("read %d accounts; the scoped role sees the 2 members of Stonly Admins", len(res.Accounts))
	}
	if len(res.Completeness.Parts) != 0 {
		t.Errorf("an incomplete read records no part counts to guard against: %+v", res.Completeness.Parts)
	}
}

// manyGroups has n more assigned groups of one member each.
func manyGroups(n int) *oktatest.Scenario {
	sc := org()
	for i := range n {
		id := fmt.Sprintf("00gMany%05d", i)
		sc.Groups = append(sc.Groups, oktatest.Group{ID: id, Name: fmt.Sprintf("Team %d", i), Members: []string{"00u01"}})
		sc.GroupAssignments = append(sc.GroupAssignments, oktatest.GroupAssignment{GroupID: id, Priority: 10 + i, Role: "Member"})
	}
	return sc
}

func TestConcurrencyIsBounded(t *testing.T) {
	// 150 assigned groups, Okta's concurrency limit of a free developer
	// org (15), and responses slow enough that unbounded reads overlap.
	srv := oktatest.NewServer(manyGroups(150))
	defer srv.Close()
	srv.SetFaults(oktatest.Faults{MaxConcurrent: 15, Slow: 10 * time.Millisecond})
	res, err := collector(t, srv).Collect(context.Background(), collectors.Request{})
	if err != nil || !res.Completeness.Complete {
		t.Fatalf("err %v %+v", err, res.Completeness)
	}
	st := srv.Stats()
	if st.MaxInFlight > defaultConcurrency {
		t.Errorf("%d requests in flight, want at most max_concurrency %d", st.MaxInFlight, defaultConcurrency)
	}
	if st.Status429 != 0 {
		t.Errorf("%d 429s under Okta's concurrency limit", st.Status429)
	}
	if st.Requests["GET /api/v1/groups/{id}/users"] != 152 {
		t.Errorf("group member reads %d, want 152", st.Requests["GET /api/v1/groups/{id}/users"])
	}
	if a := byEmail(res.Accounts)["alice@acme.com"]; len(a.Groups) != 152 {
		t.Errorf("alice is in %d groups, want 152", len(a.Groups))
	}
}

func TestConcurrencyLimitBelowTheBound(t *testing.T) {
	// max_concurrency above what the org allows (other integrations use
	// the rest): the 429s report the concurrency limit, and the read goes
	// on under it instead of failing in a 429 storm.
	srv := oktatest.NewServer(manyGroups(60))
	defer srv.Close()
	srv.SetFaults(oktatest.Faults{MaxConcurrent: 4, Slow: 20 * time.Millisecond})
	res, err := collector(t, srv, func(c *Config) { c.MaxConcurrency = 30 }).Collect(context.Background(), collectors.Request{})
	if err != nil || !res.Completeness.Complete {
		t.Fatalf("err %v %+v", err, res.Completeness)
	}
	if srv.Stats().Status429 == 0 {
		t.Fatal("no 429: the case did not exercise the limit")
	}
	if w := strings.Join(res.Completeness.Warnings, "|"); !strings.Contains(w, "went on with 2 in flight instead of okta.max_concurrency 30") {
		t.Errorf("warnings %q", w)
	}
}

func TestSimulatorEnforcesConcurrency(t *testing.T) {
	// The simulator's own check: 20 readers at once against a limit of 5
	// get 429s whose headers carry the concurrency values.
	srv := oktatest.NewServer(org())
	defer srv.Close()
	srv.SetFaults(oktatest.Faults{MaxConcurrent: 5, Slow: 200 * time.Millisecond})
	var mu sync.Mutex
	limits := map[string]int{}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", srv.URL+"/api/v1/users?limit=1", nil)
			req.Header.Set("Authorization", "SSWS "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests {
				mu.Lock()
				limits[resp.Header.Get("X-Rate-Limit-Limit")+"/"+resp.Header.Get("X-Rate-Limit-Remaining")]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if limits["5/0"] == 0 || len(limits) != 1 {
		t.Errorf("429s by X-Rate-Limit-Limit/Remaining: %v; want the concurrency values 5/0", limits)
	}
}

func TestMaxConcurrencyValidated(t *testing.T) {
	env := collectors.Env{File: "f.yaml", Getenv: func(string) string { return token }}
	for _, n := range []int{-1, 76, 1000} {
		_, err := NewCollector(Config{OrgURL: "https://acme.okta.com", AppID: "x", TokenEnv: "T", MaxConcurrency: n}, env)
		if err == nil || !strings.Contains(err.Error(), "max_concurrency") {
			t.Errorf("max_concurrency %d: err %v", n, err)
		}
	}
	c, err := NewCollector(Config{OrgURL: "https://acme.okta.com", AppID: "x", TokenEnv: "T"}, env)
	if err != nil || c.cfg.MaxConcurrency != defaultConcurrency {
		t.Errorf("default: err %v, %d", err, c.cfg.MaxConcurrency)
	}
}

func TestLargePageFailureIsRetriedSmaller(t *testing.T) {
	sc := org()
	for i := range 450 {
		sc.Users = append(sc.Users, oktatest.User{ID: fmt.Sprintf("00uz%05d", i), Status: "ACTIVE", Login: fmt.Sprintf("z%d@acme.com", i), Email: fmt.Sprintf("z%d@acme.com", i)})
	}
	srv := oktatest.NewServer(sc)
	defer srv.Close()
	srv.SetFaults(oktatest.Faults{LimitTimeout: 50})
	res, err := collector(t, srv).Collect(context.Background(), collectors.Request{})
	if err != nil || !res.Completeness.Complete || res.Completeness.Records != 458 {
		t.Fatalf("err %v %+v", err, res.Completeness)
	}
	if got := srv.Stats().MaxPerPage["/api/v1/users"]; got != 50 {
		t.Errorf("largest users page %d, want 50 (the limit halved until Okta answered)", got)
	}
	if !strings.Contains(strings.Join(res.Completeness.Warnings, "|"), "smaller limit") {
		t.Errorf("warnings %v", res.Completeness.Warnings)
	}
}

func TestDPoPRequiredIsRefusedClearly(t *testing.T) {
	sc := org()
	oauth(t, sc, DefaultScopes).RequireDPoP = true
	srv := oktatest.NewServer(sc)
	defer srv.Close()
	c := collector(t, srv, asServiceApp)
	const want = "this application requires DPoP; turn it off for the idgraph service app"
	res, err := c.Collect(context.Background(), collectors.Request{})
	if err == nil || res.Completeness.Complete {
		t.Fatal("a DPoP-only service app read as complete")
	}
	for _, s := range []string{want, "or use an API token", "invalid_dpop_proof", "The DPoP proof JWT header is missing."} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
	if n := strings.Count(err.Error(), want); n != 1 {
		t.Errorf("the refusal is said %d times; reads that fail alike are reported once", n)
	}
	for _, read := range []string{"reading users, page 1", "reading the app's users, page 1", "checking the credential's admin role"} {
		if !strings.Contains(err.Error(), read) {
			t.Errorf("error %q does not name the read %q", err, read)
		}
	}
	checks := c.Check(context.Background())
	if len(checks) == 0 || checks[0].OK || !strings.Contains(checks[0].Fix, want) {
		t.Errorf("doctor: %+v", checks)
	}
}

func TestRefusedBearerTokenUsesTheChallenge(t *testing.T) {
	sc := org()
	oauth(t, sc, DefaultScopes)
	srv := oktatest.NewServer(sc)
	defer srv.Close()
	srv.SetFaults(oktatest.Faults{Unauthorized: true})
	_, err := collector(t, srv, asServiceApp).Collect(context.Background(), collectors.Request{})
	if err == nil || !strings.Contains(err.Error(), "refused the service app's access token (invalid_token: The token is not valid") {
		t.Fatalf("error %v does not give Okta's reason", err)
	}
	if classOf(err) != ClassAuth {
		t.Errorf("class %q", classOf(err))
	}
}

// recorder keeps the requests the SDK sent, under the collector's
// transport.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Clone(context.Background()))
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func TestListRequestsAreExplicitAndLean(t *testing.T) {
	sc := oktatest.Generate(900, 400, 1)
	sc.Token = token
	srv := oktatest.NewServer(sc)
	defer srv.Close()
	c := collector(t, srv)
	rec := &recorder{}
	c.base = rec
	if _, err := c.Collect(context.Background(), collectors.Request{}); err != nil {
		t.Fatal(err)
	}
	lists := 0
	for _, r := range rec.reqs {
		p := r.URL.Path
		if !(p == "/api/v1/users" || strings.HasSuffix(p, "/users") || strings.HasSuffix(p, "/groups")) || strings.Contains(p, "/roles") {
			continue
		}
		lists++
		if r.URL.Query().Get("limit") == "" {
			t.Errorf("%s without an explicit limit (Okta: the group-users default \"will change\")", r.URL)
		}
		ct := r.Header.Get("Content-Type")
		if p == "/api/v1/users" && !strings.Contains(ct, "okta-response=omitCredentials,omitCredentialsLinks") {
			t.Errorf("%s: Content-Type %q", r.URL, ct)
		}
	}
	st := srv.Stats()
	if lists == 0 || st.OmittedCredentials != st.Requests["GET /api/v1/users"] {
		t.Errorf("%d lists; user pages without credentials %d of %d", lists, st.OmittedCredentials, st.Requests["GET /api/v1/users"])
	}
}

func TestLoopingCursorStops(t *testing.T) {
	for _, tt := range []struct {
		name, path string
		page       int
		endpoint   string
	}{
		{"users page 2 leads to itself", "/api/v1/users", 2, "/api/v1/users"},
		{"group members page 1 leads to itself", "/api/v1/groups", 1, "/api/v1/groups"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := org()
			for i := range 450 {
				sc.Users = append(sc.Users, oktatest.User{ID: fmt.Sprintf("00uz%05d", i), Status: "ACTIVE", Login: fmt.Sprintf("z%d@acme.com", i), Email: fmt.Sprintf("z%d@acme.com", i)})
			}
			srv := oktatest.NewServer(sc)
			defer srv.Close()
			srv.SetFaults(oktatest.Faults{LoopPath: tt.path, LoopPage: tt.page})
			res, err := collector(t, srv).Collect(context.Background(), collectors.Request{})
			if err == nil || res.Completeness.Complete {
				t.Fatalf("a looping list read as complete: %+v", res.Completeness)
			}
			if !strings.Contains(err.Error(), "Link: next of "+tt.endpoint+" leads to a page already read") || classOf(err) != ClassData {
				t.Errorf("error %v (class %q)", err, classOf(err))
			}
			if n := srv.Stats().Total; n > 20 {
				t.Errorf("%d requests: the loop was followed", n)
			}
		})
	}
}

func TestReadHonoursTheDeadline(t *testing.T) {
	for _, tt := range []struct {
		name   string
		faults oktatest.Faults
	}{
		{"Okta does not answer", oktatest.Faults{Slow: time.Hour}},
		{"waiting for a rate-limit window", oktatest.Faults{RateLimit: 1, Window: time.Hour}},
		{"a 429 storm", oktatest.Faults{Storm429: 1 << 20, RateLimit: 1000, Window: time.Hour}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := org()
			for i := range 450 {
				sc.Users = append(sc.Users, oktatest.User{ID: fmt.Sprintf("00uz%05d", i), Status: "ACTIVE", Login: fmt.Sprintf("z%d@acme.com", i), Email: fmt.Sprintf("z%d@acme.com", i)})
			}
			srv := oktatest.NewServer(sc)
			defer srv.Close()
			srv.SetFaults(tt.faults)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			done := make(chan error, 1)
			var res *collectors.Result
			go func() {
				var err error
				res, err = collector(t, srv).Collect(ctx, collectors.Request{})
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || res.Completeness.Complete || classOf(err) != ClassStopped {
					t.Fatalf("err %v (class %q), %+v", err, classOf(err), res.Completeness)
				}
				if !strings.Contains(err.Error(), "deadline exceeded") {
					t.Errorf("error %v does not say the deadline stopped it", err)
				}
			case <-time.After(time.Minute):
				// A liveness bound, not a measurement: without it a read
				// that ignores its context would hang the test binary.
				t.Fatal("the read did not stop at its context's deadline")
			}
		})
	}
}

func TestErrorClasses(t *testing.T) {
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedURL := "http://" + closed.Addr().String()
	closed.Close()
	// A resolver whose DNS server cannot be reached: the name fails to
	// resolve through Go's own resolver, without any network.
	noDNS := &http.Transport{DialContext: (&net.Dialer{Resolver: &net.Resolver{PreferGo: true,
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("no DNS server in this test")}
		}}}).DialContext}
	tests := []struct {
		name    string
		org     string
		base    http.RoundTripper
		faults  oktatest.Faults
		timeout time.Duration
		class   Class
		msgHas  string
		fixHas  string
	}{
		{"refused", refusedURL, nil, oktatest.Faults{}, 0, ClassNetwork, "connection refused", "org_url"},
		{"dns", "https://acme.okta.invalid", noDNS, oktatest.Faults{}, 0, ClassNetwork, "does not resolve", "DNS"},
		{"tls", strings.Replace(tlsSrv.URL, "127.0.0.1", "localhost", 1), nil, oktatest.Faults{}, 0, ClassNetwork, "not trusted", "trust store"},
		{"timeout", "", nil, oktatest.Faults{Slow: 5 * time.Second}, 300 * time.Millisecond, ClassNetwork, "did not answer in time", "request_timeout"},
		{"token", "", nil, oktatest.Faults{Unauthorized: true}, 0, ClassAuth, "rejected the API token in OKTA_API_TOKEN", "new token"},
		{"permission", "", nil, oktatest.Faults{Forbidden: []string{"/api/v1/users"}}, 0, ClassPermission, "Okta refused /api/v1/users", "Read-only Administrator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := oktatest.NewServer(org())
			defer srv.Close()
			srv.SetFaults(tt.faults)
			c := collector(t, srv, func(c *Config) {
				if tt.org != "" {
					c.OrgURL = tt.org
				}
				if tt.timeout > 0 {
					c.RequestTimeout = tt.timeout
				}
				zero := 0
				c.MaxRetries = &zero
			})
			c.base = tt.base
			_, err := c.Collect(context.Background(), collectors.Request{})
			if err == nil {
				t.Fatal("no error")
			}
			if classOf(err) != tt.class || !strings.Contains(err.Error(), tt.msgHas) || !strings.Contains(err.Error(), tt.fixHas) {
				t.Errorf("class %q, error %v; want %q with %q and %q", classOf(err), err, tt.class, tt.msgHas, tt.fixHas)
			}
			checks := c.Check(context.Background())
			if len(checks) == 0 || checks[0].OK || !strings.Contains(checks[0].Fix, tt.fixHas) {
				t.Fatalf("doctor %+v, want a fix with %q", checks, tt.fixHas)
			}
			if tt.class == ClassNetwork && strings.Contains(checks[0].Fix, "token") {
				t.Errorf("doctor blames the credential for a network failure: %q", checks[0].Fix)
			}
		})
	}
}

func TestPartsRecordEachList(t *testing.T) {
	sc := oktatest.Generate(3000, 600, 1)
	sc.Token = token
	srv := oktatest.NewServer(sc)
	defer srv.Close()
	c := collector(t, srv)
	first, err := c.Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	deprov := 0
	for _, u := range sc.Users {
		if u.Status == "DEPROVISIONED" {
			deprov++
		}
	}
	members := len(sc.Groups[0].Members) + len(sc.Groups[1].Members)
	want := map[string]int{"users": 3000 - deprov, "deprovisioned_users": deprov, "app_users": 600, "groups": 2, "group_members": members}
	got := func(r *collectors.Result) map[string]int {
		m := map[string]int{}
		for _, p := range r.Completeness.Parts {
			if p.Kind != "list" {
				t.Errorf("part %+v", p)
			}
			m[p.ID] = p.Records
		}
		return m
	}
	if g := got(first); fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("parts %v, want %v", g, want)
	}
	// An incremental read records the same parts, merged.
	second, err := c.Collect(context.Background(), collectors.Request{Previous: &collectors.Previous{State: first.State, Accounts: first.Accounts}})
	if err != nil || second.Completeness.Mode != "incremental" {
		t.Fatalf("err %v mode %s", err, second.Completeness.Mode)
	}
	if g := got(second); fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("incremental parts %v, want %v", g, want)
	}
}
