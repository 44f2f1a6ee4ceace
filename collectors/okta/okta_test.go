package okta

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/okta/oktatest"
)

const token = "00aSecretSSWSTokenValue0123456789"

// org has one user of every status, a direct and two group assignments.
func org() *oktatest.Scenario {
	t0 := time.Date(2026, 10, 2, 9, 0, 0, 0, time.UTC)
	u := func(id, st, login string) oktatest.User {
		return oktatest.User{ID: id, Status: st, Login: login, Email: login, FirstName: "F" + id, LastName: "L", Created: t0, LastUpdated: t0, StatusChanged: t0}
	}
	users := []oktatest.User{
		u("00u01", "ACTIVE", "alice@acme.com"), u("00u02", "DEPROVISIONED", "bob@acme.com"), u("00u03", "SUSPENDED", "carol@acme.com"),
		u("00u04", "STAGED", "dave@acme.com"), u("00u05", "PROVISIONED", "erin@acme.com"), u("00u06", "PASSWORD_EXPIRED", "frank@acme.com"),
		u("00u07", "LOCKED_OUT", "grace@acme.com"), u("00u08", "RECOVERY", "heidi@acme.com"),
	}
	users[0].SecondEmail = "alice@acquisicorp.net"
	users[0].EmployeeNumber = "E1"
	return &oktatest.Scenario{
		Token: token, AppID: "0oaStonly", Users: users,
		Groups: []oktatest.Group{
			{ID: "00gAdmins", Name: "Stonly Admins", Members: []string{"00u01", "00u07"}},
			{ID: "00gUsers", Name: "Stonly Users", Members: []string{"00u01", "00u06", "00u02"}},
		},
		Direct:           []oktatest.DirectAssignment{{UserID: "00u08", Role: "Member"}},
		GroupAssignments: []oktatest.GroupAssignment{{GroupID: "00gAdmins", Priority: 1, Role: "Admin"}, {GroupID: "00gUsers", Priority: 2, Role: "Member"}},
	}
}

