// Package store keeps every run as an immutable snapshot in a SQLite file
// (modernc.org/sqlite: pure Go, no cgo).
//
// A snapshot is written in one transaction, so a crash or an error leaves
// either the whole snapshot or none of it. The database runs in WAL mode
// with a busy timeout, so readers (reports, the web UI) never block the
// nightly writer and the writer never fails on a reader.
package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/graph"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is an open snapshot database.
type Store struct {
	db   *sql.DB
	path string
	// failAfter, when positive, makes WriteSnapshot fail after that many
	// rows: tests use it to prove that a failed write leaves nothing.
	failAfter int
}

// Errors of opening a store, for callers that map them to exit codes or
// HTTP statuses. Each is wrapped with the path and what to do.
var (
	// ErrNoStore: the file does not exist (a read-only open never creates one).
	ErrNoStore = errors.New("no store")
	// ErrNotStore: the file exists but is no idgraph store (zero bytes, not
	// SQLite, or SQLite without idgraph's schema).
	ErrNotStore = errors.New("not an idgraph store")
	// ErrSchema: the store's schema is not the one this binary reads (older
	// and opened read-only, or newer than this binary knows).
	ErrSchema = errors.New("store schema mismatch")
	// ErrSchemaOlder is ErrSchema for a store older than this binary, which
	// any command that writes upgrades.
	ErrSchemaOlder = fmt.Errorf("%w (older than this idgraph)", ErrSchema)
)

// sqliteHeader starts every SQLite 3 database file
// (https://www.sqlite.org/fileformat.html#the_database_header).
const sqliteHeader = "SQLite format 3\x00"

// Open opens (creating with mode 0600 if needed) the database at path and
// applies pending schema migrations. It is for commands that write; a
// command that only reads uses OpenReadOnly.
//
// An existing file must be a store: a zero-length file is refused rather
// than silently becoming a new, empty store (it is more likely a store
// that a full disk or a bad copy truncated), and so is a store whose schema
// is newer than this binary's.
func Open(ctx context.Context, path string) (*Store, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		f.Close()
	case errors.Is(err, fs.ErrExist):
		if err := checkFile(path); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(15000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	// A 64 MiB page cache keeps a large snapshot transaction from spilling
	// the same pages to the WAL again and again.
	q.Add("_pragma", "cache_size(-65536)")
	q.Set("_txlock", "immediate") // writers queue at BEGIN instead of failing on upgrade
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening store %s: %w (is it a SQLite file?)", path, err)
	}
	if v, known, err := schemaVersions(ctx, db); err == nil && v > known {
		db.Close()
		return nil, newerSchema(path, v, known)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		db.Close()
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: preparing migrations: %w", path, err)
	}
	if _, err := p.Up(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: applying migrations: %w", path, err)
	}
	return &Store{db: db, path: path}, nil
}

// OpenReadOnly opens the existing store at path for reading only: SQLite's
// mode=ro, no migrations, no journal-mode change, so that it works on a
// store the process may not write (a read-only file or mount, an auditor's
// copy) and never creates or alters anything. A missing path is ErrNoStore,
// a file that is not a store ErrNotStore, and a store whose schema is not
// this binary's ErrSchema (an older one is upgraded by any command that
// writes, such as `idgraph run`).
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	if err := checkFile(path); err != nil {
		return nil, err
	}
	open := func(immutable bool) (*sql.DB, int64, int64, error) {
		q := url.Values{}
		q.Set("mode", "ro")
		if immutable {
			q.Set("immutable", "1")
		}
		q.Add("_pragma", "busy_timeout(15000)")
		q.Add("_pragma", "foreign_keys(1)")
		db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, 0, 0, err
		}
		v, known, err := schemaVersions(ctx, db)
		if err != nil {
			db.Close()
			return nil, 0, 0, err
		}
		return db, v, known, nil
	}
	db, v, known, err := open(false)
	if err != nil {
		// A WAL database needs its -shm (and -wal) file to be read, and
		// SQLite creates them beside the store: in a folder this process
		// may not write, that fails (SQLITE_READONLY_DIRECTORY). With no
		// -wal file, every committed page is in the store itself and no
		// writer has it open (a writer keeps its -wal while connected), so
		// it can be read as immutable
		// (https://www.sqlite.org/wal.html#readonly).
		if _, werr := os.Stat(path + "-wal"); errors.Is(werr, fs.ErrNotExist) {
			db, v, known, err = open(true)
		} else if werr == nil {
			err = fmt.Errorf("%w (a writer's %s-wal is beside it, and reading it needs a %s-shm that this user cannot create: "+
				"run the command as the store's owner, or when no run or serve has the store open)", err, path, path)
		}
	}
	switch {
	case err != nil:
		return nil, fmt.Errorf("opening store %s read-only: %w", path, err)
	case v == 0:
		db.Close()
		return nil, fmt.Errorf("%w: %s has no idgraph schema: check the store key of the configuration", ErrNotStore, path)
	case v < known:
		db.Close()
		return nil, fmt.Errorf("%w: %s has schema version %d and this idgraph reads version %d; "+
			"a command that writes upgrades it, then read it again", ErrSchemaOlder, path, v, known)
	case v > known:
		db.Close()
		return nil, newerSchema(path, v, known)
	}
	return &Store{db: db, path: path}, nil
}

