package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	return result{code, out.String(), errb.String()}
}

// quickstart copies the quick-start data to a temporary folder so that
// tests can change it.
func quickstart(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := "../../testdata/quickstart"
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".csv") || strings.HasSuffix(e.Name(), ".yaml") {
			b, _ := os.ReadFile(filepath.Join(src, e.Name()))
			os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600)
		}
	}
	return filepath.Join(dir, "idgraph.yaml")
}

func TestRunGoodIsZero(t *testing.T) {
	cfg := quickstart(t)
	r := run(t, nil, "run", "-q", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "snapshot 1") || !strings.Contains(r.stdout, "orphaned 4") {
		t.Errorf("summary:\n%s", r.stdout)
	}
	fi, err := os.Stat(filepath.Join(filepath.Dir(cfg), "quickstart.db"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("store: %v mode %v", err, fi.Mode())
	}

	r = run(t, nil, "findings", "--config", cfg, "--format", "json")
	if r.code != 0 {
		t.Fatalf("findings exit %d: %s", r.code, r.stderr)
	}
	var fs []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &fs); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, f := range fs {
		for _, k := range []string{"kind", "reason", "severity", "team", "email", "actual_role", "expected_role", "first_seen"} {
			if _, ok := f[k]; !ok {
				t.Errorf("finding lacks %q: %v", k, f)
			}
		}
		kinds[f["kind"].(string)] = true
	}
	for _, k := range []string{"orphaned", "unassigned", "missing", "role_mismatch", "idp_conflict", "duplicate"} {
		if !kinds[k] {
			t.Errorf("the quick start shows no %s finding", k)
		}
	}

	r = run(t, nil, "findings", "--config", cfg, "--format", "csv")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "snapshot_id,id,kind,") || !strings.Contains(r.stdout, "\r\n") {
		t.Errorf("csv exit %d:\n%.300s", r.code, r.stdout)
	}
	r = run(t, nil, "findings", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "bob@acme.com") {
		t.Errorf("table exit %d:\n%s", r.code, r.stdout)
	}
}

func TestBadConfigIsTwo(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "idgraph.yaml")
	os.WriteFile(bad, []byte("store: x.db\nstonly_typo: {}\n"), 0o600)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown key", []string{"run", "--config", bad}, `unknown key "stonly_typo"`},
		{"missing file", []string{"run", "--config", filepath.Join(dir, "none.yaml")}, "none.yaml"},
		{"unknown flag", []string{"run", "--bogus"}, "unknown flag"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"bad format", []string{"findings", "--format", "xml", "--config", bad}, "--format"},
		{"bad log format", []string{"--log-format", "yaml", "snapshots"}, "--log-format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, nil, tt.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.want)
			}
		})
	}
}

