package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors/entra/graphtest"
	"github.com/idgraph/idgraph/collectors/okta/oktatest"
	"github.com/idgraph/idgraph/collectors/stonly"
	"github.com/idgraph/idgraph/collectors/stonly/stonlytest"
	"github.com/idgraph/idgraph/demo"
	"github.com/idgraph/idgraph/store"
)

// TestFaultInjection drives each fault through the real SDKs or the real
// browser against the simulators, and checks what docs/RELIABILITY.md
// promises: the documented exit code, a message naming the source and what
// to do, the source recorded as incomplete, no finding that depends on it
// emitted as a fact, and earlier snapshots untouched.
func TestFaultInjection(t *testing.T) {
	if _, err := stonly.ChromiumPath(""); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %v", err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	env, err := demo.Start(demo.New(60), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	// Short deadlines so that slow and silent faults end within the test.
	b, _ := os.ReadFile(env.Config)
	y := strings.Replace(string(b), "  token_env: DEMO_OKTA_TOKEN\n", "  token_env: DEMO_OKTA_TOKEN\n  request_timeout: 6s\n  max_retries: 2\n", 1)
	y = strings.Replace(y, "  password_env: DEMO_STONLY_PASSWORD\n", "  password_env: DEMO_STONLY_PASSWORD\n  step_timeout: 4s\n", 1)
	y = strings.Replace(y, "  client_secret_env: DEMO_ENTRA_SECRET\n", "  client_secret_env: DEMO_ENTRA_SECRET\n  max_retry_wait: 4s\n", 1)
	os.WriteFile(env.Config, []byte(y), 0o600)
	runIt := func() result {
		var out, errb strings.Builder
		code := Main(context.Background(), []string{"run", "-c", env.Config, "--log-format", "json"}, strings.NewReader(""), &out, &errb, env.Getenv)
		return result{code, out.String(), errb.String()}
	}
	if r := runIt(); r.code != 0 {
		t.Fatalf("clean run: %d\n%s", r.code, r.stderr)
	}
	pw := env.Getenv("DEMO_STONLY_PASSWORD")
	tests := []struct {
		name   string
		source string
		set    func()
		clear  func()
		code   int
		msg    string
	}{
		{"okta 429 storm, retried", "okta", func() { env.Okta.SetFaults(oktatest.Faults{Storm429: 2}) }, func() { env.Okta.SetFaults(oktatest.Faults{}) }, 0, ""},
		{"okta 500 on every users page", "okta", func() { env.Okta.SetFaults(oktatest.Faults{FailPath: "/api/v1/users", FailPage: 1}) }, func() { env.Okta.SetFaults(oktatest.Faults{}) }, 3, "okta: reading"},
		{"okta malformed JSON", "okta", func() { env.Okta.SetFaults(oktatest.Faults{MalformedPath: "/api/v1/apps", MalformedPage: 1}) }, func() { env.Okta.SetFaults(oktatest.Faults{}) }, 3, "okta: reading the app's users"},
		{"okta 401", "okta", func() { env.Okta.SetFaults(oktatest.Faults{Unauthorized: true}) }, func() { env.Okta.SetFaults(oktatest.Faults{}) }, 3, "rejected the API token in DEMO_OKTA_TOKEN"},
		{"okta timeout", "okta", func() { env.Okta.SetFaults(oktatest.Faults{Slow: 10 * time.Second}) }, func() { env.Okta.SetFaults(oktatest.Faults{}) }, 3, "okta"},
		{"entra 503, retried", "entra", func() { env.Graph.SetFaults(graphtest.Faults{Status503: 1}) }, func() { env.Graph.SetFaults(graphtest.Faults{}) }, 0, ""},
		{"entra 500 on a page", "entra", func() { env.Graph.SetFaults(graphtest.Faults{FailPath: "/v1.0/servicePrincipals", FailPage: 1}) }, func() { env.Graph.SetFaults(graphtest.Faults{}) }, 3, "Graph answered 500"},
		{"entra 403", "entra", func() { env.Graph.SetFaults(graphtest.Faults{DropPermissions: []string{graphtest.GroupMemberReadAll}}) }, func() { env.Graph.SetFaults(graphtest.Faults{}) }, 3, "GroupMember.Read.All"},
		{"entra throttled beyond the budget", "entra", func() { env.Graph.SetFaults(graphtest.Faults{Status429: 1000, RetryAfter: 2}) }, func() { env.Graph.SetFaults(graphtest.Faults{}) }, 3, "still throttling"},
		{"entra expired delta token, full read", "entra", func() { env.Graph.ExpireDeltaTokens() }, func() {}, 0, ""},
		{"stonly login failure", "stonly", func() { env.Stonly.Update(func(sc *stonlytest.Scenario) { sc.Password = "changed" }) },
			func() { env.Stonly.Update(func(sc *stonlytest.Scenario) { sc.Password = pw }) }, 3, "refused the login of it-bot@acme.com"},
		{"stonly changed layout", "stonly", func() { env.Stonly.SetVariant(stonlytest.Variant{Renamed: true}) }, func() { env.Stonly.SetVariant(stonlytest.Variant{}) }, 3, "layout changed"},
		{"stonly session expiry mid-scrape", "stonly", func() { env.Stonly.SetVariant(stonlytest.Variant{Paging: "loadmore", PageSize: 5, ExpireAfter: 3}) },
			func() { env.Stonly.SetVariant(stonlytest.Variant{}) }, 3, "session expired"},
		{"stonly empty members page", "stonly", func() { env.Stonly.SetVariant(stonlytest.Variant{SilentEmpty: true}) }, func() { env.Stonly.SetVariant(stonlytest.Variant{}) }, 3, "layout changed"},
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "idgraph.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := st.List(context.Background())
			tt.set()
			r := runIt()
			tt.clear()
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tt.code, r.stderr)
			}
			after, _ := st.List(context.Background())
			if len(after) != len(before)+1 {
				t.Fatalf("want one new snapshot, have %d -> %d", len(before), len(after))
			}
			if res, err := st.Verify(context.Background()); err != nil || res.BadID != 0 {
				t.Fatalf("earlier snapshots changed: %+v %v", res, err)
			}
			if tt.code == 0 {
				return
			}
			if !strings.Contains(r.stderr, tt.msg) {
				t.Errorf("stderr does not say %q:\n%s", tt.msg, r.stderr)
			}
			snap := after[0]
			for _, s := range snap.Sources {
				if s.Info.Name == tt.source && s.Completeness.Complete {
					t.Errorf("%s recorded as complete", tt.source)
				}
			}
			fs, _ := st.Findings(context.Background(), snap.ID)
			for _, f := range fs {
				for _, d := range f.DependsOn {
					if d == tt.source && f.State == "open" {
						t.Errorf("finding %s depends on %s yet is a fact", f.Key, tt.source)
					}
				}
			}
			for _, secret := range env.Secrets() {
				if strings.Contains(r.stdout+r.stderr, secret) {
					t.Error("a secret appears in the output")
				}
			}
			var line map[string]any
			for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
				if strings.HasPrefix(l, "{") && json.Unmarshal([]byte(l), &line) != nil {
					t.Errorf("--log-format json wrote a line that is not JSON: %s", l)
				}
			}
		})
	}
}

func TestSecondRunIsRefused(t *testing.T) {
	cfg := quickstart(t)
	unlock, err := store.Lock(filepath.Join(filepath.Dir(cfg), "quickstart.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	r := run(t, nil, "run", "-q", "-c", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "another idgraph run holds the store (pid") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}
