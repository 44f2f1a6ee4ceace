package okta

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/okta/oktatest"
)

// BenchmarkCollect reads a synthetic org through the real SDK and the
// simulator (rate limiting off), at 10,000, 100,000 and 1,000,000 users.
// The figure is users=100000:
//
//	go test ./collectors/okta -run '^$' -bench 'Collect/users=100000$' -benchtime 3x
func BenchmarkCollect(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			sc := oktatest.Generate(n, n/5, 1)
			sc.Token = token
			srv := oktatest.NewServer(sc)
			defer srv.Close()
			c := collector(b, srv)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				srv.ResetStats()
				res, err := c.Collect(context.Background(), collectors.Request{})
				if err != nil || res.Completeness.Records != n {
					b.Fatalf("err %v records %d", err, res.Completeness.Records)
				}
				b.ReportMetric(float64(srv.Stats().Total), "requests/op")
			}
		})
	}
}

// BenchmarkRateLimited reads 100,000 users while the simulator enforces
// 100 requests per one-second window per endpoint family (Okta's windows
// are a minute; a second keeps the benchmark short, the arithmetic is the
// same). It reports the wall time, the lower bound the limit allows
// (full windows the busiest family must wait for), and the 429s received.
//
//	go test ./collectors/okta -run '^$' -bench RateLimited -benchtime 1x
func BenchmarkRateLimited(b *testing.B) {
	const n, limit = 100_000, 100
	sc := oktatest.Generate(n, n/5, 1)
	sc.Token = token
	srv := oktatest.NewServer(sc)
	defer srv.Close()
	c := collector(b, srv)
	b.ResetTimer() // generating 100,000 users is not the collector's time
	for i := 0; i < b.N; i++ {
		srv.SetFaults(oktatest.Faults{RateLimit: limit, Window: time.Second})
		srv.ResetStats()
		start := time.Now()
		res, err := c.Collect(context.Background(), collectors.Request{})
		if err != nil || res.Completeness.Records != n {
			b.Fatalf("err %v records %d", err, res.Completeness.Records)
		}
		el := time.Since(start)
		st := srv.Stats()
		busiest := 0
		for k, v := range st.Requests {
			if strings.Contains(k, "/api/v1/users") {
				busiest += v
			}
		}
		// Okta's windows (and the simulator's) are aligned to the clock, so
		// the first one is only the rest of the second the read started in:
		// the floor is that rest plus every further full window needed.
		var floor time.Duration
		if extra := (busiest - 1) / limit; extra > 0 {
			floor = start.Truncate(time.Second).Add(time.Second).Sub(start) + time.Duration(extra-1)*time.Second
		}
		b.ReportMetric(el.Seconds(), "wall-s")
		b.ReportMetric(floor.Seconds(), "limit-floor-s")
		b.ReportMetric(float64(st.Status429), "429s")
		b.ReportMetric(float64(st.Total), "requests")
	}
}
