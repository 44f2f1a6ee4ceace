package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	_ "modernc.org/sqlite"
)

// runDecide runs the CLI with the decide and decisions commands, whether
// or not the root registers them yet.
func runDecide(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	root := a.root()
	for _, c := range []*cobra.Command{newDecideCmd(a), newDecisionsCmd(a)} {
		known := false
		for _, have := range root.Commands() {
			known = known || have.Name() == c.Name()
		}
		if !known {
			root.AddCommand(c)
		}
	}
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	code := exitOK
	if err := root.ExecuteContext(context.Background()); err != nil {
		code = exitFailed
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		errb.WriteString(err.Error())
	}
	return result{code, out.String(), errb.String()}
}

// TestDecideCommand: decisions from a script follow the same rules as the
// UI, are listed with their history and second reviewers, and keep the
// store verifiable; a decision written into the store around idgraph
// fails verify.
func TestDecideCommand(t *testing.T) {
	cfg := quickstart(t)
	if r := run(t, nil, "run", "--config", cfg); r.code != exitOK {
		t.Fatalf("run: %d %s", r.code, r.stderr)
	}
	r := run(t, nil, "findings", "--config", cfg, "--format", "json")
	var fs []struct{ ID, Kind, Email, Severity string }
	if err := json.Unmarshal([]byte(r.stdout), &fs); err != nil {
		t.Fatal(err, r.stdout)
	}
	var bob, carol string
	for _, f := range fs {
		switch {
		case f.Kind == "orphaned" && f.Email == "bob@acme.com":
			bob = f.ID
		case f.Kind == "unassigned" && f.Email == "carol@acme.com":
			carol = f.ID
		}
	}
	if bob == "" || carol == "" {
		t.Fatalf("quickstart findings: %+v", fs)
	}
	date := func(d time.Duration) string { return time.Now().Add(d).UTC().Format("2006-01-02") }
	year := 24 * time.Hour * 365
	steps := []struct {
		name string
		args []string
		code int
		want string // in stdout or stderr
	}{
		{"ten-year approval", []string{carol, "--decision", "approve", "--justification", "forever", "--reviewer", "alice@acme.com", "--expires", date(10 * year)}, exitUsage, "beyond the longest allowed"},
		{"no justification", []string{carol, "--decision", "revoke", "--reviewer", "alice@acme.com"}, exitUsage, "justification is required"},
		{"no reviewer", []string{carol, "--decision", "revoke", "--justification", "x"}, exitUsage, "--reviewer EMAIL is required"},
		{"exception without end", []string{carol, "--decision", "exception", "--justification", "service account", "--reviewer", "alice@acme.com"}, exitUsage, "needs an end date"},
		{"unknown finding", []string{"nope", "--decision", "revoke", "--justification", "x", "--reviewer", "alice@acme.com"}, exitUsage, "no finding"},
		{"self-review", []string{bob, "--decision", "revoke", "--justification", "I left", "--reviewer", "bob@acme.com"}, exitUsage, "their own access"},
		{"revoke an admin leaver", []string{bob, "--decision", "revoke", "--justification", "left in October", "--reviewer", "alice@acme.com"}, exitOK, "needs a second reviewer"},
		{"no confirming one's own", []string{bob, "--confirm", "--reviewer", "alice@acme.com"}, exitUsage, "another person"},
		{"four eyes", []string{bob, "--confirm", "--reviewer", "dave@acme.com"}, exitOK, "as second reviewer dave@acme.com: it is in force"},
		{"exception", []string{carol, "--decision", "exception", "--justification", "service account", "--reviewer", "alice@acme.com", "--expires", date(90 * 24 * time.Hour)}, exitOK, "recorded decision 2"},
		{"a later decision", []string{carol, "--decision", "approve", "--justification", "contractor", "--reviewer", "dave@acme.com", "--expires", date(30 * 24 * time.Hour), "--format", "json"}, exitOK, `"review_status": "approved"`},
	}
	for _, s := range steps {
		r := runDecide(t, append([]string{"decide", "--config", cfg}, s.args...)...)
		if r.code != s.code || !strings.Contains(r.stdout+r.stderr, s.want) {
			t.Fatalf("%s: exit %d, want %d with %q:\n%s%s", s.name, r.code, s.code, s.want, r.stdout, r.stderr)
		}
	}
	r = runDecide(t, "decisions", "--config", cfg, "--format", "json")
	var ds []struct {
		ID          int64
		Decision    string
		Reviewer    string
		ConfirmedBy string `json:"confirmed_by"`
		FindingID   string `json:"finding_id"`
		NeedsSecond bool   `json:"needs_second_reviewer"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ds); err != nil || r.code != exitOK {
		t.Fatalf("decisions: %v %s %s", err, r.stdout, r.stderr)
	}
	if len(ds) != 3 || ds[0].Decision != "approve" || ds[1].Decision != "exception" || ds[2].Decision != "revoke" ||
		ds[2].ConfirmedBy != "dave@acme.com" || !ds[2].NeedsSecond || ds[1].FindingID != carol {
		t.Fatalf("history: %+v", ds)
	}
	r = runDecide(t, "decisions", "--config", cfg, "--finding", carol)
	if r.code != exitOK || strings.Count(r.stdout, carol) != 2 || !strings.Contains(r.stdout, "chain head: s1.e4.") {
		t.Errorf("decisions table for carol:\n%s%s", r.stdout, r.stderr)
	}
	r = runDecide(t, "decisions", "--config", cfg, "--format", "csv", "--as-of", "2020-01-01")
	if r.code != exitOK || strings.TrimSpace(r.stdout) != strings.Join(DecisionColumns, ",") {
		t.Errorf("decisions as of 2020: %q %s", r.stdout, r.stderr)
	}
	r = run(t, nil, "verify", "--config", cfg)
	_, head, _ := strings.Cut(r.stdout, "chain head: ")
	head = strings.TrimSpace(head)
	if r.code != exitOK || !strings.Contains(r.stdout, "4 evidence entries verified") || !strings.HasPrefix(head, "s1.e4.") {
		t.Fatalf("verify after the decisions: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, "verify", "--config", cfg, "--head", head); r.code != exitOK {
		t.Fatalf("verify --head %s: %d %s %s", head, r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, "verify", "--config", cfg, "--head", "s2"+head[2:]); r.code != exitFailed || !strings.Contains(r.stderr, "names snapshot 2, but the newest snapshot in the store is 1") {
		t.Fatalf("verify against a later head: %d %s %s", r.code, r.stdout, r.stderr)
	}

	// An approval written straight into the store, by a reviewer idgraph
	// never saw, dated before the snapshot.
	db, err := sql.Open("sqlite", "file:"+storeOf(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO decisions (finding_key, decision, justification, expires_at, reviewer, decided_at, snapshot_id)
		SELECT finding_key, 'approve', 'approved', '2027-06-01T00:00:00Z', 'ciso@acme.com', '2026-11-01T09:00:00Z', 1 FROM findings WHERE data LIKE '%bob@acme.com%' LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r = run(t, nil, "verify", "--config", cfg)
	if r.code == exitOK || !strings.Contains(r.stderr, "decision 4 (approve by ciso@acme.com, dated 2026-11-01T09:00:00Z) is not in the evidence chain") {
		t.Fatalf("verify after an inserted decision: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// Nor does it count anywhere.
	for _, args := range [][]string{{"export", "--kind", "accounts", "--out", "-"}, {"findings", "--format", "json"}} {
		if r := run(t, nil, append(args, "--config", cfg)...); r.code != exitOK || strings.Contains(r.stdout, "ciso@acme.com") {
			t.Errorf("%v shows the inserted decision (exit %d)", args, r.code)
		}
	}
	if r := runDecide(t, "decisions", "--config", cfg); strings.Contains(r.stdout, "ciso@acme.com") {
		t.Errorf("decisions lists the inserted decision:\n%s", r.stdout)
	}
}
