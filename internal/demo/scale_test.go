package demo_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/idgraph/idgraph/bench/proctree"
	"github.com/idgraph/idgraph/collectors"
	_ "github.com/idgraph/idgraph/collectors/all"
	"github.com/idgraph/idgraph/collectors/entra/graphtest"
	"github.com/idgraph/idgraph/collectors/okta/oktatest"
	"github.com/idgraph/idgraph/collectors/stonly"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/internal/demo"
	"github.com/idgraph/idgraph/pipeline"
	"github.com/idgraph/idgraph/store"
)

// simulatorsEnv names the variable with which BenchmarkEndToEnd starts
// this test binary again as the simulators' process.
const simulatorsEnv = "IDGRAPH_BENCH_SIMULATORS"

// simSpec is what the benchmark asks of the simulators' process.
type simSpec struct {
	Scale demo.Scale
	Dir   string
}

// changed is what the simulators changed for an incremental run: the
// users' IDs per IdP and the display name each now has.
type changed struct {
	Okta, Entra map[string]string
}

// TestScaleSimulators is no test of its own: it is the simulators'
// process of BenchmarkEndToEnd, which starts this binary again with
// simulatorsEnv set, so that the benchmark's process holds idgraph alone
// and its memory and CPU figures are idgraph's. It serves a control API
// on 127.0.0.1 (the address is its first line of output) and stops when
// its standard input closes.
func TestScaleSimulators(t *testing.T) {
	spec := os.Getenv(simulatorsEnv)
	if spec == "" {
		t.Skip("the simulators' process of BenchmarkEndToEnd; it runs only when the benchmark starts it")
	}
	var sp simSpec
	if err := json.Unmarshal([]byte(spec), &sp); err != nil {
		t.Fatal(err)
	}
	env, err := demo.StartScale(sp.Scale, sp.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	n := sp.Scale.People
	mux := http.NewServeMux()
	mux.HandleFunc("GET /config", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, env.Config) })
	// The secrets the configuration names, handed to the benchmark's
	// process as the environment would be, never printed.
	mux.HandleFunc("GET /secret/{name}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, env.Getenv(r.PathValue("name"))) })
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, r *http.Request) {
		env.Okta.ResetStats()
		env.Graph.ResetStats()
	})
	mux.HandleFunc("GET /bytes", func(w http.ResponseWriter, r *http.Request) {
		bytes := env.Okta.Stats().Bytes
		for _, v := range env.Graph.Stats().Bytes {
			bytes += v
		}
		fmt.Fprint(w, bytes)
	})
	// 1% of the users change in both IdPs, the same people in each: a new
	// display name, which Okta stamps with lastUpdated and Graph reports in
	// the next delta round.
	mux.HandleFunc("POST /change", func(w http.ResponseWriter, r *http.Request) {
		round := r.URL.Query().Get("round")
		ch := changed{Okta: map[string]string{}, Entra: map[string]string{}}
		var ids []string
		for k := 0; k < n/100; k++ {
			i := (k * 97) % n
			name := fmt.Sprintf("User %d (changed %s)", i, round)
			ids = append(ids, oktatest.UserID(i))
			ch.Okta[oktatest.UserID(i)] = name
			env.Graph.ChangeUser(graphtest.GUID(7, i), func(u *graphtest.User) { u.DisplayName = name })
			ch.Entra[graphtest.GUID(7, i)] = name
		}
		env.Okta.ChangeUsers(ids, func(u *oktatest.User) { u.DisplayName = ch.Okta[u.ID] })
		json.NewEncoder(w).Encode(ch)
	})
	// Sampling Chromium's processes (a walk of /proc and the PSS of each
	// Chromium process, a few milliseconds a sample on a busy machine)
	// happens here, so that its CPU is not counted as idgraph's.
	var mu sync.Mutex
	var sampler *proctree.Sampler
	mux.HandleFunc("POST /sample", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		pid, err := strconv.Atoi(r.URL.Query().Get("pid"))
		if err != nil || sampler != nil {
			http.Error(w, "bad sample request", http.StatusBadRequest)
			return
		}
		sampler = proctree.Sample(pid, 250*time.Millisecond, proctree.Chromium)
	})
	mux.HandleFunc("POST /sample/stop", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if sampler == nil {
			http.Error(w, "not sampling", http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(sampler.Stop())
		sampler = nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	fmt.Printf("control http://%s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin)
}

// simulators is the simulators' process as the benchmark sees it.
type simulators struct {
	cmd     *exec.Cmd
	stdin   io.Closer
	control string
	secrets map[string]string
	config  string
}

func startSimulators(b *testing.B, sp simSpec) *simulators {
	spec, _ := json.Marshal(sp)
	cmd := exec.Command(os.Args[0], "-test.run", "^TestScaleSimulators$", "-test.timeout", "0")
	// A memory limit given to the benchmark (GOMEMLIMIT) is idgraph's, not
	// the simulators'.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMEMLIMIT=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, simulatorsEnv+"="+string(spec))
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
	s := &simulators{cmd: cmd, stdin: in, secrets: map[string]string{}}
	b.Cleanup(s.stop)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "control "); ok {
			s.control = addr
			break
		}
	}
	if s.control == "" {
		b.Fatalf("the simulators' process said no control address: %v", sc.Err())
	}
	go io.Copy(io.Discard, out)
	s.config = string(s.get(b, "GET", "/config"))
	for _, k := range []string{"DEMO_OKTA_TOKEN", "DEMO_ENTRA_SECRET", "DEMO_STONLY_PASSWORD", "DEMO_WEBHOOK_URL", "DEMO_WEBHOOK_SECRET"} {
		s.secrets[k] = string(s.get(b, "GET", "/secret/"+k))
	}
	return s
}

func (s *simulators) get(b *testing.B, method, path string) []byte {
	req, _ := http.NewRequest(method, s.control+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, err)
	}
	return body
}

