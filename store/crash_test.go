package store

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHelperWriter is not a test: TestKilledDuringWrite runs the test
// binary again with IDGRAPH_HELPER_DB set, and this function then writes a
// large snapshot until it is killed.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv("IDGRAPH_HELPER_DB")
	if path == "" {
		t.Skip("helper process only")
	}
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	snap := testSnapshot(t, 150_000, true)
	os.Stdout.WriteString("writing\n")
	for {
		if err := s.WriteSnapshot(ctx, snap); err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString("committed\n")
	}
}

// TestKilledDuringWrite kills a writer with SIGKILL in the middle of a
// snapshot: the store must open, pass SQLite's integrity check, hold no
// partial snapshot, verify, and take the next snapshot.
func TestKilledDuringWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteSnapshot(ctx, testSnapshot(t, 50, true)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$")
	cmd.Env = append(os.Environ(), "IDGRAPH_HELPER_DB="+path)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	for lines.Scan() && !strings.Contains(lines.Text(), "writing") {
	}
	// Let it get well into the first big snapshot, then kill it.
	time.Sleep(700 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("the store does not open after a crash: %v", err)
	}
	defer s.Close()
	var check string
	if err := s.db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity check: %q %v", check, err)
	}
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sum := range list {
		var n int
		s.db.QueryRow(`SELECT COUNT(*) FROM accounts WHERE snapshot_id = ?`, sum.ID).Scan(&n)
		if n != sum.Accounts {
			t.Errorf("snapshot %d lists %d accounts but holds %d: a partial snapshot is visible", sum.ID, sum.Accounts, n)
		}
	}
	var orphans int
	s.db.QueryRow(`SELECT COUNT(*) FROM accounts WHERE snapshot_id NOT IN (SELECT id FROM snapshots)`).Scan(&orphans)
	if orphans != 0 {
		t.Errorf("%d rows of an unfinished snapshot survived", orphans)
	}
	if res, err := s.Verify(ctx); err != nil || res.BadID != 0 {
		t.Errorf("verify after the crash: %+v %v", res, err)
	}
	if err := s.WriteSnapshot(ctx, testSnapshot(t, 50, true)); err != nil {
		t.Fatalf("the next run cannot write: %v", err)
	}
	t.Logf("%d snapshots survived the crash", len(list))
}

func TestRunLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	unlock, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Lock(path)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid ") {
		t.Fatalf("second lock: %v", err)
	}
	unlock()
	again, err := Lock(path)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	again()
}
