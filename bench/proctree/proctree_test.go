//go:build linux

package proctree

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOrphansStayInTheTree is the case /usr/bin/time misses: a process
// whose parent exits (as Chromium's zygote lets its renderers go) is
// reparented to the subreaper, so it is still counted as a descendant.
func TestOrphansStayInTheTree(t *testing.T) {
	if err := Available(); err != nil {
		t.Skip(err)
	}
	if err := SetSubreaper(); err != nil {
		t.Fatal(err)
	}
	// sh starts a sleep in a subshell that exits at once, prints the
	// sleep's pid and exits: the sleep is then an orphan.
	out, err := exec.Command("sh", "-c", `(sleep 30 >/dev/null 2>&1 & echo $!)`).Output()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("pid %q: %v", out, err)
	}
	defer func() {
		syscall.Kill(pid, syscall.SIGKILL)
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, 0, nil) // it is this process's child now
	}()
	procs, err := Descendants(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	var found *Proc
	for i := range procs {
		if procs[i].PID == pid {
			found = &procs[i]
		}
	}
	if found == nil {
		t.Fatalf("the orphaned sleep %d is not among the descendants %+v", pid, procs)
	}
	if found.PPID != os.Getpid() || found.Comm != "sleep" || found.RSS <= 0 {
		t.Fatalf("the orphan as read: %+v", *found)
	}
	// The sampler counts it, and only what matches.
	s := Sample(os.Getpid(), 10*time.Millisecond, func(p Proc) bool { return p.Comm == "sleep" })
	time.Sleep(50 * time.Millisecond)
	p := s.Stop()
	if p.Procs != 1 || p.RSS <= 0 || p.Samples == 0 {
		t.Fatalf("peak %+v", p)
	}
	none := Sample(os.Getpid(), 10*time.Millisecond, Chromium)
	if p := none.Stop(); p.Procs != 0 || p.RSS != 0 {
		t.Fatalf("Chromium peak without Chromium: %+v", p)
	}
}

func TestPeakRSS(t *testing.T) {
	if err := Available(); err != nil {
		t.Skip(err)
	}
	pid := os.Getpid()
	if err := ResetPeak(pid); err != nil {
		t.Fatal(err)
	}
	before, err := PeakRSS(pid)
	if err != nil || before <= 0 {
		t.Fatalf("peak %d, %v", before, err)
	}
	// Touch 64 MB more than the process held: the peak rises by about it.
	b := make([]byte, 64<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	after, err := PeakRSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	if after-before < 60<<20 {
		t.Fatalf("peak %d before touching 64 MB, %d after", before, after)
	}
	b[len(b)-1] = 2 // keep b alive until after the reading
}
