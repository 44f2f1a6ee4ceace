//go:build unix

package stonly

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ownGroup starts the browser in a process group of its own, and asks the
// kernel to kill it when the thread that started it ends (chromedp starts
// it from a goroutine locked to its thread for this reason).
func ownGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	setPdeathsig(cmd.SysProcAttr)
}

// endGroup waits, at most limit, until no process of the browser is left:
// those of its process group, and any that carries its profile or its
// temporary folder (a helper that left the group). It kills what remains
// and polls /proc until a few looks in a row find nothing, since a helper
// can fork just as the main process ends.
func endGroup(pgid int, home *browserHome, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		n := 0
		for _, pid := range browserProcesses(pgid, home) {
			syscall.Kill(pid, syscall.SIGKILL)
			n++
		}
		if n == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}

// browserProcesses lists the live (not zombie) processes of the browser.
// Without /proc it falls back to the process group alone.
func browserProcesses(pgid int, home *browserHome) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		if syscall.Kill(-pgid, 0) == nil {
			syscall.Kill(-pgid, syscall.SIGKILL)
			return []int{-pgid}
		}
		return nil
	}
	self := os.Getpid()
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid {
			out = append(out, pid)
			continue
		}
		if cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && bytes.Contains(cmdline, []byte(home.profile)) {
			out = append(out, pid)
			continue
		}
		if env, err := os.ReadFile("/proc/" + e.Name() + "/environ"); err == nil && bytes.Contains(env, []byte("TMPDIR="+home.tmp+"\x00")) {
			out = append(out, pid)
		}
	}
	return out
}
