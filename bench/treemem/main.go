//go:build linux

// Command treemem runs a command and reports its memory apart from that
// of the Chromium processes it starts: the command's own peak resident
// set, and the peak of all Chromium processes together (the renderers
// included, which /usr/bin/time misses: Chromium's zygote orphans them,
// and treemem, a child subreaper, keeps them in its tree).
//
//	go run ./bench/treemem -interval 100ms -- ./idgraph collect --source stonly --config demo/idgraph.yaml
//
// It prints one line per figure on standard error and exits with the
// command's exit code.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/idgraph/idgraph/bench/proctree"
)

func main() {
	interval := flag.Duration("interval", 100*time.Millisecond, "how often to sample the process tree")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: treemem [-interval D] -- command [args...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := proctree.Available(); err != nil {
		fmt.Fprintln(os.Stderr, "treemem:", err)
		os.Exit(2)
	}
	if err := proctree.SetSubreaper(); err != nil {
		fmt.Fprintln(os.Stderr, "treemem:", err)
		os.Exit(2)
	}
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "treemem:", err)
		os.Exit(2)
	}
	self := os.Getpid()
	chrome := proctree.Sample(self, *interval, proctree.Chromium)
	pid := cmd.Process.Pid
	own := proctree.Sample(self, *interval, func(p proctree.Proc) bool { return p.PID == pid })
	others := proctree.Sample(self, *interval, func(p proctree.Proc) bool { return p.PID != pid && !proctree.Chromium(p) })
	err := cmd.Wait()
	wall := time.Since(start)
	c, o, m := chrome.Stop(), others.Stop(), own.Stop()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		fmt.Fprintln(os.Stderr, "treemem:", err)
		code = 1
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	fmt.Fprintf(os.Stderr, "treemem: wall %.2f s, exit %d\n", wall.Seconds(), code)
	fmt.Fprintf(os.Stderr, "treemem: command peak RSS %.1f MB (sampled)\n", float64(m.RSS)/1e6)
	if ru != nil {
		// wait4's ru_maxrss is the largest of the command and the children
		// it waited for (the Chromium browser process among them), and its
		// CPU time includes theirs.
		fmt.Fprintf(os.Stderr, "treemem: ru_maxrss %.1f MB, CPU %.2f s (the command and the children it waited for)\n", float64(ru.Maxrss)*1024/1e6,
			time.Duration(ru.Utime.Nano()+ru.Stime.Nano()).Seconds())
	}
	fmt.Fprintf(os.Stderr, "treemem: Chromium peak %.1f MB PSS (%.1f MB RSS summed), up to %d processes, %d samples\n",
		float64(c.PSS)/1e6, float64(c.RSS)/1e6, c.Procs, c.Samples)
	fmt.Fprintf(os.Stderr, "treemem: other descendants peak %.1f MB PSS, up to %d processes\n", float64(o.PSS)/1e6, o.Procs)
	os.Exit(code)
}
