package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/store"
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
	file := filepath.Join(t.TempDir(), "stonly.json")
	if r := run(t, nil, "collect", "--config", cfg, "--source", "stonly", "--out", file); r.code != 0 || !strings.Contains(r.stdout, "wrote "+file+" (18 accounts)") {
		t.Errorf("collect --out: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	if b, err := os.ReadFile(file); err != nil || !json.Valid(b) {
		t.Errorf("collect --out wrote no JSON: %v", err)
	}
	if r := run(t, nil, "collect", "--config", cfg, "--source", "stonly", "--out", "x.csv"); r.code != 2 {
		t.Errorf("collect --out x.csv: exit %d, want 2", r.code)
	}
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, c := range []string{"run", "collect", "findings", "snapshots", "drift", "verify", "version", "people", "report", "export", "demo"} {
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

// storeOf is the store file of the quick-start configuration cfg.
func storeOf(cfg string) string { return filepath.Join(filepath.Dir(cfg), "quickstart.db") }

// readCommands are the commands that only read the store.
var readCommands = [][]string{
	{"findings"}, {"snapshots"}, {"verify"}, {"drift", "--from", "1"}, {"people"},
	{"report", "--out", "-"}, {"export", "--out", "-"},
}

// TestReadCommandsNeedAStore: a command that only reads never creates a
// store on a mistyped path (where verify used to say "0 snapshots
// verified", exit 0), and refuses, with exit 2 naming the path, a file
// that is no store or whose schema is older than the binary's, leaving it
// as it was.
func TestReadCommandsNeedAStore(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
		want  string
	}{
		{"missing", func(t *testing.T, path string) {}, "does not exist"},
		{"zero bytes", func(t *testing.T, path string) { os.WriteFile(path, nil, 0o600) }, "empty (0 bytes)"},
		{"not a store", func(t *testing.T, path string) { os.WriteFile(path, []byte("id,email\n"), 0o600) }, "not a SQLite database"},
		{"older schema", func(t *testing.T, path string) {
			// As a binary one migration older left it.
			if r := run(t, nil, "run", "-q", "-c", filepath.Join(filepath.Dir(path), "idgraph.yaml")); r.code != 0 {
				t.Fatal(r.stderr)
			}
			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`DELETE FROM goose_db_version WHERE version_id = (SELECT MAX(version_id) FROM goose_db_version)`); err != nil {
				t.Fatal(err)
			}
		}, "a command that writes upgrades it, then read it again (`idgraph run` writes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := quickstart(t)
			path := storeOf(cfg)
			tt.setup(t, path)
			before, _ := os.ReadFile(path)
			for _, args := range readCommands {
				r := run(t, nil, append(append([]string{}, args...), "-c", cfg)...)
				if r.code != 2 || !strings.Contains(r.stderr, path) || !strings.Contains(r.stderr, tt.want) {
					t.Errorf("%v: exit %d, want 2 naming %s and saying %q:\n%s", args, r.code, path, tt.want, r.stderr)
				}
				after, err := os.ReadFile(path)
				if tt.name == "missing" && err == nil {
					t.Fatalf("%v created the store", args)
				}
				if !bytes.Equal(before, after) {
					t.Fatalf("%v changed the store", args)
				}
			}
		})
	}
}

