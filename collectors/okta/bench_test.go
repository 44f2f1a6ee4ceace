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

// BenchmarkCollectIncremental is the nightly incremental read after 1% of
// the users changed (issue 20: the end-to-end benchmark changed no Okta
// user, so its lastUpdated read returned none). Each run checks that the
// read returned exactly the changed users, and reports its requests and
// its bytes against the full read's.
//
//	go test ./collectors/okta -run '^$' -bench 'CollectIncremental/users=100000$' -benchtime 3x -benchmem
func BenchmarkCollectIncremental(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			sc := oktatest.Generate(n, n/5, 1)
			sc.Token = token
			srv := oktatest.NewServer(sc)
			defer srv.Close()
			c := collector(b, srv)
			full, err := c.Collect(context.Background(), collectors.Request{})
			if err != nil {
				b.Fatal(err)
			}
			fullBytes := srv.Stats().Bytes
			ids := changeOnePercent(srv, n)
			prev := &collectors.Previous{State: full.State, Accounts: full.Accounts}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				srv.ResetStats()
				res, err := c.Collect(context.Background(), collectors.Request{Previous: prev})
				if err != nil || res.Completeness.Mode != "incremental" || res.Completeness.Records != n {
					b.Fatalf("err %v mode %q records %d", err, res.Completeness.Mode, res.Completeness.Records)
				}
				if got := changedNames(res); got != len(ids) {
					b.Fatalf("the incremental read returned %d of the %d changed users", got, len(ids))
				}
				st := srv.Stats()
				b.ReportMetric(float64(st.Total), "requests/op")
				b.ReportMetric(100*float64(st.Bytes)/float64(fullBytes), "bytes-%-of-full")
			}
		})
	}
}

// changeOnePercent gives 1% of the n users a new display name, spread
// over the org (97 is prime to n), and returns their ids.
func changeOnePercent(srv *oktatest.Server, n int) []string {
	var ids []string
	for k := range n / 100 {
		ids = append(ids, oktatest.UserID((k*97)%n))
	}
	srv.ChangeUsers(ids, func(u *oktatest.User) { u.DisplayName = "Changed " + u.ID })
	return ids
}

func changedNames(res *collectors.Result) int {
	n := 0
	for _, a := range res.Accounts {
		if strings.HasPrefix(a.DisplayName, "Changed ") {
			n++
		}
	}
	return n
}