func collector(t testing.TB, srv *oktatest.Server, mod ...func(*Config)) *Collector {
	t.Helper()
	cfg := Config{OrgURL: srv.URL, TokenEnv: "OKTA_API_TOKEN", AppID: srv.Scenario().AppID, RequestTimeout: 30 * time.Second}
	for _, m := range mod {
		m(&cfg)
	}
	env := collectors.Env{File: "test.yaml", Getenv: func(k string) string {
		return map[string]string{"OKTA_API_TOKEN": token, "OKTA_PRIVATE_KEY": testKeyPEM}[k]
	}}
	c, err := NewCollector(cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func byEmail(accs []collectors.Account) map[string]collectors.Account {
	m := map[string]collectors.Account{}
	for _, a := range accs {
		m[a.Email] = a
	}
	return m
}

// via and roles are what the account's assignment of the single-app key
// (okta.app_id, app "") says; nil when it has none.
func via(a collectors.Account) []string {
	if as := a.Assignment(""); as != nil {
		return as.Via
	}
	return nil
}

func roles(a collectors.Account) []string {
	if as := a.Assignment(""); as != nil {
		return as.Roles
	}
	return nil
}

func TestCollectStatusesAndAssignments(t *testing.T) {
	srv := oktatest.NewServer(org())
	defer srv.Close()
	res, err := collector(t, srv).Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Completeness.Complete || res.Completeness.Records != 8 {
		t.Fatalf("completeness %+v", res.Completeness)
	}
	m := byEmail(res.Accounts)
	wantStatus := map[string]collectors.Status{
		"alice@acme.com": collectors.StatusActive, "bob@acme.com": collectors.StatusInactive, "carol@acme.com": collectors.StatusInactive,
		"dave@acme.com": collectors.StatusStaged, "erin@acme.com": collectors.StatusStaged, "frank@acme.com": collectors.StatusActive,
		"grace@acme.com": collectors.StatusActive, "heidi@acme.com": collectors.StatusActive,
	}
	for e, st := range wantStatus {
		if m[e].Status != st {
			t.Errorf("%s: status %s (%s), want %s", e, m[e].Status, m[e].RawStatus, st)
		}
	}
	if m["bob@acme.com"].RawStatus != "DEPROVISIONED" || m["bob@acme.com"].StatusChanged.IsZero() {
		t.Errorf("the deprovisioned leaver was not read with its date: %+v", m["bob@acme.com"])
	}
	alice := m["alice@acme.com"]
	if !alice.AssignedTo("") || len(roles(alice)) != 1 || roles(alice)[0] != "Admin" || alice.EmployeeID != "E1" {
		t.Errorf("alice = %+v", alice)
	}
	if len(via(alice)) != 2 || !strings.HasPrefix(via(alice)[0], "group Stonly Admins (priority 1") {
		t.Errorf("alice assigned via %v, want Stonly Admins first by priority", via(alice))
	}
	if len(alice.Addresses) != 3 || alice.Addresses[2].Field != "secondEmail" {
		t.Errorf("alice addresses %+v", alice.Addresses)
	}
	if !strings.Contains(strings.Join(alice.Groups, ","), "Stonly Admins") {
		t.Errorf("alice groups %v", alice.Groups)
	}
	if h := m["heidi@acme.com"]; !h.AssignedTo("") || via(h)[0] != "direct assignment" || roles(h)[0] != "Member" {
		t.Errorf("heidi = %+v", h)
	}
	if f := m["frank@acme.com"]; !f.AssignedTo("") || roles(f)[0] != "Member" {
		t.Errorf("frank = %+v", f)
	}
	if c := m["carol@acme.com"]; c.Assignment("") != nil {
		t.Errorf("carol is no app user, so she has no assignment record: %+v", c)
	}
	for _, a := range res.Accounts {
		for _, as := range a.Assignments {
			if as.App != "" {
				t.Errorf("%s: with okta.app_id the assignment's app is %q, want \"\" (the run resolves it)", a.Email, as.App)
			}
		}
	}
}

func TestPaginationAtTheFloor(t *testing.T) {
	sc := oktatest.Generate(1234, 1100, 1)
	sc.Token = token
	srv := oktatest.NewServer(sc)
	defer srv.Close()
	res, err := collector(t, srv).Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Completeness.Records != 1234 {
		t.Fatalf("records %d, want 1234", res.Completeness.Records)
	}
	st := srv.Stats()
	deprov := 0
	for _, u := range sc.Users {
		if u.Status == "DEPROVISIONED" {
			deprov++
		}
	}
	ceil := func(n, p int) int { return int(math.Ceil(float64(n) / float64(p))) }
	// One list call per page: the default list and the DEPROVISIONED one.
	if got, want := st.Requests["GET /api/v1/users"], ceil(1234-deprov, 200)+ceil(deprov, 200); got != want {
		t.Errorf("users requests %d, want %d", got, want)
	}
	if got := st.Requests["GET /api/v1/apps/{id}/users"]; got != ceil(1100, 500) {
		t.Errorf("app users requests %d, want %d", got, ceil(1100, 500))
	}
	if st.MaxPerPage["/api/v1/users"] != 200 || st.MaxPerPage["/api/v1/apps/{id}/users"] != 500 {
		t.Errorf("page sizes %v: the collector must ask for the maximum", st.MaxPerPage)
	}
	assigned := 0
	for _, a := range res.Accounts {
		if a.AssignedTo("") {
			assigned++
		}
	}
	if assigned != 1100 {
		t.Errorf("assigned %d, want 1100", assigned)
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name     string
		faults   oktatest.Faults
		complete bool
		errHas   string
		retries  bool
	}{
		{"429 then success", oktatest.Faults{Storm429: 1}, true, "", true},
		{"500 once is retried", oktatest.Faults{FailPath: "/api/v1/users", FailPage: 1, FailTimes: 1}, true, "", true},
		{"500 on page 2 is incomplete", oktatest.Faults{FailPath: "/api/v1/users", FailPage: 2}, false, "page 2", true},
		{"malformed JSON is incomplete", oktatest.Faults{MalformedPath: "/api/v1/apps", MalformedPage: 1}, false, "app's users, page 1", false},
		{"401 names the token variable", oktatest.Faults{Unauthorized: true}, false, "rejected the API token in OKTA_API_TOKEN (E0000011", false},
		{"403 names the missing right", oktatest.Faults{Forbidden: []string{"/api/v1/apps"}}, false, "Okta refused /api/v1/apps (E0000006)", false},
		{"200 [] means no admin rights", oktatest.Faults{NoAdmin: true}, false, "lacks an admin role", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := org()
			for i := 0; i < 450; i++ { // three pages of users
				sc.Users = append(sc.Users, oktatest.User{ID: fmt.Sprintf("00uz%05d", i), Status: "ACTIVE", Login: fmt.Sprintf("z%d@acme.com", i), Email: fmt.Sprintf("z%d@acme.com", i)})
			}
			srv := oktatest.NewServer(sc)
			defer srv.Close()
			srv.SetFaults(tt.faults)
			c := collector(t, srv, func(c *Config) { one := 1; c.MaxRetries = &one })
			c.base = nil
			res, err := c.Collect(context.Background(), collectors.Request{})
			if res.Completeness.Complete != tt.complete {
				t.Fatalf("complete = %v, want %v (err %v)", res.Completeness.Complete, tt.complete, err)
			}
			if tt.complete && (err != nil || res.Completeness.Records != 458) {
				t.Fatalf("err %v records %d", err, res.Completeness.Records)
			}
			if !tt.complete {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("error %v does not contain %q", err, tt.errHas)
				}
				if strings.Contains(err.Error(), token) || strings.Contains(fmt.Sprint(res.Completeness), token) {
					t.Fatal("the token leaked into an error")
				}
			}
			if tt.retries && res.Completeness.Retries == 0 {
				t.Errorf("retries not counted: %+v", res.Completeness)
			}
		})
	}
}