// checkFile refuses a path that cannot be an existing store: missing, a
// folder, zero bytes, or not SQLite.
func checkFile(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %s does not exist: check the store key of the configuration (or --config), "+
			"or create the store", ErrNoStore, path)
	case err != nil:
		return fmt.Errorf("opening store %s: %w", path, err)
	case fi.IsDir():
		return fmt.Errorf("%w: %s is a folder: the store key names a file", ErrNotStore, path)
	case fi.Size() == 0:
		return fmt.Errorf("%w: %s is empty (0 bytes), so it holds no snapshot; if it was truncated, restore it from a backup; "+
			"to start a new store, remove the file", ErrNotStore, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening store %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, head); err != nil || string(head) != sqliteHeader {
		return fmt.Errorf("%w: %s is not a SQLite database: check the store key of the configuration", ErrNotStore, path)
	}
	return nil
}

func newerSchema(path string, v, known int64) error {
	return fmt.Errorf("%w: %s has schema version %d, written by a newer idgraph; this one knows versions up to %d: upgrade idgraph",
		ErrSchema, path, v, known)
}

// schemaVersions returns the store's applied schema version (0 for a new
// database) and the newest version this binary's migrations know.
func schemaVersions(ctx context.Context, db *sql.DB) (applied, known int64, err error) {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return 0, 0, err
	}
	for _, e := range entries {
		n, _, _ := strings.Cut(e.Name(), "_")
		if v, err := strconv.ParseInt(n, 10, 64); err == nil && v > known {
			known = v
		}
	}
	var exists int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'`).Scan(&exists); err != nil {
		return 0, known, err
	}
	if exists == 0 {
		return 0, known, nil
	}
	err = db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id),0) FROM goose_db_version WHERE is_applied`).Scan(&applied)
	return applied, known, err
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// DB exposes the handle for read-only queries by other packages' tests.
func (s *Store) DB() *sql.DB { return s.db }

// SchemaVersion returns the applied migration version.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id),0) FROM goose_db_version WHERE is_applied`).Scan(&v)
	return v, err
}

// Source is one source's record in a snapshot.
type Source struct {
	Info         collectors.Info         `json:"info"`
	Completeness collectors.Completeness `json:"completeness"`
	State        string                  `json:"-"`
}

// Snapshot is one run's content.
type Snapshot struct {
	ID         int64
	StartedAt  time.Time
	FinishedAt time.Time
	ConfigHash string
	Version    string
	Sources    []Source
	Graph      *graph.Graph
	Expected   [][]diff.Expectation // per person of Graph.People, per application
	Findings   []diff.Finding
	Hash       string
	PrevHash   string
}

// Complete reports whether every source of the snapshot was complete.
func (s *Snapshot) Complete() bool {
	for _, src := range s.Sources {
		if !src.Completeness.Complete {
			return false
		}
	}
	return true
}

// ErrInjected is the error of the failAfter test hook.
var ErrInjected = errors.New("store: injected failure")

