// Package pipelinetest runs the pipeline over the quick-start CSV exports
// (an Okta-like and an Entra-like user list and a Stonly member list with
// every kind of finding), for tests of what reads snapshots: reports,
// alerts, the service.
package pipelinetest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/csvfile"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/pipeline"
	"github.com/idgraph/idgraph/store"
)

// Quickstart is a private copy of testdata/quickstart that a test may edit.
type Quickstart struct {
	Dir    string
	Config *config.Config
	Okta   string // okta-users.csv
	Entra  string // entra-users.csv
	Stonly string // stonly-members.csv
	Now    func() time.Time
}

// New copies the quick-start exports into a temporary folder.
func New(t testing.TB) *Quickstart {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(here), "..", "..", "testdata", "quickstart")
	dir := t.TempDir()
	for _, f := range []string{"okta-users.csv", "entra-users.csv", "stonly-members.csv", "idgraph.yaml"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "idgraph.yaml"))
	cfg, err := config.Parse(b, filepath.Join(dir, "idgraph.yaml"), collectors.Names())
	if err != nil {
		t.Fatal(err)
	}
	return &Quickstart{Dir: dir, Config: cfg, Okta: filepath.Join(dir, "okta-users.csv"),
		Entra: filepath.Join(dir, "entra-users.csv"), Stonly: filepath.Join(dir, "stonly-members.csv")}
}

// Store opens a store in the folder; the test closes it at its end.
func (q *Quickstart) Store(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(q.Dir, "quickstart.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Sources are the three CSV sources, reading the current files.
func (q *Quickstart) Sources() []collectors.Collector {
	return []collectors.Collector{
		csvfile.NewSource("okta-export", collectors.KindIdP, "", q.Okta),
		csvfile.NewSource("entra-export", collectors.KindIdP, "", q.Entra),
		csvfile.NewSource("stonly", collectors.KindApp, "stonly", q.Stonly),
	}
}

// Run performs one run into st.
func (q *Quickstart) Run(ctx context.Context, st *store.Store) (*pipeline.Outcome, error) {
	srcs := q.Sources()
	pol, err := pipeline.PolicyOf(q.Config, srcs)
	if err != nil {
		return nil, err
	}
	return pipeline.Run(ctx, pipeline.Options{Policy: pol, Sources: srcs, Store: st, Version: "test", Now: q.Now})
}