func TestCacheOffSeesChanges(t *testing.T) {
	srv := oktatest.NewServer(org())
	defer srv.Close()
	c := collector(t, srv)
	if _, err := c.Collect(context.Background(), collectors.Request{}); err != nil {
		t.Fatal(err)
	}
	srv.Update(func(sc *oktatest.Scenario) { sc.Users[0].Status = "SUSPENDED" })
	res, err := c.Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if a := byEmail(res.Accounts)["alice@acme.com"]; a.Status != collectors.StatusInactive {
		t.Fatalf("second run still sees %s: the SDK cache is on", a.RawStatus)
	}
}

func TestRateLimitPacing(t *testing.T) {
	// 10 requests per one-second window per endpoint family; the users
	// family needs 6 list calls plus the deprovisioned one, the groups
	// family 4: the collector must wait for the window rather than hit 429s.
	sc := org()
	for i := 0; i < 1100; i++ {
		sc.Users = append(sc.Users, oktatest.User{ID: fmt.Sprintf("00uz%05d", i), Status: "ACTIVE", Login: fmt.Sprintf("z%d@acme.com", i), Email: fmt.Sprintf("z%d@acme.com", i)})
	}
	srv := oktatest.NewServer(sc)
	defer srv.Close()
	srv.SetFaults(oktatest.Faults{RateLimit: 3, Window: time.Second})
	start := time.Now()
	res, err := collector(t, srv).Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	if st := srv.Stats(); st.Status429 > 1 {
		t.Errorf("%d 429s: the collector should slow down before the limit", st.Status429)
	}
	if res.Completeness.Waited == 0 {
		t.Errorf("no rate-limit wait recorded: %+v", res.Completeness)
	}
	// users family: 7 requests at 3 per second need at least two resets.
	if el < 2*time.Second {
		t.Errorf("finished in %s: faster than the limit allows", el)
	}
}

