//go:build linux

package stonly

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/bench/proctree"
	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/stonly/stonlytest"
)

// BenchmarkScrapeMemory is issue 20's browser target: the most memory all
// of Chromium's processes hold together while reading 1,000 members over
// 3 teams ("Load more" by 25, one tab per team), as the sum of their PSS
// (smaps_rollup), sampled every 100 ms, browser start included:
//
//	go test ./collectors/stonly -run '^$' -bench ScrapeMemory -benchtime 1x -count 3
//
// PSS, not RSS: Chromium's processes share most of their pages, and RSS
// counts a shared page once per process. The renderers are counted: the
// zygote that forks them lets them go, and this process, a child
// subreaper, receives them instead of init (bench/proctree). With -v the
// peak is broken down by process type (--type=renderer, zygote, ...).
func BenchmarkScrapeMemory(b *testing.B) {
	needChromium(b)
	if err := proctree.Available(); err != nil {
		b.Skip(err)
	}
	if err := proctree.SetSubreaper(); err != nil {
		b.Fatal(err)
	}
	srv := stonlytest.NewServer(stonlytest.Generate(1000, "Support Center", "Sales", "Onboarding"))
	defer srv.Close()
	srv.SetVariant(stonlytest.Variant{Paging: "loadmore", PageSize: 25})
	c := newCollector(b, srv, b.TempDir())
	var peak treePeak
	var wall time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		stop := sampleChromium(os.Getpid(), 100*time.Millisecond)
		start := time.Now()
		res, err := c.Collect(context.Background(), collectors.Request{})
		wall += time.Since(start)
		p := stop()
		if err != nil || res.Completeness.Records != 1006 {
			b.Fatalf("err %v records %d", err, res.Completeness.Records)
		}
		if p.samples == 0 || p.procs == 0 {
			b.Fatalf("no Chromium process seen in %d samples", p.samples)
		}
		if p.pss > peak.pss {
			peak = p
		}
	}
	b.ReportMetric(float64(peak.pss)/1e6, "chromium-peak-PSS-MB")
	b.ReportMetric(float64(peak.procs), "chromium-procs")
	b.ReportMetric(wall.Seconds()/float64(b.N), "s/op")
	b.Logf("peak %.1f MB PSS over %d processes: %s", float64(peak.pss)/1e6, peak.procs, peak.byType())
}

// treePeak is the sample at which Chromium's processes held the most.
type treePeak struct {
	pss            int64            // bytes, summed over the processes
	procs, samples int              // processes in that sample; samples taken
	types          map[string]int64 // PSS by process type, in that sample
	counts         map[string]int   // processes by type, in that sample
}

func (p treePeak) byType() string {
	var parts []string
	for _, t := range slices.Sorted(maps.Keys(p.types)) {
		parts = append(parts, fmt.Sprintf("%d %s %.1f MB", p.counts[t], t, float64(p.types[t])/1e6))
	}
	return strings.Join(parts, ", ")
}

// sampleChromium samples root's Chromium descendants every interval until
// the returned stop is called, which returns the peak sample.
func sampleChromium(root int, interval time.Duration) (stop func() treePeak) {
	done, out := make(chan struct{}), make(chan treePeak, 1)
	go func() {
		var peak treePeak
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if procs, err := proctree.Descendants(root); err == nil {
				cur := treePeak{types: map[string]int64{}, counts: map[string]int{}}
				for _, pr := range procs {
					// A zombie (a helper of an earlier run, which no
					// one waits for here) holds nothing.
					if proctree.Chromium(pr) && pr.RSS > 0 {
						cur.pss += pr.PSS
						cur.procs++
						typ := processType(pr.PID)
						cur.types[typ] += pr.PSS
						cur.counts[typ]++
					}
				}
				if cur.pss > peak.pss {
					cur.samples = peak.samples
					peak = cur
				}
				peak.samples++
			}
			select {
			case <-done:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() treePeak { close(done); return <-out }
}

// processType is the --type= of a Chromium process's command line
// (renderer, zygote, gpu-process, utility), "browser" for the main one.
func processType(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return "gone"
	}
	typ := "browser"
	// Chromium rewrites its command line into one string, spaces between.
	for _, arg := range bytes.Fields(bytes.ReplaceAll(b, []byte{0}, []byte{' '})) {
		if v, ok := bytes.CutPrefix(arg, []byte("--type=")); ok {
			typ = string(v)
		}
		if v, ok := bytes.CutPrefix(arg, []byte("--utility-sub-type=")); ok {
			typ = "utility:" + string(v)
		}
	}
	return typ
}
