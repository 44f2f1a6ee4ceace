package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/graph"
)

func testSnapshot(t testing.TB, n int, complete bool) *Snapshot {
	t.Helper()
	var accs []collectors.Account
	for i := 0; i < n; i++ {
		e := fmt.Sprintf("user%d@acme.com", i)
		accs = append(accs,
			collectors.Account{Source: "okta", ID: fmt.Sprintf("00u%d", i), Email: e, Status: collectors.StatusActive, Assignments: assignedIf(i%2 == 0)},
			collectors.Account{Source: "stonly", ID: e, Team: "t1", Email: e, Status: collectors.StatusActive, Role: "Member"})
	}
	graph.SortAccounts(accs)
	g, err := graph.Correlate(accs, graph.Options{IdPs: map[string]bool{"okta": true}})
	if err != nil {
		t.Fatal(err)
	}
	src := map[string]diff.Source{"okta": {Kind: collectors.KindIdP, Complete: complete}, "stonly": {Kind: collectors.KindApp, App: "stonly", Complete: true}}
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	return &Snapshot{
		StartedAt: now, FinishedAt: now.Add(time.Minute), ConfigHash: "cfg", Version: "test",
		Sources: []Source{
			{Info: collectors.Info{Name: "stonly", Kind: collectors.KindApp, App: "stonly", Version: "1"}, Completeness: collectors.Completeness{Complete: true, Records: n}},
			{Info: collectors.Info{Name: "okta", Kind: collectors.KindIdP, Version: "1"}, Completeness: collectors.Completeness{Complete: complete, Records: n}, State: "cursor-1"},
		},
		Graph:    g,
		Findings: diff.Evaluate(diff.Input{Graph: g, Sources: src}),
	}
}

