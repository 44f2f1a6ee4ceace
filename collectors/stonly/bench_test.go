package stonly

import (
	"context"
	"testing"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/stonly/stonlytest"
)

// BenchmarkScrape reads 1,000 members over 3 teams, 25 rows per "Load
// more", browser start included (the replica's default 300ms first render
// and 100ms per load):
//
//	go test ./collectors/stonly -run '^$' -bench Scrape -benchtime 3x
func BenchmarkScrape(b *testing.B) {
	needChromium(b)
	for _, paging := range []string{"loadmore", "scroll"} {
		b.Run(paging, func(b *testing.B) {
			srv := stonlytest.NewServer(stonlytest.Generate(1000, "Support Center", "Sales", "Onboarding"))
			defer srv.Close()
			srv.SetVariant(stonlytest.Variant{Paging: paging, PageSize: 25})
			c := newCollector(b, srv, b.TempDir())
			for i := 0; i < b.N; i++ {
				res, err := c.Collect(context.Background(), collectors.Request{})
				if err != nil || res.Completeness.Records != 1006 {
					b.Fatalf("err %v records %d", err, res.Completeness.Records)
				}
				b.ReportMetric(float64(res.Completeness.Pages), "loads/op")
			}
		})
	}
}
