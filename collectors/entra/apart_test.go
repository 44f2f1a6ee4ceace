package entra

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/entra/graphtest"
)

// The simulator apart: BenchmarkCollectApart runs graphtest in a child
// process (this test binary again, with simulatorEnv set), so that the
// time, allocations and peak resident memory it reports are the
// collector's alone, not the simulator's rendering of 100,000 users.

const simulatorEnv = "ENTRA_BENCH_SIMULATOR_USERS"

// simulatorInfo is what the child tells the parent on its first line.
type simulatorInfo struct {
	GraphURL, TokenURL, CA, Tenant, Client, Secret, SP string
}

func TestMain(m *testing.M) {
	if v := os.Getenv(simulatorEnv); v != "" {
		os.Exit(serveSimulator(v))
	}
	os.Exit(m.Run())
}

// serveSimulator serves a generated tenant of n users until its standard
// input closes.
func serveSimulator(n string) int {
	users, err := strconv.Atoi(n)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	sc := graphtest.Generate(users, users/5)
	srv := graphtest.NewServer(sc)
	defer srv.Close()
	dir, err := os.MkdirTemp("", "graphtest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ca, err := srv.WriteCA(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	json.NewEncoder(os.Stdout).Encode(simulatorInfo{GraphURL: srv.GraphURL(), TokenURL: srv.TokenURL(), CA: ca, Tenant: sc.TenantID,
		Client: sc.ClientID, Secret: sc.ClientSecret, SP: sc.SPID})
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// startApart starts the simulator child and a collector against it.
func startApart(b *testing.B, users int) *Collector {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), simulatorEnv+"="+strconv.Itoa(users))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { in.Close(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadBytes('\n')
	var si simulatorInfo
	if err != nil || json.Unmarshal(line, &si) != nil {
		b.Fatalf("simulator: %v %q", err, line)
	}
	c, err := NewCollector(Config{TenantID: si.Tenant, ClientID: si.Client, ClientSecretEnv: "S", ServicePrincipalID: si.SP,
		GraphURL: si.GraphURL, TokenURL: si.TokenURL, CAFile: si.CA, MaxRetryWait: 20 * time.Second},
		collectors.Env{File: "bench.yaml", Getenv: func(string) string { return si.Secret }})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// peakRSS is this process's peak resident set size (VmHWM) in bytes.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb * 1024
		}
	}
	return 0
}

// BenchmarkCollectApart is BenchmarkCollect with the simulator in another
// process: ns/op, B/op and allocs/op are the collector's, and peak-RSS-MiB
// is this process's peak resident memory (Linux VmHWM, reset before the
// timed loop by writing 5 to /proc/self/clear_refs). Run one size at a
// time so that the peak is that size's:
//
//	go test ./collectors/entra -run '^$' -bench 'CollectApart/users=100000/managers=true' -benchtime 3x -benchmem
//
// managers=false is the read without $expand=manager (entra.managers:
// false), whose list pages hold 999 users instead of 100.
func BenchmarkCollectApart(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, managers := range []bool{true, false} {
			b.Run(fmt.Sprintf("users=%d/managers=%v", n, managers), func(b *testing.B) { benchApart(b, n, managers) })
		}
	}
}

func benchApart(b *testing.B, n int, managers bool) {
	c := startApart(b, n)
	c.cfg.Managers = &managers
	runtime.GC()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := c.Collect(context.Background(), collectors.Request{})
		if err != nil || res.Completeness.Records != n {
			b.Fatalf("err %v records %d", err, res.Completeness.Records)
		}
	}
	b.StopTimer()
	b.ReportMetric(peakRSS()/(1<<20), "peak-RSS-MiB")
}