// TestReadCommandsOnAReadOnlyStore: the read commands work on a store the
// user may not write (file 0444 in a folder 0555, where SQLite cannot
// create the WAL's files), where they used to fail. Root ignores file
// modes, so as root the commands run in a child process as user nobody.
func TestReadCommandsOnAReadOnlyStore(t *testing.T) {
	if args := os.Getenv("IDGRAPH_CLI_CHILD"); args != "" {
		var out, errb bytes.Buffer
		code := Main(context.Background(), strings.Split(args, "\x1f"), strings.NewReader(""), &out, &errb, func(string) string { return "" })
		fmt.Printf("\nCHILD-EXIT %d\nCHILD-STDOUT\n%s\nCHILD-STDERR\n%s\n", code, out.String(), errb.String())
		return
	}
	base, err := os.MkdirTemp("", "idgraph-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(base, "qs"), 0o755); os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	dir := filepath.Join(base, "qs")
	os.Mkdir(dir, 0o755)
	src := filepath.Dir(quickstart(t))
	entries, _ := os.ReadDir(src)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(src, e.Name()))
		os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
	}
	cfg := filepath.Join(dir, "idgraph.yaml")
	for i := 0; i < 2; i++ {
		if r := run(t, nil, "run", "-q", "-c", cfg); r.code != 0 {
			t.Fatal(r.stderr)
		}
	}
	os.Remove(storeOf(cfg) + ".lock")
	os.Chmod(storeOf(cfg), 0o444)
	os.Chmod(dir, 0o555)
	runAs := func(args ...string) result {
		t.Helper()
		if os.Geteuid() != 0 {
			return run(t, nil, args...)
		}
		bin := filepath.Join(base, "idgraph.test")
		if _, err := os.Stat(bin); err != nil {
			copyExecutable(t, os.Args[0], bin)
		}
		cmd := exec.Command(bin, "-test.run=^TestReadCommandsOnAReadOnlyStore$")
		cmd.Env = append(os.Environ(), "IDGRAPH_CLI_CHILD="+strings.Join(args, "\x1f"))
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		b, err := cmd.CombinedOutput()
		s := string(b)
		i, j, k := strings.Index(s, "\nCHILD-EXIT "), strings.Index(s, "\nCHILD-STDOUT\n"), strings.Index(s, "\nCHILD-STDERR\n")
		if err != nil || i < 0 || j < i || k < j {
			t.Fatalf("child: %v\n%s", err, s)
		}
		var r result
		fmt.Sscanf(s[i+len("\nCHILD-EXIT "):], "%d", &r.code)
		r.stdout, r.stderr = s[j+len("\nCHILD-STDOUT\n"):k], s[k+len("\nCHILD-STDERR\n"):]
		return r
	}
	// The setup is really read-only for that user: a run cannot write.
	if r := runAs("run", "-q", "-c", cfg); r.code == 0 {
		t.Fatalf("a run wrote into the read-only store:\n%s", r.stdout)
	}
	before := dirListing(t, dir)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"verify"}, "2 snapshots verified"},
		{[]string{"findings", "--format", "json"}, `"kind": "orphaned"`},
		{[]string{"snapshots"}, "stonly:18 ok"},
		{[]string{"drift", "--from", "1"}, "drift from snapshot 1 to 2"},
		{[]string{"export", "--out", "-"}, "snapshot_id,snapshot_utc"},
		{[]string{"report", "--out", "-", "--format", "md"}, "snapshot 2"},
		{[]string{"people", "--email", "bob@acme.com"}, "Bob Leaver"},
	} {
		r := runAs(append(tt.args, "-c", cfg)...)
		if r.code != 0 || !strings.Contains(r.stdout, tt.want) {
			t.Errorf("%v on a read-only store: exit %d, want 0 and %q\n%.400s\n%s", tt.args, r.code, tt.want, r.stdout, r.stderr)
		}
	}
	if after := dirListing(t, dir); after != before {
		t.Errorf("the read-only folder changed:\n%s\n%s", before, after)
	}
}

func dirListing(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fmt.Fprintf(&b, "%s %x\n", e.Name(), sha256.Sum256(data))
	}
	return b.String()
}

