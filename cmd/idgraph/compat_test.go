package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/idgraph/idgraph/store"
)

// TestStoreOfThePreviousRelease: a store written before applications were
// a dimension (testdata/format1: two quick-start runs and two decisions,
// written by the release before) is migrated by the first command that
// writes; then its snapshots verify and export to the very bytes the
// previous release wrote, and a new run keeps every finding's key, so that
// decisions keep following their findings.
func TestStoreOfThePreviousRelease(t *testing.T) {
	cfg := quickstart(t)
	dir := filepath.Dir(cfg)
	old, err := os.ReadFile("../../testdata/format1/quickstart.db")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "quickstart.db"), old, 0o600); err != nil {
		t.Fatal(err)
	}
	// The first command that writes migrates the store; nothing else
	// changes in it.
	st, err := store.Open(context.Background(), filepath.Join(dir, "quickstart.db"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if r := run(t, nil, "verify", "-c", cfg); r.code != 0 {
		t.Fatalf("verify of the migrated store: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, kind := range []string{"accounts", "findings"} {
		out := filepath.Join(dir, kind+".csv")
		if r := run(t, nil, "export", "-c", cfg, "--snapshot", "2", "--kind", kind, "--out", out); r.code != 0 {
			t.Fatalf("export %s: exit %d\n%s", kind, r.code, r.stderr)
		}
		got, _ := os.ReadFile(out)
		want, _ := os.ReadFile("../../testdata/format1/old-" + kind + ".csv")
		if !bytes.Equal(got, want) {
			t.Errorf("%s.csv of snapshot 2 differs from what the previous release exported\n--- now ---\n%s\n--- then ---\n%s", kind, got, want)
		}
	}
	keys := func(snapshot string) []string {
		t.Helper()
		r := run(t, nil, "findings", "-c", cfg, "--snapshot", snapshot, "--format", "json", "--state", "all")
		var fs []struct {
			Key            string `json:"key"`
			ID             string `json:"id"`
			ReviewDecision string `json:"review_decision"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &fs); err != nil {
			t.Fatalf("findings of snapshot %s: %v\n%s", snapshot, err, r.stderr)
		}
		var out []string
		for _, f := range fs {
			out = append(out, f.Key+" "+f.ID)
		}
		slices.Sort(out)
		return out
	}
	before := keys("2")
	if r := run(t, nil, "run", "-q", "-c", cfg); r.code != 0 {
		t.Fatalf("a run on the migrated store: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if after := keys("3"); !slices.Equal(after, before) {
		t.Errorf("finding keys changed across the migration\nbefore %v\nafter  %v", before, after)
	}
	r := run(t, nil, "decisions", "-c", cfg, "--format", "json")
	if r.code != 0 || !bytes.Contains([]byte(r.stdout), []byte("860fdcd6aca905f6")) {
		t.Errorf("the decisions of the previous release: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, "verify", "-c", cfg); r.code != 0 {
		t.Fatalf("verify after a new run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
