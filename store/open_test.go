package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/pressly/goose/v3"
)

// firstSchemaStore makes a store as a binary that knew migration 1 only.
func firstSchemaStore(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	first, _ := migrations.ReadFile("migrations/00001_initial.sql")
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fstest.MapFS{"00001_initial.sql": {Data: first}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestOpenReadOnlyRefuses: a read-only open never creates, migrates or
// misreads: every path that is not a current store is a distinct error
// naming the path and what to do, and leaves the file as it was.
func TestOpenReadOnlyRefuses(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
		want  error
		msg   string
	}{
		{"missing", func(t *testing.T, path string) {}, ErrNoStore, "does not exist"},
		{"zero bytes", func(t *testing.T, path string) { os.WriteFile(path, nil, 0o600) }, ErrNotStore, "empty (0 bytes)"},
		{"not SQLite", func(t *testing.T, path string) { os.WriteFile(path, []byte("store: x.db\n"), 0o600) }, ErrNotStore, "not a SQLite database"},
		{"a folder", func(t *testing.T, path string) { os.Mkdir(path, 0o700) }, ErrNotStore, "is a folder"},
		{"SQLite without idgraph's schema", func(t *testing.T, path string) {
			db, _ := sql.Open("sqlite", "file:"+path)
			defer db.Close()
			if _, err := db.Exec(`CREATE TABLE t (x)`); err != nil {
				t.Fatal(err)
			}
		}, ErrNotStore, "no idgraph schema"},
		{"older schema", firstSchemaStore, ErrSchema, "upgrades it"},
		{"newer schema", func(t *testing.T, path string) {
			s, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.db.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (999, 1)`); err != nil {
				t.Fatal(err)
			}
		}, ErrSchema, "newer idgraph"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "idgraph.db")
			tt.setup(t, path)
			before := fileState(path)
			s, err := OpenReadOnly(ctx, path)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q, want %v naming %s and saying %q", err, tt.want, path, tt.msg)
			}
			if after := fileState(path); after != before {
				t.Errorf("the store changed: before %.80q, after %.80q", before, after)
			}
		})
	}
}

// fileState is a file's content, or what keeps it from being read.
func fileState(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	if fi.IsDir() {
		return "folder"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// dirState lists a folder's files with their contents.
func dirState(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b.WriteString(e.Name() + "=" + fileState(filepath.Join(dir, e.Name())) + ";")
	}
	return b.String()
}

// TestOpenRefusesWhatIsNoStore: a command that writes does not turn a
// zero-length or foreign file into a new, empty store, nor write into a
// store whose schema is newer than it knows.
func TestOpenRefusesWhatIsNoStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o600)
	if s, err := Open(ctx, empty); !errors.Is(err, ErrNotStore) {
		if s != nil {
			s.Close()
		}
		t.Errorf("zero bytes: %v, want ErrNotStore", err)
	}
	if fi, _ := os.Stat(empty); fi.Size() != 0 {
		t.Error("the empty file was written")
	}
	text := filepath.Join(dir, "text.db")
	os.WriteFile(text, []byte("hello"), 0o600)
	if _, err := Open(ctx, text); !errors.Is(err, ErrNotStore) {
		t.Errorf("text file: %v, want ErrNotStore", err)
	}
	newer := filepath.Join(dir, "newer.db")
	s, err := Open(ctx, newer)
	if err != nil {
		t.Fatal(err)
	}
	s.db.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (999, 1)`)
	s.Close()
	if _, err := Open(ctx, newer); !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "upgrade idgraph") {
		t.Errorf("newer schema: %v, want ErrSchema", err)
	}
	// A new path is still created, mode 0600, and a store opened twice
	// (the second time it exists) opens.
	fresh := filepath.Join(dir, "fresh.db")
	for i := 0; i < 2; i++ {
		s, err := Open(ctx, fresh)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		s.Close()
	}
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("fresh store: %v %v", err, fi.Mode())
	}
}

// TestOpenReadOnlyReadsWithoutWriting: a current store reads through a
// read-only open, which neither migrates nor writes, and cannot write.
func TestOpenReadOnlyReadsWithoutWriting(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	if err := s.WriteSnapshot(ctx, testSnapshot(t, 5, true)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before, _ := os.ReadFile(path)
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	list, err := ro.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %d %v", len(list), err)
	}
	if res, err := ro.Verify(ctx); err != nil || res.Checked != 1 || res.BadID != 0 {
		t.Errorf("verify: %+v %v", res, err)
	}
	if err := ro.WriteSnapshot(ctx, testSnapshot(t, 5, true)); err == nil {
		t.Error("a read-only store accepted a snapshot")
	}
	ro.Close()
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a read-only open changed the store file")
	}
}

// TestOpenReadOnlyOnAReadOnlyFolder reads a store that this process may
// not write: the file mode 0444 in a folder of mode 0555, where SQLite
// cannot create the WAL's -shm file. The write open fails there (which
// shows the setup is really read-only); the read-only open reads it and
// leaves the folder as it was. As root, permissions do not apply, so the
// check runs in a child process as user nobody.
func TestOpenReadOnlyOnAReadOnlyFolder(t *testing.T) {
	if p := os.Getenv("IDGRAPH_STORE_RO_CHILD"); p != "" {
		readOnlyChild(t, p)
		return
	}
	ctx := context.Background()
	// Not t.TempDir: its parent is private to this user, and the check may
	// run as another.
	base, err := os.MkdirTemp("", "idgraph-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	dir := filepath.Join(base, "ro")
	os.Mkdir(dir, 0o755)
	path := filepath.Join(dir, "idgraph.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{5, 7} {
		if err := s.WriteSnapshot(ctx, testSnapshot(t, n, true)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	os.Chmod(path, 0o444)
	os.Chmod(dir, 0o555)
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	before := dirState(t, dir)
	if os.Geteuid() != 0 {
		readOnlyChild(t, path)
	} else {
		// The test binary, copied where user nobody may run it.
		os.Chmod(base, 0o755)
		for d := filepath.Dir(base); d != "/" && d != "."; d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err != nil || fi.Mode().Perm()&0o005 != 0o005 {
				t.Skipf("%s is not searchable by other users; cannot run the check as nobody", d)
			}
		}
		bin := filepath.Join(base, "store.test")
		copyFile(t, os.Args[0], bin)
		cmd := exec.Command(bin, "-test.run=^TestOpenReadOnlyOnAReadOnlyFolder$", "-test.v")
		cmd.Env = append(os.Environ(), "IDGRAPH_STORE_RO_CHILD="+path)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS") {
			t.Fatalf("as nobody: %v\n%s", err, out)
		}
	}
	if after := dirState(t, dir); after != before {
		t.Errorf("the read-only folder changed:\nbefore %s\nafter  %s", before, after)
	}
}

func readOnlyChild(t *testing.T, path string) {
	ctx := context.Background()
	if s, err := Open(ctx, path); err == nil {
		s.Close()
		t.Fatal("the write open succeeded: the setup is not read-only")
	}
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatalf("read-only open of a read-only store: %v", err)
	}
	defer ro.Close()
	list, err := ro.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %d snapshots, %v", len(list), err)
	}
	if res, err := ro.Verify(ctx); err != nil || res.Checked != 2 || res.BadID != 0 {
		t.Fatalf("verify: %+v %v", res, err)
	}
}

func copyFile(t *testing.T, from, to string) {
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