func copyExecutable(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReportsFailAfterTheSnapshotIsStored: when the snapshot is stored but
// the reports cannot be written, the run exits 3 (not 1, which a scheduler
// would retry, storing a duplicate snapshot), says the snapshot is stored
// and how to write its reports, and the snapshot is there.
func TestReportsFailAfterTheSnapshotIsStored(t *testing.T) {
	cfg := quickstart(t)
	dir := filepath.Dir(cfg)
	os.WriteFile(filepath.Join(dir, "a-file"), []byte("x"), 0o600)
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(b, []byte("report: {dir: a-file/reports}\n")...), 0o600)
	r := run(t, nil, "run", "-q", "-c", cfg)
	if r.code != 3 {
		t.Fatalf("exit %d, want 3\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"snapshot 1 stored", "the reports could not be written to " + filepath.Join(dir, "a-file", "reports"),
		"do not run again", "idgraph report --snapshot 1"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r := run(t, nil, "snapshots", "-c", cfg, "--format", "json"); !strings.Contains(r.stdout, `"id": 1`) || strings.Contains(r.stdout, `"id": 2`) {
		t.Errorf("want exactly snapshot 1 stored:\n%s", r.stdout)
	}
	out := filepath.Join(dir, "report.html")
	if r := run(t, nil, "report", "-c", cfg, "--snapshot", "1", "--out", out); r.code != 0 {
		t.Errorf("the report of the stored snapshot: exit %d %s", r.code, r.stderr)
	}
}

// TestDemoRefusesAFolderItDidNotMake: a demo into a folder holding a real
// configuration and store refuses, exit 2, and touches nothing; the
// folders it accepts are new, empty or marked by an earlier demo, and a
// marked folder loses only what the demo wrote.
func TestDemoRefusesAFolderItDidNotMake(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"idgraph.yaml": "store: idgraph.db\n", "idgraph.db": "a real store", "notes.txt": "mine"}
	for name, data := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600)
	}
	r := run(t, nil, "demo", "--dir", dir)
	if r.code != 2 || !strings.Contains(r.stderr, "was not made by the demo") || !strings.Contains(r.stderr, "--force") {
		t.Fatalf("exit %d, want 2 and --force named:\n%s", r.code, r.stderr)
	}
	for name, data := range files {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(b) != data {
			t.Errorf("%s was touched: %q %v", name, b, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, demoMarker)); err == nil {
		t.Error("the refused folder was marked")
	}

	tests := []struct {
		name  string
		setup func(dir string)
		force bool
		ok    bool
	}{
		{"new", func(dir string) { os.Remove(dir) }, false, true},
		{"empty", func(dir string) {}, false, true},
		{"foreign", func(dir string) { os.WriteFile(filepath.Join(dir, "idgraph.yaml"), []byte("x"), 0o600) }, false, false},
		{"foreign, forced", func(dir string) { os.WriteFile(filepath.Join(dir, "idgraph.yaml"), []byte("x"), 0o600) }, true, true},
		{"made by the demo", func(dir string) {
			prepareDemoDir(dir)
			os.WriteFile(filepath.Join(dir, "idgraph.db"), []byte("x"), 0o600)
		}, false, true},
		{"a file", func(dir string) { os.Remove(dir); os.WriteFile(dir, nil, 0o600) }, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "demo")
			os.Mkdir(dir, 0o700)
			tt.setup(dir)
			os.WriteFile(filepath.Join(filepath.Dir(dir), "beside.txt"), []byte("x"), 0o600)
			err := checkDemoDir(dir, tt.force)
			if (err == nil) != tt.ok {
				t.Fatalf("checkDemoDir: %v, want ok=%v", err, tt.ok)
			}
			if err != nil {
				return
			}
			kept := []string{demoMarker, "../beside.txt"}
			if _, err := os.Stat(dir); err == nil {
				os.WriteFile(filepath.Join(dir, "kept.txt"), []byte("x"), 0o600)
				kept = append(kept, "kept.txt")
			}
			if err := prepareDemoDir(dir); err != nil {
				t.Fatal(err)
			}
			for _, name := range kept {
				if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
			for _, name := range []string{"idgraph.yaml", "idgraph.db"} {
				if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
					t.Errorf("the demo's old %s is still there", name)
				}
			}
		})
	}
}