func TestOAuthPrivateKey(t *testing.T) {
	block, _ := pem.Decode([]byte(testKeyPEM))
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		granted []string
		asked   []string
		errHas  string
	}{
		{"all scopes", DefaultScopes, nil, ""},
		{"apps scope not requested", DefaultScopes, []string{"okta.users.read", "okta.groups.read"}, "grant the scope okta.apps.read"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := org()
			sc.Token = ""
			sc.OAuth = &oktatest.OAuthClient{ClientID: "0oaServiceApp", PublicKey: &key.PublicKey, Scopes: tt.granted}
			srv := oktatest.NewServer(sc)
			defer srv.Close()
			c := collector(t, srv, func(c *Config) {
				c.TokenEnv, c.ClientID, c.PrivateKeyEnv, c.Scopes = "", "0oaServiceApp", "OKTA_PRIVATE_KEY", tt.asked
			})
			res, err := c.Collect(context.Background(), collectors.Request{})
			if tt.errHas == "" {
				if err != nil || res.Completeness.Records != 8 {
					t.Fatalf("err %v, %+v", err, res.Completeness)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("err %v, want %q", err, tt.errHas)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Fatal("the private key leaked into an error")
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	env := collectors.Env{File: "f.yaml", Getenv: func(string) string { return "" }}
	for _, tt := range []struct {
		cfg  Config
		want string
	}{
		{Config{AppID: "x", TokenEnv: "T"}, "org_url is required"},
		{Config{OrgURL: "http://acme.okta.com", AppID: "x", TokenEnv: "T"}, "must use https"},
		{Config{OrgURL: "https://acme.okta.com", TokenEnv: "T"}, "app_id is required"},
		{Config{OrgURL: "https://acme.okta.com", AppID: "x"}, "token_env"},
		{Config{OrgURL: "https://acme.okta.com", AppID: "x", TokenEnv: "T"}, "environment variable T, which is not set"},
		{Config{OrgURL: "https://acme.okta.com", AppID: "x", ClientID: "c"}, "private_key_env is required"},
	} {
		_, err := NewCollector(tt.cfg, env)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

var testKeyPEM = func() string {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}()

func TestIncrementalRead(t *testing.T) {
	sc := oktatest.Generate(3000, 600, 1)
	sc.Token = token
	srv := oktatest.NewServer(sc)
	defer srv.Close()
	c := collector(t, srv)
	first, err := c.Collect(context.Background(), collectors.Request{})
	if err != nil || first.State == "" {
		t.Fatalf("err %v state %q", err, first.State)
	}
	fullBytes := srv.Stats().Bytes
	srv.ResetStats()
	srv.Update(func(sc *oktatest.Scenario) {
		sc.Users[10].Status = "SUSPENDED"               // a leaver
		sc.Groups[0].Members = sc.Groups[0].Members[1:] // someone leaves Stonly Admins
	})
	second, err := c.Collect(context.Background(), collectors.Request{Previous: &collectors.Previous{State: first.State, Accounts: first.Accounts}})
	if err != nil || second.Completeness.Mode != "incremental" {
		t.Fatalf("err %v mode %q", err, second.Completeness.Mode)
	}
	if len(second.Accounts) != 3000 {
		t.Fatalf("%d accounts after an incremental read", len(second.Accounts))
	}
	m := map[string]collectors.Account{}
	for _, a := range second.Accounts {
		m[a.ID] = a
	}
	if m[oktatest.UserID(10)].Status != collectors.StatusInactive {
		t.Error("the changed user was not read")
	}
	if a := m[oktatest.UserID(0)]; a.AssignedTo("") {
		t.Errorf("user 0 left Stonly Admins, yet is still assigned: %+v", a)
	}
	if a := m[oktatest.UserID(100)]; !a.AssignedTo("") || a.Groups[0] != "Stonly Admins" {
		t.Errorf("unchanged membership lost: %+v", a)
	}
	if a := m[oktatest.UserID(2)]; !a.AssignedTo("") || a.Groups[0] != "Stonly Users" {
		t.Errorf("membership of an unchanged group must be reused: %+v", a)
	}
	st := srv.Stats()
	if st.Requests["GET /api/v1/groups/{id}/users"] != 1 {
		t.Errorf("group member reads %d: only the changed group should be read", st.Requests["GET /api/v1/groups/{id}/users"])
	}
	if st.Bytes*4 > fullBytes {
		t.Errorf("incremental read moved %d bytes against %d for the full one", st.Bytes, fullBytes)
	}
	// Every few incremental reads comes a full one, which alone sees users
	// deleted outright.
	c.cfg.FullEvery = 1
	periodic, _ := c.Collect(context.Background(), collectors.Request{Previous: &collectors.Previous{State: second.State, Accounts: second.Accounts}})
	if periodic.Completeness.Mode != "full" {
		t.Errorf("mode %q after full_every incremental reads", periodic.Completeness.Mode)
	}
	c.cfg.FullEvery = 0
	// --full forces a full read.
	third, _ := c.Collect(context.Background(), collectors.Request{Full: true, Previous: &collectors.Previous{State: second.State, Accounts: second.Accounts}})
	if third.Completeness.Mode != "full" {
		t.Errorf("mode %q with Full", third.Completeness.Mode)
	}
}

// TestIncrementalReadReturnsTheChangedUsers: after 1% of the users
// changed, the incremental read lists exactly those (one page of them),
// and the accounts it hands back carry their changes.
func TestIncrementalReadReturnsTheChangedUsers(t *testing.T) {
	sc := oktatest.Generate(3000, 600, 1)
	sc.Token = token
	srv := oktatest.NewServer(sc)
	defer srv.Close()
	c := collector(t, srv)
	first, err := c.Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if got := changedNames(first); got != 0 {
		t.Fatalf("%d changed names before the change", got)
	}
	ids := changeOnePercent(srv, 3000)
	srv.ResetStats()
	second, err := c.Collect(context.Background(), collectors.Request{Previous: &collectors.Previous{State: first.State, Accounts: first.Accounts}})
	if err != nil || second.Completeness.Mode != "incremental" || len(second.Accounts) != 3000 {
		t.Fatalf("err %v mode %q, %d accounts", err, second.Completeness.Mode, len(second.Accounts))
	}
	if got := changedNames(second); got != len(ids) {
		t.Errorf("the incremental read returned %d of the %d changed users", got, len(ids))
	}
	if n := srv.Stats().Requests["GET /api/v1/users"]; n != 1 {
		t.Errorf("%d user list requests for %d changed users: one page of 200 holds them", n, len(ids))
	}
}
