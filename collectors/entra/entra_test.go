package entra

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/entra/graphtest"
)

func start(t testing.TB, sc *graphtest.Scenario, edit ...func(*Config)) (*graphtest.Server, *Collector) {
	t.Helper()
	srv := graphtest.NewServer(sc)
	t.Cleanup(srv.Close)
	ca, err := srv.WriteCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{TenantID: sc.TenantID, ClientID: sc.ClientID, ClientSecretEnv: "ENTRA_CLIENT_SECRET",
		ServicePrincipalID: sc.SPID, GraphURL: srv.GraphURL(), TokenURL: srv.TokenURL(), CAFile: ca, MaxRetryWait: 20 * time.Second}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := NewCollector(cfg,
		collectors.Env{File: "t.yaml", Getenv: func(k string) string {
			if k == "ENTRA_CLIENT_SECRET" {
				return sc.ClientSecret
			}
			return ""
		}})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func byUPN(accs []collectors.Account) map[string]collectors.Account {
	m := map[string]collectors.Account{}
	for _, a := range accs {
		m[a.Addresses[0].Value] = a
	}
	return m
}

// asg returns a's assignment of app, or the zero Assignment (not in
// force) when there is none.
func asg(a collectors.Account, app string) collectors.Assignment {
	if as := a.Assignment(app); as != nil {
		return *as
	}
	return collectors.Assignment{App: app}
}

func TestCollectTenant(t *testing.T) {
	sc := graphtest.Generate(2500, 400)
	srv, c := start(t, sc)
	res, err := c.Collect(context.Background(), collectors.Request{})
	if err != nil || !res.Completeness.Complete {
		t.Fatalf("err %v %+v", err, res.Completeness)
	}
	if res.Completeness.Records != 2500 {
		t.Fatalf("records %d", res.Completeness.Records)
	}
	st := srv.Stats()
	// $expand=manager caps the pages at 100 whatever $top asks (known
	// issue 13635; managers.go); without it $top=999 gives ceil(n/999).
	if got, want := st.Requests["GET /v1.0/users"], int(math.Ceil(2500.0/100)); got != want {
		t.Errorf("users list requests %d, want %d", got, want)
	}
	if sel := st.Selects["/v1.0/users"]; !strings.Contains(sel, "accountEnabled") || !strings.Contains(sel, "proxyAddresses") || !strings.Contains(sel, "employeeId") {
		t.Errorf("$select = %q: the collector must ask for the fields the default set lacks", sel)
	}
	if st.Unauthenticated != 0 {
		t.Errorf("%d Graph requests went without a token", st.Unauthenticated)
	}
	m := byUPN(res.Accounts)
	disabled := m["user0000007@acme.com"]
	if disabled.Status != collectors.StatusInactive {
		t.Errorf("disabled user: %+v", disabled)
	}
	guest := m["guest0000011_partner.com#EXT#@acme.onmicrosoft.com"]
	if !guest.Guest || guest.Email != "guest0000011@partner.com" {
		t.Errorf("guest: %+v", guest)
	}
	admin := m["user0000000@acme.com"]
	if as := asg(admin, ""); !as.InForce || len(as.Roles) == 0 || as.Roles[0] != "Admin" || !strings.Contains(as.Via[0], "direct assignment (app role Admin)") {
		t.Errorf("direct Admin: %+v", admin)
	}
	grp := m["user0000013@acme.com"] // odd, i%10 == 3: Stonly Admins
	if as := asg(grp, ""); !as.InForce || grp.Groups[0] != "Stonly Admins" || as.Roles[0] != "Admin" {
		t.Errorf("group Admin: %+v", grp)
	}
	def := m["user0000002@acme.com"]
	if as := asg(def, ""); !as.InForce || len(as.Roles) != 0 || !strings.Contains(as.Via[0], "Stonly Users (default access)") {
		t.Errorf("default access: %+v", def)
	}
	// i%97 == 5 and i >= 400: member of Support Tier 2, nested in Stonly Users.
	nested := m["user0000490@acme.com"]
	if nested.AssignedTo("") || nested.Assignment("") != nil || len(nested.NestedGroups) != 1 || !strings.Contains(nested.NestedGroups[0], "through Support Tier 2") {
		t.Errorf("a member of a nested group must not be assigned, and the nesting explained: %+v", nested)
	}
	alias := m["user0000050@acme.com"]
	if len(alias.Addresses) < 4 {
		t.Errorf("proxyAddresses not read: %+v", alias.Addresses)
	}
	var s state
	if json.Unmarshal([]byte(res.State), &s) != nil || !strings.Contains(s.DeltaLink, "$deltatoken=") {
		t.Errorf("no delta link kept: %q", res.State)
	}
}

func TestDeltaRoundTrip(t *testing.T) {
	sc := graphtest.Generate(3000, 300)
	srv, c := start(t, sc)
	first, err := c.Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	full := srv.Stats()
	srv.ResetStats()
	srv.ChangeUser(graphtest.GUID(7, 42), func(u *graphtest.User) { u.AccountEnabled = false })
	srv.DeleteUser(graphtest.GUID(7, 43))
	second, err := c.Collect(context.Background(), collectors.Request{Previous: &collectors.Previous{State: first.State, Accounts: first.Accounts}})
	if err != nil {
		t.Fatal(err)
	}
	if second.Completeness.Mode != "delta" {
		t.Fatalf("mode %q, want delta", second.Completeness.Mode)
	}
	st := srv.Stats()
	if st.Requests["GET /v1.0/users"] != 0 || st.Requests["GET /v1.0/users/delta()"] != 1 {
		t.Errorf("second run requests %v: want one delta page and no full list", st.Requests)
	}
	if st.Bytes["/v1.0/users/delta()"]*20 > full.Bytes["/v1.0/users"] {
		t.Errorf("delta moved %d bytes against %d for the full list", st.Bytes["/v1.0/users/delta()"], full.Bytes["/v1.0/users"])
	}
	m := byUPN(second.Accounts)
	if m["user0000042@acme.com"].Status != collectors.StatusInactive {
		t.Error("the change was not applied")
	}
	if _, ok := m["user0000043@acme.com"]; ok || len(second.Accounts) != 2999 {
		t.Errorf("the removed user is still there (%d accounts)", len(second.Accounts))
	}
	if u44, was := asg(m["user0000044@acme.com"], ""), asg(first.Accounts[44], ""); !u44.InForce || len(u44.Via) == 0 || len(was.Via) == 0 || u44.Via[0] != was.Via[0] {
		t.Error("assignments must be re-read in full on a delta run")
	}
	// The third run starts from the second's delta link and sees nothing new.
	third, err := c.Collect(context.Background(), collectors.Request{Previous: &collectors.Previous{State: second.State, Accounts: second.Accounts}})
	if err != nil || len(third.Accounts) != 2999 {
		t.Fatalf("third run: %v, %d", err, len(third.Accounts))
	}
}

func TestExpiredDeltaFallsBackToFull(t *testing.T) {
	sc := graphtest.Generate(500, 100)
	srv, c := start(t, sc)
	first, err := c.Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	srv.ExpireDeltaTokens()
	second, err := c.Collect(context.Background(), collectors.Request{Previous: &collectors.Previous{State: first.State, Accounts: first.Accounts}})
	if err != nil || !second.Completeness.Complete || second.Completeness.Mode != "delta" && len(second.Accounts) != 500 {
		t.Fatalf("err %v %+v", err, second.Completeness)
	}
	if len(second.Accounts) != 500 || len(second.Completeness.Warnings) == 0 || !strings.Contains(second.Completeness.Warnings[0], "syncStateNotFound") {
		t.Errorf("accounts %d warnings %v", len(second.Accounts), second.Completeness.Warnings)
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name     string
		faults   graphtest.Faults
		secret   string
		complete bool
		errHas   string
	}{
		{"429 then success", graphtest.Faults{Status429: 2}, "", true, ""},
		{"503 then success", graphtest.Faults{Status503: 1}, "", true, ""},
		{"500 on page 2 is incomplete", graphtest.Faults{FailPath: "/v1.0/users", FailPage: 2}, "", false, "Graph answered 500"},
		{"malformed JSON is incomplete", graphtest.Faults{MalformedPath: "/v1.0/servicePrincipals", MalformedPage: 1}, "", false, "assignments"},
		{"a malformed users page (decoded lean) is incomplete", graphtest.Faults{MalformedPath: "/v1.0/users", MalformedPage: 2}, "", false, "a page of /users from Graph is not valid JSON"},
		{"a malformed members page (decoded lean) is incomplete", graphtest.Faults{MalformedPath: "/v1.0/groups", MalformedPage: 1}, "", false, "/members from Graph is not valid JSON"},
		{"401", graphtest.Faults{Unauthorized: true}, "", false, "Graph rejected the access token (InvalidAuthenticationToken"},
		{"403 names the permission", graphtest.Faults{DropPermissions: []string{graphtest.GroupMemberReadAll}}, "", false, "grant the application permission GroupMember.Read.All"},
		{"wrong secret", graphtest.Faults{}, "wrong-secret-value-123", false, "AADSTS7000215"},
		{"throttled beyond the budget", graphtest.Faults{Status429: 100, RetryAfter: 3}, "", false, "still throttling"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := graphtest.Generate(1500, 200)
			srv, c := start(t, sc)
			srv.SetFaults(tt.faults)
			if tt.secret != "" {
				c.secret = tt.secret
			}
			c.cfg.MaxRetryWait = 5 * time.Second
			res, err := c.Collect(context.Background(), collectors.Request{})
			if res.Completeness.Complete != tt.complete {
				t.Fatalf("complete %v, want %v: %v", res.Completeness.Complete, tt.complete, err)
			}
			if tt.complete {
				if err != nil || res.Completeness.Records != 1500 || res.Completeness.Retries == 0 {
					t.Fatalf("err %v %+v", err, res.Completeness)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("error %v does not contain %q", err, tt.errHas)
			}
			for _, secret := range []string{sc.ClientSecret, tt.secret} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Fatal("the secret leaked into the error")
				}
			}
		})
	}
}

