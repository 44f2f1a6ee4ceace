package pipeline_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/idgraph/idgraph/collectors"
	_ "github.com/idgraph/idgraph/collectors/all"
	"github.com/idgraph/idgraph/collectors/entra/graphtest"
	"github.com/idgraph/idgraph/collectors/okta/oktatest"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/internal/demo"
	"github.com/idgraph/idgraph/pipeline"
	"github.com/idgraph/idgraph/store"
)

// TestIncrementalRunStartsFromThePreviousSnapshot runs the Okta and
// Graph simulators twice. The second run reads only changes, starting
// from the accounts of the first snapshot, and compares with them for
// drift without reading them again. What it stores and the drift it
// reports must equal what a full reading from the store gives.
func TestIncrementalRunStartsFromThePreviousSnapshot(t *testing.T) {
	dir := t.TempDir()
	env, err := demo.StartScale(demo.Scale{People: 600, Members: 40, Teams: 2}, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	cfg, err := config.Load(env.Config, collectors.Names())
	if err != nil {
		t.Fatal(err)
	}
	// The IdP side only: the browser is not what this test is about.
	cfg.Sources = slices.DeleteFunc(cfg.Sources, func(s config.SourceNode) bool { return s.Name == "stonly" })
	st, err := store.Open(context.Background(), filepath.Join(dir, "idgraph.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run := func() *pipeline.Outcome {
		t.Helper()
		srcs, err := pipeline.Build(cfg, env.Getenv, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		pol, err := pipeline.PolicyOf(cfg, srcs)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pipeline.Run(context.Background(), pipeline.Options{Policy: pol, Sources: srcs, Store: st})
		if err != nil || len(out.Incomplete) > 0 {
			t.Fatalf("run: %v %v", err, out.Incomplete)
		}
		return out
	}
	first := run()
	// Overnight: a leaver in Entra, a new name in Okta, a user Okta removes
	// from the Stonly group.
	env.Graph.ChangeUser(graphtest.GUID(7, 4), func(u *graphtest.User) { u.AccountEnabled = false })
	env.Okta.Update(func(sc *oktatest.Scenario) {
		sc.Users[6].LastName = "Renamed"
		for i := range sc.Groups {
			sc.Groups[i].Members = slices.DeleteFunc(sc.Groups[i].Members, func(id string) bool { return id == oktatest.UserID(2) })
		}
	})
	second := run()

	modes := map[string]string{}
	for _, s := range second.Snapshot.Sources {
		modes[s.Info.Name] = s.Completeness.Mode
	}
	if modes["okta"] != "incremental" || modes["entra"] != "delta" {
		t.Fatalf("second run read %v; want okta incremental and entra delta", modes)
	}
	if n1, n2 := len(first.Snapshot.Graph.Accounts), len(second.Snapshot.Graph.Accounts); n1 != n2 {
		t.Errorf("accounts: %d then %d; an incremental read must keep the unchanged ones", n1, n2)
	}
	if second.Baseline != first.Snapshot.ID || second.Drift == nil {
		t.Fatalf("baseline %d, drift %v", second.Baseline, second.Drift)
	}
	stored, err := st.Drift(context.Background(), first.Snapshot.ID, second.Snapshot.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(second.Drift, stored) {
		t.Errorf("drift of the run:\n%+v\ndrift from the store:\n%+v", second.Drift, stored)
	}
	if len(second.Drift.StatusChanges) == 0 {
		t.Errorf("the Entra leaver is not in the drift: %+v", second.Drift)
	}
	if res, err := st.Verify(context.Background()); err != nil || res.BadID != 0 || res.Checked != 2 {
		t.Errorf("verify: %+v %v", res, err)
	}
}
