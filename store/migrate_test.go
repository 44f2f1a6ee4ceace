package store

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/pressly/goose/v3"
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
	// The snapshot is written by the current code into a current store,
	// then copied row by row into the first schema's tables, as the first
	// release would have written it.
	cur, err := Open(ctx, filepath.Join(t.TempDir(), "current.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.WriteSnapshot(ctx, testSnapshot(t, 20, true)); err != nil {
		t.Fatal(err)
	}
	cur.Close()
	if db, err = sql.Open("sqlite", "file:"+path); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`ATTACH DATABASE 'file:` + cur.path + `' AS cur`,
		`INSERT INTO snapshots SELECT * FROM cur.snapshots`,
		`INSERT INTO sources SELECT * FROM cur.sources`,
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
	if err != nil || len(list) != 1 || list[0].Accounts != 40 {
		t.Fatalf("data after the upgrade: %+v %v", list, err)
	}
	if _, _, err := s.Decisions(ctx, true); err != nil {
		t.Errorf("the new tables are not usable: %v", err)
	}
	if res, err := s.Verify(ctx); err != nil || res.BadID != 0 || res.Checked != 1 {
		t.Errorf("verify after the upgrade: %+v %v", res, err)
	}
	if accs, err := s.Accounts(ctx, list[0].ID); err != nil || len(accs) != 40 {
		t.Errorf("accounts after the upgrade: %d, %v", len(accs), err)
	}
}

// TestAccountsMigrationRoundTrip takes migration 4 down and up again over
// stored snapshots: nothing is lost either way, and the chain verifies.
func TestAccountsMigrationRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "rt.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, n := range []int{20, 7} {
		if err := s.WriteSnapshot(ctx, testSnapshot(t, n, true)); err != nil {
			t.Fatal(err)
		}
	}
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
	if n != 14 {
		t.Errorf("snapshot 2 has %d accounts in the old layout, want 14", n)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	for id, want := range map[int64]int{1: 40, 2: 14} {
		if accs, err := s.Accounts(ctx, id); err != nil || len(accs) != want {
			t.Errorf("snapshot %d: %d accounts (%v), want %d", id, len(accs), err, want)
		}
	}
	if res, err := s.Verify(ctx); err != nil || res.BadID != 0 || res.Checked != 2 {
		t.Errorf("verify: %+v %v", res, err)
	}
}
