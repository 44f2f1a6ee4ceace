package store

import (
	"context"
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/pressly/goose/v3"

	"github.com/idgraph/idgraph/collectors"
)

// TestUpgradeFromFirstSchema builds a store as the first release did
// (migration 1 only), writes a snapshot into it, then opens it with the
// current code: the later migrations apply, and the data survives.
func TestUpgradeFromFirstSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	// A file made by a binary that knew migration 1 only.
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := migrations.ReadFile("migrations/00001_initial.sql")
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fstest.MapFS{"00001_initial.sql": {Data: first}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	var v int64
	db.QueryRow(`SELECT MAX(version_id) FROM goose_db_version`).Scan(&v)
	var tables int
	db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name IN ('decisions','alert_outbox')`).Scan(&tables)
	db.Close()
	if v != 1 || tables != 0 {
		t.Fatalf("setup: version %d, later tables %d", v, tables)
	}
	// The snapshots are those of the format 1 fixture (written by the
	// release before applications were a dimension), copied row by row into
	// the first schema's tables, as the first release would have written
	// them.
	fixture, err := filepath.Abs("../testdata/format1/quickstart.db")
	if err != nil {
		t.Fatal(err)
	}
	if db, err = sql.Open("sqlite", "file:"+path); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`ATTACH DATABASE 'file:` + fixture + `?mode=ro' AS cur`,
		`INSERT INTO snapshots SELECT id, started_at, finished_at, complete, config_hash, version, accounts, findings, hash, prev_hash FROM cur.snapshots`,
		`INSERT INTO sources SELECT snapshot_id, name, kind, app, version, complete, records, completeness, state FROM cur.sources`,
		`INSERT INTO accounts SELECT snapshot_id, seq, source, account_key, person_id, link_reason, data FROM cur.accounts ORDER BY id`,
		`INSERT INTO people SELECT * FROM cur.people`,
		`INSERT INTO findings SELECT * FROM cur.findings`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("upgrading: %v", err)
	}
	defer s.Close()
	if v, _ := s.SchemaVersion(ctx); v < 4 {
		t.Errorf("schema version %d after the upgrade", v)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 || list[0].Accounts != 39 {
		t.Fatalf("data after the upgrade: %+v %v", list, err)
	}
	if _, _, err := s.Decisions(ctx, true); err != nil {
		t.Errorf("the new tables are not usable: %v", err)
	}
	if res, err := s.Verify(ctx); err != nil || res.BadID != 0 || res.Checked != 2 {
		t.Errorf("verify after the upgrade: %+v %v", res, err)
	}
	if accs, err := s.Accounts(ctx, list[0].ID); err != nil || len(accs) != 39 {
		t.Errorf("accounts after the upgrade: %d, %v", len(accs), err)
	}
}

// TestAccountsMigrationRoundTrip takes migration 4 down and up again over
// stored snapshots: nothing is lost either way, and the chain verifies.
func TestAccountsMigrationRoundTrip(t *testing.T) {
	ctx := context.Background()
	// The round trip passes through every later migration's Down too.
	// Migration 7's Down drops what format 2 snapshots hold (their
	// per-application expectations), so the snapshots here are the
	// format 1 fixture's, for which that Down loses nothing.
	s := openFixture(t)
	sub, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectSQLite3, s.db, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 3); err != nil {
		t.Fatalf("down: %v", err)
	}
	var n int
	s.db.QueryRow(`SELECT COUNT(*) FROM accounts WHERE snapshot_id = 2`).Scan(&n)
	if n != 39 {
		t.Errorf("snapshot 2 has %d accounts in the old layout, want 39", n)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	for id, want := range map[int64]int{1: 39, 2: 39} {
		if accs, err := s.Accounts(ctx, id); err != nil || len(accs) != want {
			t.Errorf("snapshot %d: %d accounts (%v), want %d", id, len(accs), err, want)
		}
	}
	if res, err := s.Verify(ctx); err != nil || res.BadID != 0 || res.Checked != 2 {
		t.Errorf("verify: %+v %v", res, err)
	}
}

// openFixture opens a copy of a store written by the release before
// applications were a dimension (testdata/format1: two runs of the quick
// start and two decisions), which the current code migrates.
func openFixture(t *testing.T) *Store {
	t.Helper()
	data, err := os.ReadFile("../testdata/format1/quickstart.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "format1.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("opening the format 1 store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestFormat1StoreStaysReadable: a store written before applications were
// a dimension still verifies after migration 7, and reads as one
// application's: assignments and expected roles are Stonly's, the app
// source ranks roles on the ladder of the time.
func TestFormat1StoreStaysReadable(t *testing.T) {
	ctx := context.Background()
	s := openFixture(t)
	res, err := s.Verify(ctx)
	if err != nil || res.Problem != "" || res.Checked != 2 {
		t.Fatalf("verify: %+v %v", res, err)
	}
	sum, err := s.Get(ctx, 2)
	if err != nil || sum.Format != formatOneApp {
		t.Fatalf("snapshot 2: %+v %v", sum, err)
	}
	for _, src := range sum.Sources {
		if src.Info.Kind == collectors.KindApp && !slices.Equal(src.Info.Roles, legacyLadder) {
			t.Errorf("source %s: ladder %v, want %v", src.Info.Name, src.Info.Roles, legacyLadder)
		}
	}
	accs, err := s.Accounts(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	assigned := 0
	for _, a := range accs {
		for _, as := range a.Assignments {
			if as.App != "stonly" {
				t.Errorf("%s: assignment of app %q, want stonly", a.Key(), as.App)
			}
			if as.InForce {
				assigned++
			}
		}
	}
	if assigned == 0 {
		t.Error("no IdP account is assigned Stonly any more")
	}
	people, err := s.People(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	withRole := 0
	for _, p := range people {
		if p.ExpectedRole != "" {
			withRole++
			if r, _ := p.ExpectedIn("stonly"); r != p.ExpectedRole || len(p.Expected) != 1 {
				t.Errorf("%s: expected %+v, role %q", p.ID, p.Expected, p.ExpectedRole)
			}
		}
	}
	if withRole == 0 {
		t.Error("no person has an expected role after the migration")
	}
	// A copied expected role that is edited no longer matches the hashed
	// people row it came from.
	if _, err := s.db.Exec(`UPDATE expectations SET role = 'Owner' WHERE snapshot_id = 2 AND rowid IN (SELECT rowid FROM expectations WHERE snapshot_id = 2 LIMIT 1)`); err != nil {
		// WITHOUT ROWID: edit by key instead.
		if _, err := s.db.Exec(`UPDATE expectations SET role = 'Owner' WHERE snapshot_id = 2 AND person_id = (SELECT MIN(person_id) FROM expectations WHERE snapshot_id = 2)`); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := s.Verify(ctx); err != nil || res.BadID != 2 {
		t.Errorf("verify after editing a copied expected role: %+v %v", res, err)
	}
}