// TestOutputConvention: --format and --out behave alike everywhere:
// "-" is standard output (never a file named "-"), an extension chooses
// the format when --format is absent and contradicts it otherwise (exit
// 2), a missing folder is named, and an unknown snapshot is exit 2.
func TestOutputConvention(t *testing.T) {
	cfg := quickstart(t)
	for i := 0; i < 2; i++ {
		if r := run(t, nil, "run", "-q", "-c", cfg); r.code != 0 {
			t.Fatal(r.stderr)
		}
	}
	dir := t.TempDir()
	wd, _ := os.Getwd()
	isJSON := func(s string) bool {
		return json.Valid([]byte(s)) && strings.HasPrefix(strings.TrimSpace(s), "[") || strings.HasPrefix(strings.TrimSpace(s), "{") && json.Valid([]byte(s))
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout func(string) bool // nil: not checked
		file   string            // written file, checked by fileOK
		fileOK func(string) bool
		stderr string
	}{
		{"findings json to stdout", []string{"findings", "--format", "json", "--out", "-"}, 0, isJSON, "", nil, ""},
		{"findings format from .json", []string{"findings", "--out", filepath.Join(dir, "f.json")}, 0, nil, "f.json", isJSON, ""},
		{"findings format from .csv", []string{"findings", "--out", filepath.Join(dir, "f.csv")}, 0, nil, "f.csv",
			func(s string) bool { return strings.HasPrefix(s, "snapshot_id,id,kind,") }, ""},
		{"findings .txt is a table", []string{"findings", "--out", filepath.Join(dir, "f.txt")}, 0, nil, "f.txt",
			func(s string) bool { return strings.HasPrefix(s, "ID ") }, ""},
		{"findings extension contradicts format", []string{"findings", "--format", "json", "--out", filepath.Join(dir, "g.csv")}, 2, nil, "", nil, "names a CSV file but --format is json"},
		{"report .md is Markdown", []string{"report", "--out", filepath.Join(dir, "r.md")}, 0, nil, "r.md",
			func(s string) bool { return strings.HasPrefix(s, "# ") }, ""},
		{"report .html is HTML", []string{"report", "--out", filepath.Join(dir, "r.html")}, 0, nil, "r.html",
			func(s string) bool { return strings.Contains(s[:min(len(s), 200)], "<html") }, ""},
		{"report .md with --format html", []string{"report", "--out", filepath.Join(dir, "x.md"), "--format", "html"}, 2, nil, "", nil, "names a Markdown file but --format is html"},
		{"report to stdout", []string{"report", "--out", "-", "--format", "md"}, 0, func(s string) bool { return strings.HasPrefix(s, "# ") }, "", nil, ""},
		{"report into a missing folder", []string{"report", "--out", filepath.Join(dir, "nope", "r.html")}, 2, nil, "", nil,
			"the folder " + filepath.Join(dir, "nope") + " does not exist"},
		{"report needs --out", []string{"report"}, 2, nil, "", nil, "--out is required"},
		{"export to stdout", []string{"export", "--out", "-", "--kind", "findings"}, 0,
			func(s string) bool { return strings.HasPrefix(s, "snapshot_id,") }, "", nil, "no manifest"},
		{"export to a file has a manifest", []string{"export", "--out", filepath.Join(dir, "e.csv")}, 0, nil, "e.csv.manifest.json", isJSON, ""},
		{"export .json", []string{"export", "--out", filepath.Join(dir, "e.json")}, 2, nil, "", nil, "does not write"},
		{"snapshots json", []string{"snapshots", "--format", "json"}, 0, isJSON, "", nil, ""},
		{"snapshots --json still works", []string{"snapshots", "--json"}, 0, isJSON, "", nil, "deprecated"},
		{"snapshots csv", []string{"snapshots", "--format", "csv"}, 0, func(s string) bool { return strings.HasPrefix(s, "snapshot_id,finished_at,") }, "", nil, ""},
		{"snapshots bad format", []string{"snapshots", "--format", "xml"}, 2, nil, "", nil, "--format must be table, json or csv"},
		{"drift --json still works", []string{"drift", "--json"}, 0, isJSON, "", nil, "deprecated"},
		{"drift --json and --format csv", []string{"drift", "--json", "--format", "csv"}, 2, nil, "", nil, "disagree"},
		{"drift csv", []string{"drift", "--format", "csv"}, 0, func(s string) bool { return strings.HasPrefix(s, "change,finding_id,") }, "", nil, ""},
		{"findings of no snapshot", []string{"findings", "--snapshot", "99"}, 2, nil, "", nil, "snapshot 99 is not in"},
		{"report of no snapshot", []string{"report", "--snapshot", "99", "--out", "-"}, 2, nil, "", nil, "snapshot 99"},
		{"export of no snapshot", []string{"export", "--snapshot", "99", "--out", "-"}, 2, nil, "", nil, "snapshot 99"},
		{"drift to no snapshot", []string{"drift", "--to", "99"}, 2, nil, "", nil, "snapshot 99"},
		{"drift from no snapshot", []string{"drift", "--from", "99"}, 2, nil, "", nil, "snapshot 99"},
		{"people of no snapshot", []string{"people", "--snapshot", "99"}, 2, nil, "", nil, "snapshot 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, nil, append(tt.args, "-c", cfg)...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%.300s\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			if tt.stdout != nil && !tt.stdout(r.stdout) {
				t.Errorf("stdout:\n%.300s", r.stdout)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, r.stderr)
			}
			if tt.file != "" {
				b, err := os.ReadFile(filepath.Join(dir, tt.file))
				if err != nil || !tt.fileOK(string(b)) {
					t.Errorf("%s: %v\n%.300s", tt.file, err, b)
				}
			}
			if _, err := os.Stat(filepath.Join(wd, "-")); err == nil {
				os.Remove(filepath.Join(wd, "-"))
				t.Fatal(`a file named "-" was written`)
			}
		})
	}
}

