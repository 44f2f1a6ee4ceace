//go:build linux

// Package proctree measures the memory of a process tree on Linux, for
// the benchmarks of docs/BENCHMARKS.md: the peak resident set of one
// process (its kernel high-water mark, which can be reset between runs),
// and the peak of the sum over its descendants, Chromium's renderers
// included.
//
// Chromium forks its renderers through its zygote, which lets them go:
// an orphaned renderer is reparented to init, out of the tree that
// /usr/bin/time (wait4's rusage of the waited-for children) and a walk of
// the launching process's children see. A process that made itself a
// child subreaper (prctl PR_SET_CHILD_SUBREAPER, proc(5), prctl(2))
// receives those orphans instead, so they stay its descendants and are
// counted.
package proctree

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SetSubreaper makes the calling process a child subreaper: orphaned
// descendants are reparented to it rather than to init.
func SetSubreaper() error {
	const prSetChildSubreaper = 36 // <linux/prctl.h>
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); e != 0 {
		return fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", e)
	}
	return nil
}

// ResetPeak resets the kernel's peak resident set (VmHWM) of process pid
// to its current resident set ("5" in /proc/PID/clear_refs, proc(5)), so
// that PeakRSS then says the most a run that follows held.
func ResetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// PeakRSS returns process pid's peak resident set in bytes (VmHWM).
func PeakRSS(pid int) (int64, error) { return statusField(pid, "VmHWM:") }

// RSS returns process pid's resident set in bytes (VmRSS).
func RSS(pid int) (int64, error) { return statusField(pid, "VmRSS:") }

func statusField(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return kBField(b, field)
}

// kBField reads "Field:   1234 kB" from a /proc file.
func kBField(b []byte, field string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s", field)
}

// Proc is one process of a tree.
type Proc struct {
	PID, PPID int
	Comm      string // the kernel's short name (chromium's renderers are "chromium" too)
	RSS, PSS  int64  // bytes; PSS shares each shared page among the processes that map it
}

// Descendants returns every process below root (root excluded), with its
// resident and proportional set sizes. Processes that end while it reads
// are skipped.
func Descendants(root int) ([]Proc, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	parent := map[int]int{}
	comm := map[int]string{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i, j := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if i < 0 || j < i {
			continue
		}
		f := strings.Fields(string(b[j+1:]))
		if len(f) < 2 {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		parent[pid], comm[pid] = pp, string(b[i+1:j])
	}
	var out []Proc
	for pid := range parent {
		if pid == root {
			continue
		}
		below := false
		for p, n := parent[pid], 0; p > 1 && n < 64; p, n = parent[p], n+1 {
			if p == root {
				below = true
				break
			}
		}
		if !below {
			continue
		}
		pr := Proc{PID: pid, PPID: parent[pid], Comm: comm[pid]}
		pr.RSS, _ = RSS(pid)
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid)); err == nil {
			pr.PSS, _ = kBField(b, "Pss:")
		}
		out = append(out, pr)
	}
	return out, nil
}

// Peak is the most a group of processes held together at one sample.
type Peak struct {
	RSS, PSS int64 // bytes, summed over the group's processes
	Procs    int   // the most processes of the group at once
	Samples  int
}

// Sampler samples the descendants of a process at an interval and keeps
// the peak of the group that match.
type Sampler struct {
	stop chan struct{}
	done chan Peak
}

// Sample starts sampling root's descendants whose Comm match says so
// (every descendant when match is nil) every interval, until Stop.
func Sample(root int, interval time.Duration, match func(Proc) bool) *Sampler {
	s := &Sampler{stop: make(chan struct{}), done: make(chan Peak, 1)}
	go func() {
		var p Peak
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			procs, err := Descendants(root)
			if err == nil {
				var cur Peak
				for _, pr := range procs {
					if match == nil || match(pr) {
						cur.RSS += pr.RSS
						cur.PSS += pr.PSS
						cur.Procs++
					}
				}
				p.RSS, p.PSS, p.Procs = max(p.RSS, cur.RSS), max(p.PSS, cur.PSS), max(p.Procs, cur.Procs)
				p.Samples++
			}
			select {
			case <-s.stop:
				s.done <- p
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends the sampling and returns the peak.
func (s *Sampler) Stop() Peak {
	close(s.stop)
	return <-s.done
}

// Chromium matches Chromium's processes (the browser, its zygotes,
// renderers, GPU and utility processes).
func Chromium(p Proc) bool {
	c := strings.ToLower(p.Comm)
	return strings.Contains(c, "chrom") || strings.HasPrefix(c, "headless_shell")
}

// Available reports whether /proc offers what the package reads.
func Available() error {
	if _, err := os.Stat("/proc/self/smaps_rollup"); err != nil {
		return fmt.Errorf("proctree needs Linux's /proc (smaps_rollup, since Linux 4.14): %w", err)
	}
	return nil
}