// TestTokenNeverMissing shows the trap and that the collector avoids it:
// with the SDK's default allowed hosts (graph.microsoft.com and its
// national clouds) the authentication provider silently sends no token to
// any other graph_url.
func TestTokenNeverMissing(t *testing.T) {
	sc := graphtest.Generate(50, 10)
	srv, c := start(t, sc)
	if got := c.AllowedHosts(); len(got) != 1 || got[0] != "127.0.0.1" {
		t.Fatalf("allowed hosts %v, want graph_url's host", got)
	}
	if _, err := c.Collect(context.Background(), collectors.Request{}); err != nil || srv.Stats().Unauthenticated != 0 {
		t.Fatalf("err %v, unauthenticated %d", err, srv.Stats().Unauthenticated)
	}
	c.hosts = []string{"graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us", "graph.microsoft.de", "microsoftgraph.chinacloudapi.cn"}
	_, err := c.Collect(context.Background(), collectors.Request{})
	if err == nil || srv.Stats().Unauthenticated == 0 {
		t.Fatalf("with the SDK's default hosts the requests should go without a token: err %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	env := collectors.Env{File: "f.yaml", Getenv: func(string) string { return "s3cret" }}
	g := graphtest.GUID
	for _, tt := range []struct {
		cfg  Config
		want string
	}{
		{Config{ClientID: "x", ServicePrincipalID: g(1, 1), ClientSecretEnv: "S"}, "tenant_id is required"},
		{Config{TenantID: "t", ClientID: "x", ServicePrincipalID: "stonly", ClientSecretEnv: "S"}, "is not a GUID"},
		{Config{TenantID: "t", ClientID: "x", ServicePrincipalID: g(1, 1), ClientSecretEnv: "S", GraphURL: "http://graph.example"}, "must be an absolute https URL"},
		{Config{TenantID: "t", ClientID: "x", ServicePrincipalID: g(1, 1), ClientSecretEnv: "S", TokenURL: "https://login.example/other/oauth2/v2.0/token"}, `names tenant "other"`},
		{Config{TenantID: "t", ClientID: "x", ServicePrincipalID: g(1, 1)}, "client_secret_env is required"},
		{Config{TenantID: "t", ClientID: "x", ClientSecretEnv: "S"}, "service_principal_id is required (or apps"},
		{Config{TenantID: "t", ClientID: "x", ServicePrincipalID: g(1, 1), Apps: map[string]string{"stonly": g(1, 2)}, ClientSecretEnv: "S"}, "service_principal_id and apps are both set"},
		{Config{TenantID: "t", ClientID: "x", Apps: map[string]string{"stonly": g(1, 2), "notion": "0oa123"}, ClientSecretEnv: "S"}, `apps.notion: "0oa123" is not a GUID`},
		{Config{TenantID: "t", ClientID: "x", Apps: map[string]string{"stonly": g(1, 2), "notion": g(1, 2)}, ClientSecretEnv: "S"}, "apps.notion and apps.stonly name the same service principal"},
		{Config{TenantID: "t", ClientID: "x", Apps: map[string]string{"my app": g(1, 2)}, ClientSecretEnv: "S"}, `"my app" is not an application name`},
	} {
		if _, err := NewCollector(tt.cfg, env); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.cfg, err, tt.want)
		}
	}
	_ = fmt.Sprint
}