// WriteSnapshot stores snap in one transaction and sets its ID and hashes.
func (s *Store) WriteSnapshot(ctx context.Context, snap *Snapshot) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: beginning snapshot: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT hash FROM snapshots ORDER BY id DESC LIMIT 1), '')`).Scan(&snap.PrevHash); err != nil {
		return fmt.Errorf("store: reading previous hash: %w", err)
	}
	g := snap.Graph
	res, err := tx.ExecContext(ctx, `INSERT INTO snapshots (started_at, finished_at, complete, config_hash, version, accounts, findings, hash, prev_hash, format)
		VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, `+strconv.Itoa(formatApps)+`)`,
		ts(snap.StartedAt), ts(snap.FinishedAt), snap.Complete(), snap.ConfigHash, snap.Version,
		len(g.Accounts), len(snap.Findings), snap.PrevHash)
	if err != nil {
		return fmt.Errorf("store: writing snapshot: %w", err)
	}
	if snap.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	h := newHasher(snap)
	rows := 0
	step := func() error {
		rows++
		if s.failAfter > 0 && rows >= s.failAfter {
			return ErrInjected
		}
		return nil
	}
	// Rows are hashed in the order Verify reads them back: sources by name,
	// accounts by sequence, people by ID, findings by sequence.
	slices.SortFunc(snap.Sources, func(a, b Source) int { return strings.Compare(a.Info.Name, b.Info.Name) })
	for _, src := range snap.Sources {
		c, _ := json.Marshal(src.Completeness)
		ladder := ladderText(src.Info.Roles)
		h.row("source", src.Info.Name, string(c), src.Info.Title, ladder)
		if _, err = tx.ExecContext(ctx, `INSERT INTO sources (snapshot_id, name, kind, app, version, complete, records, completeness, state, title, roles)
			VALUES (?,?,?,?,?,?,?,?,?,?,?)`, snap.ID, src.Info.Name, src.Info.Kind,
			src.Info.App, src.Info.Version, src.Completeness.Complete, src.Completeness.Records, string(c), src.State, src.Info.Title, ladder); err != nil {
			return fmt.Errorf("store: writing source %s: %w", src.Info.Name, err)
		}
	}
	if err = s.writeAccounts(ctx, tx, snap, h, step); err != nil {
		return err
	}
	// The accounts again, compactly, for the next incremental run and
	// drift (prior.go): derived from the rows, and checked by verify.
	if err = s.writePriors(ctx, tx, snap); err != nil {
		return err
	}
	pb := newBatch(tx, "people", 6)
	order := make([]int, len(g.People))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(g.People[a].ID, g.People[b].ID) })
	for _, i := range order {
		p := &g.People[i]
		// Format 2: expected roles are rows of their own, per application.
		h.row("person", p.ID, p.Email, p.DisplayName, "", "")
		if err = pb.add(ctx, snap.ID, p.ID, p.Email, p.DisplayName, "", ""); err != nil {
			return fmt.Errorf("store: writing person %s: %w", p.ID, err)
		}
	}
	if err = pb.flush(ctx); err != nil {
		return err
	}
	eb := newBatch(tx, "expectations", 5)
	for _, i := range order {
		if i >= len(snap.Expected) {
			continue
		}
		exps := slices.Clone(snap.Expected[i])
		slices.SortFunc(exps, func(a, b diff.Expectation) int { return strings.Compare(a.App, b.App) })
		for _, exp := range exps {
			if exp.Role == "" && exp.Why == "" {
				continue
			}
			id := g.People[i].ID
			h.row("expect", id, exp.App, exp.Role, exp.Why)
			if err = eb.add(ctx, snap.ID, id, exp.App, exp.Role, exp.Why); err != nil {
				return fmt.Errorf("store: writing person %s's expected role in %s: %w", id, exp.App, err)
			}
		}
	}
	if err = eb.flush(ctx); err != nil {
		return err
	}
	fb := newBatch(tx, "findings", 7)
	for i := range snap.Findings {
		f := &snap.Findings[i]
		f.LastSnap, f.LastSeen = snap.ID, snap.FinishedAt
		if f.FirstSnap == 0 {
			f.FirstSnap, f.FirstSeen = snap.ID, snap.FinishedAt
		}
		data, _ := json.Marshal(f)
		h.row("finding", string(data))
		if err = fb.add(ctx, snap.ID, i, f.Key, f.Kind, f.Severity, f.State, string(data)); err != nil {
			return fmt.Errorf("store: writing finding %s: %w", f.Key, err)
		}
		if err = step(); err != nil {
			return err
		}
	}
	if err = fb.flush(ctx); err != nil {
		return err
	}
	snap.Hash = h.sum()
	if _, err = tx.ExecContext(ctx, `UPDATE snapshots SET hash = ? WHERE id = ?`, snap.Hash, snap.ID); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("store: committing snapshot: %w", err)
	}
	return nil
}

func (s *Store) writeAccounts(ctx context.Context, tx *sql.Tx, snap *Snapshot, h *hasher, step func() error) error {
	g := snap.Graph
	type row struct {
		i    int
		pid  string
		data string
		err  error
	}
	// Encoding and hashing run beside the inserts, in order, so that the
	// two halves of the work share the machine's cores.
	rows := make(chan row, 4096)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(rows)
		for i := range g.Accounts {
			data, err := json.Marshal(&g.Accounts[i])
			link := g.Links[i]
			pid := g.People[link.Person].ID
			if err == nil {
				h.row("account", string(data), pid, link.Reason)
			}
			select {
			case rows <- row{i, pid, string(data), err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	b := newBatch(tx, "accounts", 8)
	for r := range rows {
		if r.err != nil {
			return r.err
		}
		a := &g.Accounts[r.i]
		if err := b.add(ctx, accountRow(snap.ID, r.i), snap.ID, r.i, a.Source, a.Key(), r.pid, g.Links[r.i].Reason, r.data); err != nil {
			return fmt.Errorf("store: writing account %s: %w", a.Key(), err)
		}
		if err := step(); err != nil {
			return err
		}
	}
	return b.flush(ctx)
}

// accountRow is the key of a snapshot's seq-th account (migration 4): a
// snapshot's accounts are the key range accountRow(id, 0) to
// accountRow(id+1, 0)-1.
func accountRow(snapshot int64, seq int) int64 { return snapshot<<32 | int64(seq) }

// accountRange is the bounds of snapshot id's account keys, for
// `id >= ? AND id < ?`.
func accountRange(id int64) []any { return []any{accountRow(id, 0), accountRow(id+1, 0)} }

// batch inserts rows many at a time: one statement per few hundred rows
// instead of one per row, which is most of the cost of a large snapshot.
type batch struct {
	tx    *sql.Tx
	table string
	cols  int
	rows  int
	args  []any
	stmt  *sql.Stmt // prepared for a full batch
}

const batchRows = 256

func newBatch(tx *sql.Tx, table string, cols int) *batch {
	return &batch{tx: tx, table: table, cols: cols, args: make([]any, 0, cols*batchRows)}
}

func (b *batch) sql(rows int) string {
	one := "(?" + strings.Repeat(",?", b.cols-1) + ")"
	return "INSERT INTO " + b.table + " VALUES " + one + strings.Repeat(","+one, rows-1)
}

func (b *batch) add(ctx context.Context, vals ...any) error {
	b.args = append(b.args, vals...)
	b.rows++
	if b.rows < batchRows {
		return nil
	}
	if b.stmt == nil {
		st, err := b.tx.PrepareContext(ctx, b.sql(batchRows))
		if err != nil {
			return err
		}
		b.stmt = st
	}
	_, err := b.stmt.ExecContext(ctx, b.args...)
	b.args, b.rows = b.args[:0], 0
	return err
}

func (b *batch) flush(ctx context.Context) error {
	defer func() {
		if b.stmt != nil {
			b.stmt.Close()
		}
	}()
	if b.rows == 0 {
		return nil
	}
	_, err := b.tx.ExecContext(ctx, b.sql(b.rows), b.args...)
	b.args, b.rows = b.args[:0], 0
	return err
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTS(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// hasher computes a snapshot's content hash: SHA-256 over the previous
// hash, the header and every row in write order, each field
// length-prefixed so that no two contents share an encoding.
type hasher struct {
	h   hash.Hash
	buf []byte
}

func newHasher(s *Snapshot) *hasher {
	h := &hasher{h: sha256.New()}
	h.row("snapshot", s.PrevHash, ts(s.StartedAt), ts(s.FinishedAt), s.ConfigHash, s.Version)
	return h
}

func (h *hasher) row(fields ...string) {
	for _, f := range fields {
		h.buf = strconv.AppendInt(h.buf[:0], int64(len(f)), 10)
		h.buf = append(h.buf, ':')
		h.h.Write(h.buf)
		io.WriteString(h.h, f)
	}
	h.h.Write([]byte{'\n'})
}

func (h *hasher) sum() string { return hex.EncodeToString(h.h.Sum(nil)) }

// Snapshot formats. Format 1 (before migration 7) read one application:
// a person's expected role is in the people row, and sources carry no
// title or ladder. Format 2 hashes per-application expectation rows and
// each source's title and ladder.
const (
	formatOneApp = 1
	formatApps   = 2
)

// legacyLadder is the role ladder of the one application that format 1
// snapshots read, as idgraph ranked roles then (Member < Admin < Owner).
var legacyLadder = []string{"Member", "Admin", "Owner"}

// ladderText is a role ladder as stored: a JSON array, "" for none.
func ladderText(roles []string) string {
	if len(roles) == 0 {
		return ""
	}
	b, _ := json.Marshal(roles)
	return string(b)
}