func (s *simulators) bytes(b *testing.B) int64 {
	n, err := strconv.ParseInt(string(s.get(b, "GET", "/bytes")), 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func (s *simulators) stop() {
	s.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// figures are one run's measurements.
type figures struct {
	wall, cpu time.Duration // the run (pipeline.Run) in this process
	priors    time.Duration // writing the snapshot's priors after it (store.WritePriors)
	peakRSS   int64         // this process's peak resident set during the run
	chrome    proctree.Peak // Chromium's processes, summed at each sample
	bytes     int64         // API bytes the IdP simulators served
	out       *pipeline.Outcome
}

// BenchmarkEndToEnd is the end-to-end figure: People in Okta and
// in Entra, Members in Stonly over Teams teams, through the simulators
// with rate limiting off, collect to snapshot; then an incremental run
// after 1% of the users changed in both IdPs. The company is consistent:
// the IdPs assign Stonly to its members and 2% more. The assigned=20000
// case assigns a fifth of the company instead, the shape of the collector
// benchmarks, to show what assignments re-read in full cost.
//
// The simulators run in a process of their own (TestScaleSimulators), so
// that what this process measures is idgraph's: the wall and CPU time of
// each run, its peak resident set (the kernel's high-water mark, reset
// before each run), and, apart, the peak of all Chromium processes
// together (the renderers included: this process is a child subreaper,
// so they stay its descendants; bench/proctree), as PSS, sampled every
// 250 ms by the simulators' process so that the sampling's own CPU is not
// counted as idgraph's.
//
//	go test ./demo -run '^$' -bench 'EndToEnd/people=100000$' -benchtime 1x -count 5 -timeout 60m
//
// Only the first run of each size starts from a fresh process: the peak
// resident set of later ones is reset between runs, but the Go heap the
// earlier ones grew may not have been returned.
func BenchmarkEndToEnd(b *testing.B) {
	if _, err := stonly.ChromiumPath(""); err != nil {
		b.Skip(err)
	}
	if err := proctree.Available(); err != nil {
		b.Skip(err)
	}
	if err := proctree.SetSubreaper(); err != nil {
		b.Fatal(err)
	}
	for _, sc := range []demo.Scale{
		{People: 10_000, Members: 2000, Teams: 5},
		{People: 100_000, Members: 2000, Teams: 5},
		{People: 100_000, Members: 2000, Teams: 5, Assigned: 20_000},
		{People: 1_000_000, Members: 20_000, Teams: 20},
	} {
		name := fmt.Sprintf("people=%d", sc.People)
		if sc.Assigned > 0 {
			name += fmt.Sprintf(",assigned=%d", sc.Assigned)
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			sim := startSimulators(b, simSpec{Scale: sc, Dir: dir})
			cfg, err := config.Load(filepath.Join(dir, "idgraph.yaml"), collectors.Names())
			if err != nil {
				b.Fatal(err)
			}
			getenv := func(k string) string { return sim.secrets[k] }
			log := slog.New(slog.DiscardHandler)
			if testing.Verbose() {
				log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			}
			run := func(full bool) figures {
				srcs, err := pipeline.Build(cfg, getenv, log)
				if err != nil {
					b.Fatal(err)
				}
				pol, err := pipeline.PolicyOf(cfg, srcs)
				if err != nil {
					b.Fatal(err)
				}
				st, err := store.Open(context.Background(), filepath.Join(dir, "idgraph.db"))
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				sim.get(b, "POST", "/reset")
				runtime.GC()
				debug.FreeOSMemory()
				pid := os.Getpid()
				if err := proctree.ResetPeak(pid); err != nil {
					b.Fatal(err)
				}
				sim.get(b, "POST", "/sample?pid="+strconv.Itoa(pid))
				cpu0, start := cpuTime(), time.Now()
				out, err := pipeline.Run(context.Background(), pipeline.Options{Policy: pol, Sources: srcs, Store: st, Logger: log, Full: full})
				if err != nil {
					b.Fatal(err)
				}
				f := figures{wall: time.Since(start), cpu: cpuTime() - cpu0, out: out}
				if err := json.Unmarshal(sim.get(b, "POST", "/sample/stop"), &f.chrome); err != nil {
					b.Fatal(err)
				}
				f.peakRSS, _ = proctree.PeakRSS(pid)
				if len(out.Incomplete) > 0 {
					b.Fatalf("incomplete: %v", out.Incomplete)
				}
				// The priors of the snapshot, for the next run. Once
				// WriteSnapshot writes them in its own transaction this
				// finds them there and returns at once.
				t0 := time.Now()
				if err := st.WritePriors(context.Background(), out.Snapshot); err != nil {
					b.Fatal(err)
				}
				f.priors = time.Since(t0)
				f.bytes = sim.bytes(b)
				return f
			}
			for i := 0; i < b.N; i++ {
				for _, f := range []string{"idgraph.db", "idgraph.db-wal", "idgraph.db-shm"} {
					os.Remove(filepath.Join(dir, f))
				}
				full := run(true)
				accounts := len(full.out.Snapshot.Graph.Accounts)
				// The full run's outcome is not kept through the incremental
				// one: its peak would count it.
				full.out = nil
				ch := changed{}
				if err := json.Unmarshal(sim.get(b, "POST", "/change?round="+strconv.Itoa(i)), &ch); err != nil {
					b.Fatal(err)
				}
				inc := run(false)
				checkIncremental(b, inc.out, ch)
				inc.out = nil
				if i > 0 {
					continue
				}
				b.ReportMetric(float64(accounts), "accounts")
				for _, r := range []struct {
					name string
					f    figures
				}{{"full", full}, {"incremental", inc}} {
					b.ReportMetric(r.f.wall.Seconds(), r.name+"-s")
					b.ReportMetric(r.f.cpu.Seconds(), r.name+"-cpu-s")
					b.ReportMetric(float64(r.f.peakRSS)/1e6, r.name+"-idgraph-peak-MB")
					b.ReportMetric(float64(r.f.chrome.PSS)/1e6, r.name+"-chromium-peak-PSS-MB")
					b.ReportMetric(r.f.priors.Seconds(), r.name+"-priors-write-s")
				}
				b.ReportMetric(float64(full.bytes)/1e6, "full-API-MB")
				b.ReportMetric(100*float64(inc.bytes)/float64(full.bytes), "incremental-bytes-%")
				b.ReportMetric(inc.wall.Seconds()/full.wall.Seconds(), "incremental/full-time")
				b.ReportMetric(inc.cpu.Seconds()/full.cpu.Seconds(), "incremental/full-cpu")
			}
		})
	}
}

// checkIncremental fails the benchmark unless both IdPs were read
// incrementally and the new snapshot holds every change they made: the
// incremental reads returned the changed users, not nothing.
func checkIncremental(b *testing.B, out *pipeline.Outcome, ch changed) {
	b.Helper()
	modes := map[string]string{}
	for _, s := range out.Snapshot.Sources {
		modes[s.Info.Name] = s.Completeness.Mode
	}
	if modes["okta"] != "incremental" || modes["entra"] != "delta" {
		b.Fatalf("the second run read okta %q and entra %q, want incremental and delta", modes["okta"], modes["entra"])
	}
	want := map[string]map[string]string{"okta": ch.Okta, "entra": ch.Entra}
	seen := map[string]int{}
	for i := range out.Snapshot.Graph.Accounts {
		a := &out.Snapshot.Graph.Accounts[i]
		if name, ok := want[a.Source][a.ID]; ok {
			if a.DisplayName != name {
				b.Fatalf("%s: display name %q after the incremental run, want %q", a.Key(), a.DisplayName, name)
			}
			seen[a.Source]++
		}
	}
	if seen["okta"] != len(ch.Okta) || seen["entra"] != len(ch.Entra) || len(ch.Okta) == 0 {
		b.Fatalf("changed accounts found: okta %d of %d, entra %d of %d", seen["okta"], len(ch.Okta), seen["entra"], len(ch.Entra))
	}
}
