package entra

import (
	"context"
	"fmt"
	"testing"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/entra/graphtest"
)

// BenchmarkCollect reads a synthetic tenant through the real SDK and the
// simulator, at 10,000, 100,000 and 1,000,000 users; the figure
// is users=100000:
//
//	go test ./collectors/entra -run '^$' -bench 'Collect/users=100000$' -benchtime 3x
func BenchmarkCollect(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			srv, c := start(b, graphtest.Generate(n, n/5))
			b.ResetTimer() // the simulator's set-up is not the collector's time
			for i := 0; i < b.N; i++ {
				srv.ResetStats()
				res, err := c.Collect(context.Background(), collectors.Request{})
				if err != nil || res.Completeness.Records != n {
					b.Fatalf("err %v records %d", err, res.Completeness.Records)
				}
				b.ReportMetric(float64(srv.Stats().Requests["GET /v1.0/users"]), "user-list-requests")
			}
		})
	}
}

// BenchmarkDelta measures the incremental run after 1% of 100,000 users
// changed, against a full run: bytes of user data moved and time.
//
//	go test ./collectors/entra -run '^$' -bench Delta -benchtime 3x
func BenchmarkDelta(b *testing.B) {
	const n = 100_000
	srv, c := start(b, graphtest.Generate(n, n/5))
	full, err := c.Collect(context.Background(), collectors.Request{})
	if err != nil {
		b.Fatal(err)
	}
	fullBytes := srv.Stats().Bytes["/v1.0/users"]
	prev := &collectors.Previous{State: full.State, Accounts: full.Accounts}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for k := 0; k < n/100; k++ {
			srv.ChangeUser(graphtest.GUID(7, (k*97+i)%n), func(u *graphtest.User) { u.DisplayName += "." })
		}
		srv.ResetStats()
		b.StartTimer()
		res, err := c.Collect(context.Background(), collectors.Request{Previous: prev})
		if err != nil || res.Completeness.Mode != "delta" || len(res.Accounts) != n {
			b.Fatalf("err %v mode %s accounts %d", err, res.Completeness.Mode, len(res.Accounts))
		}
		prev = &collectors.Previous{State: res.State, Accounts: res.Accounts}
		st := srv.Stats()
		b.ReportMetric(100*float64(st.Bytes["/v1.0/users/delta()"])/float64(fullBytes), "delta-bytes-%-of-full")
	}
}
