package demo_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	_ "github.com/idgraph/idgraph/collectors/all"
	"github.com/idgraph/idgraph/collectors/entra/graphtest"
	"github.com/idgraph/idgraph/collectors/stonly"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/demo"
	"github.com/idgraph/idgraph/pipeline"
	"github.com/idgraph/idgraph/store"
)

// memTotal is all memory the Go runtime has mapped: heap, stacks and
// runtime structures.
func memTotal() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkEndToEnd is the end-to-end figure: 100,000 people in
// Okta and in Entra and 2,000 Stonly members over 5 teams, through the
// simulators with rate limiting off, collect to snapshot; then an
// incremental run after 1% of users changed. The company is consistent:
// the IdPs assign Stonly to its 2,000 members and 40 more. The last case
// assigns a fifth of the company instead (18,000 "missing" accounts), the
// shape of the collector benchmarks, to show what assignments re-read in
// full cost.
//
//	go test ./demo -run '^$' -bench EndToEnd -benchtime 1x -timeout 30m
//
// Peak memory: build the test binary and run it under /usr/bin/time -v
// (docs/BENCHMARKS.md).
func BenchmarkEndToEnd(b *testing.B) {
	if _, err := stonly.ChromiumPath(""); err != nil {
		b.Skip(err)
	}
	for _, sc := range []demo.Scale{{People: 10_000}, {People: 100_000}, {People: 100_000, Assigned: 20_000}} {
		sc.Members, sc.Teams = 2000, 5
		name := fmt.Sprintf("people=%d", sc.People)
		if sc.Assigned > 0 {
			name += fmt.Sprintf(",assigned=%d", sc.Assigned)
		}
		n := sc.People
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			env, err := demo.StartScale(sc, dir)
			if err != nil {
				b.Fatal(err)
			}
			defer env.Close()
			cfg, err := config.Load(env.Config, collectors.Names())
			if err != nil {
				b.Fatal(err)
			}
			log := slog.New(slog.DiscardHandler)
			runs := 0
			run := func(full bool) (*pipeline.Outcome, time.Duration, int64) {
				srcs, err := pipeline.Build(cfg, env.Getenv, log)
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
				env.Okta.ResetStats()
				env.Graph.ResetStats()
				runtime.GC()
				base := memTotal()
				stop := make(chan struct{})
				peak := make(chan uint64)
				go func() {
					p := base
					t := time.NewTicker(20 * time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-stop:
							peak <- p
							return
						case <-t.C:
							p = max(p, memTotal())
						}
					}
				}()
				start := time.Now()
				out, err := pipeline.Run(context.Background(), pipeline.Options{Policy: pol, Sources: srcs, Store: st, Logger: log, Full: full})
				if err != nil {
					b.Fatal(err)
				}
				close(stop)
				if p := <-peak; p > base {
					b.ReportMetric(float64(p-base)/1e6, fmt.Sprintf("run%d-peak-MB", runs))
				}
				runs++
				if len(out.Incomplete) > 0 {
					b.Fatalf("incomplete: %v", out.Incomplete)
				}
				var bytes int64
				bytes += env.Okta.Stats().Bytes
				for _, v := range env.Graph.Stats().Bytes {
					bytes += v
				}
				return out, time.Since(start), bytes
			}
			for i := 0; i < b.N; i++ {
				os.Remove(filepath.Join(dir, "idgraph.db"))
				out, full, fullBytes := run(true)
				b.ReportMetric(full.Seconds(), "full-s")
				b.ReportMetric(float64(len(out.Snapshot.Graph.Accounts)), "accounts")
				b.ReportMetric(float64(fullBytes)/1e6, "full-MB")
				for k := 0; k < n/100; k++ {
					env.Graph.ChangeUser(graphtest.GUID(7, (k*97)%n), func(u *graphtest.User) { u.DisplayName += "." })
				}
				_, inc, incBytes := run(false)
				b.ReportMetric(inc.Seconds(), "incremental-s")
				b.ReportMetric(100*float64(incBytes)/float64(fullBytes), "incremental-bytes-%")
			}
		})
	}
}