func open(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "idgraph.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	snap := testSnapshot(t, 10, true)
	if err := s.WriteSnapshot(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if snap.ID != 1 || snap.Hash == "" {
		t.Fatalf("id %d hash %q", snap.ID, snap.Hash)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("store mode = %o, want 600", fi.Mode().Perm())
	}
	sum, err := s.Get(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if sum.ID != 1 || !sum.Complete || sum.Accounts != 20 || sum.Findings != len(snap.Findings) || len(sum.Sources) != 2 {
		t.Fatalf("summary = %+v", sum)
	}
	if sum.Sources[0].Info.Name != "okta" || sum.Sources[0].State != "cursor-1" {
		t.Errorf("sources = %+v", sum.Sources)
	}
	fs, err := s.Findings(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != len(snap.Findings) || len(fs) == 0 {
		t.Fatalf("findings: got %d want %d", len(fs), len(snap.Findings))
	}
	if fs[0].Key != snap.Findings[0].Key || fs[0].FirstSnap != 1 || fs[0].FirstSeen.IsZero() {
		t.Errorf("finding round trip: %+v", fs[0])
	}
	accs, err := s.Accounts(ctx, 1, "stonly")
	if err != nil {
		t.Fatal(err)
	}
	if len(accs) != 10 || accs[0].Team != "t1" || accs[0].Person == "" || accs[0].LinkReason == "" {
		t.Fatalf("accounts = %d, first %+v", len(accs), accs[0])
	}
	if _, err := s.Get(ctx, 99); !errors.Is(err, ErrNoSnapshot) {
		t.Errorf("Get(99) = %v, want ErrNoSnapshot", err)
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	if err := s.WriteSnapshot(ctx, testSnapshot(t, 3, true)); err != nil {
		t.Fatal(err)
	}
	v1, err := s.SchemaVersion(ctx)
	if err != nil || v1 < 1 {
		t.Fatalf("schema version %d, %v", v1, err)
	}
	s.Close()
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	v2, _ := s2.SchemaVersion(ctx)
	if v2 != v1 {
		t.Errorf("schema version changed on reopen: %d -> %d", v1, v2)
	}
	if list, err := s2.List(ctx); err != nil || len(list) != 1 {
		t.Fatalf("after reopen: %d snapshots, %v", len(list), err)
	}
}

func TestOpenRejectsNonSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "not.db")
	os.WriteFile(path, []byte("this is not a database, just some text that is long enough"), 0o600)
	if _, err := Open(context.Background(), path); err == nil {
		t.Fatal("opened a text file as a store")
	}
}

func TestFailedWriteLeavesNoPartialSnapshot(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	if err := s.WriteSnapshot(ctx, testSnapshot(t, 5, true)); err != nil {
		t.Fatal(err)
	}
	s.failAfter = 7 // in the middle of the accounts
	if err := s.WriteSnapshot(ctx, testSnapshot(t, 5, true)); !errors.Is(err, ErrInjected) {
		t.Fatalf("write = %v, want the injected failure", err)
	}
	s.failAfter = 0
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != 1 {
		t.Fatalf("after a failed write: %+v", list)
	}
	for _, table := range []string{"accounts", "findings", "people", "sources"} {
		var n int
		s.db.QueryRow(`SELECT COUNT(*) FROM ` + table + ` WHERE snapshot_id <> 1`).Scan(&n)
		if n != 0 {
			t.Errorf("%d partial rows left in %s", n, table)
		}
	}
	if res, err := s.Verify(ctx); err != nil || res.BadID != 0 {
		t.Errorf("verify after failed write: %+v %v", res, err)
	}
	// And the next write works and chains onto snapshot 1.
	snap := testSnapshot(t, 5, true)
	if err := s.WriteSnapshot(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if snap.PrevHash != list[0].Hash {
		t.Errorf("prev hash %q, want %q", snap.PrevHash, list[0].Hash)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	for i := 0; i < 3; i++ {
		if err := s.WriteSnapshot(ctx, testSnapshot(t, 4, true)); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := s.Verify(ctx); err != nil || res.BadID != 0 || res.Checked != 3 {
		t.Fatalf("clean verify: %+v %v", res, err)
	}
	if _, err := s.db.Exec(`UPDATE accounts SET data = replace(data, '"Member"', '"Owner"') WHERE snapshot_id = 2 AND seq = 5`); err != nil {
		t.Fatal(err)
	}
	res, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.BadID != 2 {
		t.Fatalf("verify after tampering = %+v, want snapshot 2 reported", res)
	}
}

func TestBaselineAndLastComplete(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	for _, complete := range []bool{true, false} {
		if err := s.WriteSnapshot(ctx, testSnapshot(t, 2, complete)); err != nil {
			t.Fatal(err)
		}
	}
	if id, _ := s.Baseline(ctx, 0, []string{"okta", "stonly"}); id != 1 {
		t.Errorf("baseline with okta complete = %d, want 1", id)
	}
	if id, _ := s.Baseline(ctx, 0, []string{"stonly"}); id != 2 {
		t.Errorf("baseline of stonly = %d, want 2", id)
	}
	if id, src, _ := s.LastComplete(ctx, "okta"); id != 1 || src == nil || src.State != "cursor-1" {
		t.Errorf("last complete okta = %d %+v", id, src)
	}
}

func TestReadersDoNotBlockTheWriter(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	if err := s.WriteSnapshot(ctx, testSnapshot(t, 50, true)); err != nil {
		t.Fatal(err)
	}
	reader, err := Open(ctx, path) // a second handle, as `serve` or a report would hold
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := reader.Findings(ctx, 1); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 0; i < 5; i++ {
		if err := s.WriteSnapshot(ctx, testSnapshot(t, 200, true)); err != nil {
			t.Errorf("write %d while reading: %v", i, err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("reader: %v", err)
	}
}

func assignedIf(in bool) []collectors.Assignment {
	return []collectors.Assignment{{App: "stonly", InForce: in, Via: []string{"direct"}}}
}