func TestIncompleteSourceIsThree(t *testing.T) {
	cfg := quickstart(t)
	// A row the IdP export cannot explain makes that source incomplete.
	f := filepath.Join(filepath.Dir(cfg), "entra-users.csv")
	b, _ := os.ReadFile(f)
	os.WriteFile(f, append(b, []byte("bad-row-id,not-an-address,,X,ENABLED,,,,true,false\n")...), 0o600)
	r := run(t, nil, "run", "-q", "--config", cfg)
	if r.code != 3 {
		t.Fatalf("exit %d, want 3\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "entra-export") || !strings.Contains(r.stderr, "entra-users.csv:9") {
		t.Errorf("stderr does not name the source and the line: %s", r.stderr)
	}
	// Orphaned findings depend on every IdP: none may be a fact now.
	r = run(t, nil, "findings", "--config", cfg, "--format", "json")
	if strings.Contains(r.stdout, `"orphaned"`) {
		t.Errorf("orphaned listed as a fact although an IdP was incomplete:\n%s", r.stdout)
	}
	r = run(t, nil, "findings", "--config", cfg, "--format", "json", "--state", "unknown")
	if !strings.Contains(r.stdout, `"orphaned"`) {
		t.Errorf("orphaned should be recorded as unknown:\n%.500s", r.stdout)
	}
}

func TestMassChangeGuardAndDrift(t *testing.T) {
	cfg := quickstart(t)
	if r := run(t, nil, "run", "-q", "--config", cfg); r.code != 0 {
		t.Fatalf("first run: %d %s", r.code, r.stderr)
	}
	// The Stonly export loses most of its rows, as a broken export would.
	f := filepath.Join(filepath.Dir(cfg), "stonly-members.csv")
	b, _ := os.ReadFile(f)
	lines := strings.SplitAfter(string(b), "\n")
	os.WriteFile(f, []byte(strings.Join(lines[:4], "")), 0o600)
	r := run(t, nil, "run", "-q", "--config", cfg)
	if r.code != 3 || !strings.Contains(r.stderr, "--accept-drop stonly") {
		t.Fatalf("guard: exit %d\n%s", r.code, r.stderr)
	}
	r = run(t, nil, "drift", "--config", cfg, "--json")
	if r.code != 0 {
		t.Fatalf("drift: %d %s", r.code, r.stderr)
	}
	var d struct {
		From, To int64
		Resolved []any `json:"resolved"`
		Removed  []any `json:"accounts_removed"`
	}
	json.Unmarshal([]byte(r.stdout), &d)
	if d.From != 1 || d.To != 2 || len(d.Removed) != 0 || len(d.Resolved) != 0 {
		t.Errorf("a guarded (incomplete) source must not look like removals: %+v", d)
	}
	r = run(t, nil, "run", "-q", "--config", cfg, "--accept-drop", "stonly")
	if r.code != 0 {
		t.Fatalf("accepted drop: exit %d %s", r.code, r.stderr)
	}
	r = run(t, nil, "drift", "--config", cfg, "--json")
	json.Unmarshal([]byte(r.stdout), &d)
	if d.From != 1 || d.To != 3 || len(d.Removed) == 0 || len(d.Resolved) == 0 {
		t.Errorf("accepted drop: want removals and resolved findings against snapshot 1: from %d to %d removed %d resolved %d", d.From, d.To, len(d.Removed), len(d.Resolved))
	}
	r = run(t, nil, "snapshots", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "INCOMPLETE") {
		t.Errorf("snapshots:\n%s", r.stdout)
	}
	r = run(t, nil, "verify", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "3 snapshots verified") {
		t.Errorf("verify: %d %s %s", r.code, r.stdout, r.stderr)
	}
}

func TestFirstSeenCarried(t *testing.T) {
	cfg := quickstart(t)
	for i := 0; i < 2; i++ {
		if r := run(t, nil, "run", "-q", "--config", cfg); r.code != 0 {
			t.Fatal(r.stderr)
		}
	}
	r := run(t, nil, "findings", "--config", cfg, "--format", "json")
	var fs []struct {
		FirstSnap int64 `json:"first_seen_snapshot"`
		LastSnap  int64 `json:"last_seen_snapshot"`
	}
	json.Unmarshal([]byte(r.stdout), &fs)
	if len(fs) == 0 {
		t.Fatal("no findings")
	}
	for _, f := range fs {
		if f.FirstSnap != 1 || f.LastSnap != 2 {
			t.Fatalf("first/last seen = %d/%d, want 1/2", f.FirstSnap, f.LastSnap)
		}
	}
}

func TestCollectPrintsJSON(t *testing.T) {
	cfg := quickstart(t)
	r := run(t, nil, "collect", "--config", cfg, "--source", "stonly")
	if r.code != 0 {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
	var out struct {
		Completeness struct {
			Complete bool
			Records  int
		}
		Accounts []map[string]any
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if !out.Completeness.Complete || out.Completeness.Records != 18 || len(out.Accounts) != 18 {
		t.Errorf("collect = %+v", out.Completeness)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "quickstart.db")); err == nil {
		t.Error("collect stored something")
	}
	if r := run(t, nil, "collect", "--config", cfg, "--source", "nope"); r.code != 2 {
		t.Errorf("unknown source: exit %d", r.code)
	}
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, c := range []string{"run", "collect", "findings", "snapshots", "drift", "verify", "version"} {
		r := run(t, nil, c, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("%s --help: exit %d\n%s", c, r.code, r.stdout)
		}
	}
}

func TestTableIsSafeOnATerminal(t *testing.T) {
	cfg := quickstart(t)
	f := filepath.Join(filepath.Dir(cfg), "stonly-members.csv")
	b, _ := os.ReadFile(f)
	hostile := "intruder@evil.com,Evil,Admin,active,t-evil,\"\x1b]0;pwned\x07\x1b[31mRed\u202eTeam\"\n"
	os.WriteFile(f, append(b, []byte(hostile)...), 0o600)
	if r := run(t, nil, "run", "-q", "-c", cfg); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := run(t, nil, "findings", "-c", cfg)
	if strings.ContainsAny(r.stdout, "\x1b\x07\u202e") {
		t.Fatalf("terminal control characters reached the table:\n%q", r.stdout)
	}
	if !strings.Contains(r.stdout, "intruder@evil.com") {
		t.Fatal("the finding is missing")
	}
}

func TestServeNeedsAuthentication(t *testing.T) {
	cfg := quickstart(t)
	r := run(t, nil, "serve", "--no-schedule", "-c", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, "requires authentication") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(b, []byte("serve: {users_env: IDGRAPH_USERS, listen: 127.0.0.1:0}\n")...), 0o600)
	r = run(t, map[string]string{"IDGRAPH_USERS": "alice@acme.com:short"}, "serve", "--no-schedule", "-c", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, "at least 8 characters") {
		t.Fatalf("weak password: exit %d: %s", r.code, r.stderr)
	}
}

func TestCompletionAndVersion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_idgraph", "zsh": "#compdef idgraph", "fish": "complete -c idgraph"} {
		r := run(t, nil, "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("completion %s: exit %d, no %q", shell, r.code, want)
		}
	}
	r := run(t, nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "idgraph ") || !strings.Contains(r.stdout, "commit ") {
		t.Errorf("version: %q", r.stdout)
	}
	r = run(t, nil, "init", "-o", filepath.Join(t.TempDir(), "new.yaml"))
	if r.code != 0 || !strings.Contains(r.stdout, "idgraph doctor") {
		t.Errorf("init: %d %s", r.code, r.stdout)
	}
}

func TestUnusableAddressIsReported(t *testing.T) {
	cfg := quickstart(t)
	f := filepath.Join(filepath.Dir(cfg), "entra-users.csv")
	b, _ := os.ReadFile(f)
	os.WriteFile(f, []byte(strings.Replace(string(b), "nina@acme.com,,Nina", "nina@acme.com,nina at home,Nina", 1)), 0o600)
	if r := run(t, nil, "run", "-q", "-c", cfg); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	r := run(t, nil, "snapshots", "-c", cfg, "--json")
	if !strings.Contains(r.stdout, "an address was not used for matching") || !strings.Contains(r.stdout, "nina at home") {
		t.Fatalf("the unusable address is not reported:\n%s", r.stdout)
	}
}