// TestFindingsFilters: findings narrows by kind, minimum severity, team (id
// or name), application and review decision as the API does, rejects
// values it does not know (exit 2, where a typo used to list nothing), and
// shows the finding ID that decisions name.
func TestFindingsFilters(t *testing.T) {
	cfg := quickstart(t)
	if r := run(t, nil, "run", "-q", "-c", cfg); r.code != 0 {
		t.Fatal(r.stderr)
	}
	type item struct {
		ID, Kind, Severity, Team, TeamName, App, Key, Explanation string
		Status                                                    string `json:"review_status"`
	}
	list := func(args ...string) []item {
		t.Helper()
		r := run(t, nil, append([]string{"findings", "-c", cfg, "--format", "json"}, args...)...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d %s", args, r.code, r.stderr)
		}
		var out []item
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	all := list()
	if len(all) < 10 {
		t.Fatalf("only %d findings", len(all))
	}
	// Decisions as the UI records them: one approval that has expired,
	// one revoke.
	st, err := store.Open(context.Background(), storeOf(cfg))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, d := range []store.Decision{
		{FindingKey: all[0].Key, Decision: "approve", Justification: "ok", Reviewer: "r@acme.com", DecidedAt: now.Add(-48 * time.Hour), ExpiresAt: now.Add(-time.Hour), SnapshotID: 1},
		{FindingKey: all[1].Key, Decision: "revoke", Justification: "gone", Reviewer: "r@acme.com", DecidedAt: now, SnapshotID: 1},
	} {
		if err := st.Decide(context.Background(), &d); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	count := func(pred func(item) bool) int {
		n := 0
		for _, f := range all {
			if pred(f) {
				n++
			}
		}
		return n
	}
	tests := []struct {
		args []string
		want func(item) bool
	}{
		{[]string{"--kind", "orphaned"}, func(f item) bool { return f.Kind == "orphaned" }},
		{[]string{"--severity", "high"}, func(f item) bool { return f.Severity == "high" || f.Severity == "critical" }},
		{[]string{"--severity", "critical"}, func(f item) bool { return f.Severity == "critical" }},
		{[]string{"--team", "t-support"}, func(f item) bool { return f.Team == "t-support" }},
		{[]string{"--team", "support center"}, func(f item) bool { return f.Team == "t-support" }},
		{[]string{"--app", "stonly"}, func(f item) bool { return f.App == "stonly" }},
		{[]string{"--decision", "expired"}, func(f item) bool { return f.ID == all[0].ID }},
		{[]string{"--decision", "revoke"}, func(f item) bool { return f.ID == all[1].ID }},
		{[]string{"--decision", "undecided"}, func(f item) bool { return f.ID != all[0].ID && f.ID != all[1].ID }},
		{[]string{"--kind", "orphaned", "--severity", "critical"}, func(f item) bool { return f.Kind == "orphaned" && f.Severity == "critical" }},
	}
	for _, tt := range tests {
		got := list(tt.args...)
		want := count(tt.want)
		if len(got) != want {
			t.Errorf("%v: %d findings, want %d", tt.args, len(got), want)
		}
		for _, f := range got {
			if !tt.want(f) {
				t.Errorf("%v listed %+v", tt.args, f)
			}
		}
	}
	if n := count(func(f item) bool { return f.Severity == "high" || f.Severity == "critical" }); n == count(func(f item) bool { return f.Severity == "critical" }) {
		t.Errorf("the quick start has no high finding: --severity high proves nothing")
	}
	if got := list("--decision", "revoke"); len(got) != 1 || got[0].Status != "revoke pending" {
		t.Errorf("review status: %+v", got)
	}
	// An application the snapshot does not hold is refused, as a typo is.
	for _, bad := range [][]string{{"--kind", "orphan"}, {"--severity", "severe"}, {"--decision", "approved"}, {"--app", "notion"}} {
		r := run(t, nil, append([]string{"findings", "-c", cfg}, bad...)...)
		if r.code != 2 || !strings.Contains(r.stderr, bad[0]+" must be") {
			t.Errorf("%v: exit %d %s", bad, r.code, r.stderr)
		}
	}
	table := run(t, nil, "findings", "-c", cfg).stdout
	for _, f := range all {
		if !strings.Contains(table, f.ID+"  ") {
			t.Errorf("the table does not show the ID %s", f.ID)
		}
	}
}

// TestExplanationsWholeOffATerminal: written to a pipe or a file, the
// table keeps every explanation whole (on a terminal they are cut to keep
// rows readable).
func TestExplanationsWholeOffATerminal(t *testing.T) {
	cfg := quickstart(t)
	if r := run(t, nil, "run", "-q", "-c", cfg); r.code != 0 {
		t.Fatal(r.stderr)
	}
	var fs []struct{ Explanation string }
	json.Unmarshal([]byte(run(t, nil, "findings", "-c", cfg, "--format", "json").stdout), &fs)
	long := 0
	table := run(t, nil, "findings", "-c", cfg).stdout
	out := filepath.Join(t.TempDir(), "f.txt")
	run(t, nil, "findings", "-c", cfg, "--out", out)
	file, _ := os.ReadFile(out)
	for _, f := range fs {
		if len([]rune(f.Explanation)) > 160 {
			long++
		}
		if !strings.Contains(table, f.Explanation) || !strings.Contains(string(file), f.Explanation) {
			t.Errorf("explanation cut or missing: %q", f.Explanation)
		}
	}
	if long == 0 {
		t.Fatal("no explanation is longer than 160 characters: the test proves nothing")
	}
	if got := cell(strings.Repeat("x", 200), 160, true); len([]rune(got)) != 161 {
		t.Errorf("on a terminal a cell is cut at 160 runes: %d", len([]rune(got)))
	}
}

// TestPluralsAndLists: summaries read as sentences: "1 role change", not
// "1 role changes"; "… duplicate 1 and conflict 2", not a trailing comma.
func TestPluralsAndLists(t *testing.T) {
	cfg := quickstart(t)
	if r := run(t, nil, "run", "-q", "-c", cfg); r.code != 0 {
		t.Fatal(r.stderr)
	}
	f := filepath.Join(filepath.Dir(cfg), "stonly-members.csv")
	b, _ := os.ReadFile(f)
	changed := strings.Replace(string(b), "alice@acme.com,Alice Admin,Admin,", "alice@acme.com,Alice Admin,Member,", 1)
	if changed == string(b) {
		t.Fatal("the quick start changed: Alice is no Admin")
	}
	os.WriteFile(f, []byte(changed), 0o600)
	r := run(t, nil, "run", "-q", "-c", cfg)
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	if !strings.Contains(r.stdout, ", 1 role change, 0 status changes") {
		t.Errorf("drift line:\n%s", r.stdout)
	}
	var line string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "findings: ") {
			line = l
		}
	}
	if !strings.Contains(line, " and ") || strings.HasSuffix(line, ",") || strings.Contains(line, ", and") {
		t.Errorf("findings line: %q", line)
	}
	if v := run(t, nil, "verify", "-c", cfg); !strings.Contains(v.stdout, "2 snapshots verified") {
		t.Errorf("verify: %s", v.stdout)
	}
	for _, tt := range []struct {
		got, want string
	}{
		{report.Plural(1, "snapshot", "snapshots"), "1 snapshot"}, {report.Plural(0, "snapshot", "snapshots"), "0 snapshots"},
		{report.List([]string{"a"}), "a"}, {report.List([]string{"a", "b"}), "a and b"}, {report.List([]string{"a", "b", "c"}), "a, b and c"},
		{findingCounts(nil, false), "none"},
		{findingCounts(nil, true), "none among what could be checked (a source was incomplete: what depends on it could not be checked)"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// TestPeopleByEmail: a person is found by any address a source knows,
// matched as correlation matches (case, spaces, domain aliases, plus
// addressing); an address several people claim shows them all; an unknown one is
// exit 2.
func TestPeopleByEmail(t *testing.T) {
	cfg := quickstart(t)
	if r := run(t, nil, "run", "-q", "-c", cfg); r.code != 0 {
		t.Fatal(r.stderr)
	}
	type person struct {
		Person struct {
			ID, Email   string
			DisplayName string `json:"display_name"`
		}
		Accounts []struct{ Source, Email string }
		Findings []struct{ ID, Kind string }
	}
	tests := []struct {
		email string
		names []string
	}{
		{" BOB@Acme.COM ", []string{"Bob Leaver"}},
		{"ivan@acme.com", []string{"Ivan Acquired"}}, // the account says ivan@acquisicorp.net, an alias
		{"judy@acme.com", []string{"Judy Twice"}},    // Stonly knows judy+stonly@acme.com
		// An Entra other address that two people claim, and the Stonly
		// account that correlation therefore left to a person of its own.
		{"support@acme.com", []string{"Sam Shared", "Sue Shared", "Shared Mailbox"}},
	}
	for _, tt := range tests {
		r := run(t, nil, "people", "-c", cfg, "--email", tt.email, "--format", "json")
		if r.code != 0 {
			t.Errorf("%q: exit %d %s", tt.email, r.code, r.stderr)
			continue
		}
		var ps []person
		if err := json.Unmarshal([]byte(r.stdout), &ps); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range ps {
			names = append(names, p.Person.DisplayName)
			if len(p.Accounts) == 0 {
				t.Errorf("%q: %s without accounts", tt.email, p.Person.DisplayName)
			}
		}
		if strings.Join(names, ",") != strings.Join(tt.names, ",") {
			t.Errorf("%q: found %v, want %v", tt.email, names, tt.names)
		}
	}
	r := run(t, nil, "people", "-c", cfg, "--email", "bob@acme.com")
	for _, want := range []string{"Bob Leaver <bob@acme.com>", "2 accounts", "okta-export", "Support Center", "1 finding", "orphaned"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("detail lacks %q:\n%s", want, r.stdout)
		}
	}
	if r := run(t, nil, "people", "-c", cfg, "--email", "nobody@acme.com"); r.code != 2 || !strings.Contains(r.stderr, "nobody@acme.com") {
		t.Errorf("unknown address: exit %d %s", r.code, r.stderr)
	}
	if r := run(t, nil, "people", "-c", cfg, "--format", "csv"); r.code != 0 || !strings.HasPrefix(r.stdout, "snapshot_id,person_id,") {
		t.Errorf("csv: exit %d\n%.200s", r.code, r.stdout)
	}
}

// TestDescribeBuild: version names the module, version and commit from
// whatever the build recorded: the VCS stamp, else a pseudo-version's
// commit, else it says that the build did not record one.
func TestDescribeBuild(t *testing.T) {
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want []string
	}{
		{"go build in a checkout", &debug.BuildInfo{GoVersion: "go1.26", Main: debug.Module{Path: "github.com/idgraph/idgraph", Version: "v1.4.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "67554d0aa1b2c3d4e5f60718293a4b5c6d7e8f90"}, {Key: "vcs.time", Value: "2026-12-01T20:00:00Z"}, {Key: "vcs.modified", Value: "true"}}},
			[]string{"idgraph v1.4.0\n", "module github.com/idgraph/idgraph\n", "commit 67554d0aa1b2c3d4e5f60718293a4b5c6d7e8f90 (modified)\n", "dated 2026-12-01T20:00:00Z", "go go1.26\n"}},
		{"go install at a commit", &debug.BuildInfo{GoVersion: "go1.26", Main: debug.Module{Path: "github.com/idgraph/idgraph", Version: "v0.0.0-20261201200000-67554d0aa1b2"}},
			[]string{"idgraph v0.0.0-20261201200000-67554d0aa1b2\n", "commit 67554d0aa1b2\n", "dated 2026-12-01T20:00:00Z"}},
		{"pseudo-version after a tag, dirty", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.1-0.20261201200000-67554d0aa1b2+dirty"}},
			[]string{"commit 67554d0aa1b2 (modified)\n"}},
		{"go run", &debug.BuildInfo{GoVersion: "go1.26", Main: debug.Module{Path: "github.com/idgraph/idgraph", Version: "(devel)"}},
			[]string{"idgraph (devel)\n", "commit unknown: this build did not record it", "go run -buildvcs=true"}},
		{"no build info", nil, []string{"idgraph (devel)\n", "commit unknown"}},
	}
	for _, tt := range tests {
		got := describeBuild(tt.bi)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: lacks %q:\n%s", tt.name, w, got)
			}
		}
	}
}

// TestInitToStandardOutput: `init --out -` prints the example instead of
// writing a file named "-".
func TestInitToStandardOutput(t *testing.T) {
	t.Chdir(t.TempDir())
	r := run(t, nil, "init", "--out", "-")
	if r.code != 0 || !strings.Contains(r.stdout, "store: idgraph.db") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat("-"); err == nil {
		t.Error(`init --out - wrote a file named "-"`)
	}
}

// TestFindingsSayWhatCouldNotBeRechecked: after a run in which the Stonly
// export was missing, `findings` says, whatever --state, how many findings
// could not be re-checked and which source was incomplete, and --state all
// lists the carried ones with the facts.
func TestFindingsSayWhatCouldNotBeRechecked(t *testing.T) {
	cfg := quickstart(t)
	if r := run(t, nil, "run", "-q", "-c", cfg); r.code != 0 {
		t.Fatalf("first run: %d %s", r.code, r.stderr)
	}
	os.Remove(filepath.Join(filepath.Dir(cfg), "stonly-members.csv"))
	if r := run(t, nil, "run", "-q", "-c", cfg); r.code != 3 {
		t.Fatalf("second run: %d %s", r.code, r.stderr)
	}
	for _, state := range []string{"open", "unknown", "all"} {
		r := run(t, nil, "findings", "-c", cfg, "--state", state, "--format", "json")
		if r.code != 0 || !strings.Contains(r.stderr, "findings could not be re-checked because stonly (") {
			t.Errorf("--state %s: %d, stderr %q", state, r.code, r.stderr)
		}
		if state == "all" && !strings.Contains(r.stdout, `"carried": true`) {
			t.Errorf("--state all lists no carried finding")
		}
	}
}
