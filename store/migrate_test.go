package store

import (
	"context"
	"database/sql"
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
	old := &Store{}
	if old.db, err = sql.Open("sqlite", "file:"+path); err != nil {
		t.Fatal(err)
	}
	old.path = path
	if err := old.WriteSnapshot(ctx, testSnapshot(t, 20, true)); err != nil {
		t.Fatal(err)
	}
	old.db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("upgrading: %v", err)
	}
	defer s.Close()
	if v, _ := s.SchemaVersion(ctx); v < 3 {
		t.Errorf("schema version %d after the upgrade", v)
	}
	if list, err := s.List(ctx); err != nil || len(list) != 1 || list[0].Accounts != 40 {
		t.Fatalf("data after the upgrade: %+v %v", list, err)
	}
	if _, _, err := s.Decisions(ctx, true); err != nil {
		t.Errorf("the new tables are not usable: %v", err)
	}
	if res, err := s.Verify(ctx); err != nil || res.BadID != 0 {
		t.Errorf("verify after the upgrade: %+v %v", res, err)
	}
}
