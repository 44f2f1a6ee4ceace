package report

import (
	"testing"
	"time"

	"github.com/idgraph/idgraph/diff"
)

// TestChartLabelsNeverOverlap: with many snapshots, several a day, the
// chart keeps the last 60, inside its viewBox, with labels far enough
// apart to be read and a date wherever the day changed.
func TestChartLabelsNeverOverlap(t *testing.T) {
	var h []Point
	at := time.Date(2026, 10, 1, 2, 0, 0, 0, time.UTC)
	for i := range 90 {
		h = append(h, Point{ID: int64(i + 1), At: at.Add(time.Duration(i) * 8 * time.Hour), Complete: i%7 != 0,
			BySeverity: map[string]int{diff.SevCritical: i % 3, diff.SevMedium: i}, Unknown: i % 5})
	}
	c := chart(h)
	if len(c.Bars) != 60 || c.Bars[0].Title[:11] != "snapshot 31" {
		t.Fatalf("%d bars, first %q: want the last 60", len(c.Bars), c.Bars[0].Title)
	}
	want := 0
	for _, p := range h[30:] {
		want = max(want, p.Total()+p.Unknown)
	}
	if c.Max != want {
		t.Errorf("max %d, want %d (open and unknown of the bars shown)", c.Max, want)
	}
	lastID, lastDate, dates := -1000, -1000, 0
	for _, b := range c.Bars {
		if b.X < c.Left || b.X+b.W > c.Right {
			t.Errorf("bar %+v outside the plot [%d, %d]", b, c.Left, c.Right)
		}
		if b.Top-3-12 < 0 {
			t.Errorf("the marker above bar %+v leaves the viewBox", b)
		}
		for _, s := range b.Segments {
			if s.Y < plotTop || s.Y+s.H > plotTop+plotH {
				t.Errorf("segment %+v outside the plot", s)
			}
		}
		if b.Label != "" {
			if b.Mid-lastID < 34 {
				t.Errorf("snapshot labels %d units apart", b.Mid-lastID)
			}
			lastID = b.Mid
		}
		if b.Date != "" {
			if b.Mid-lastDate < 64 {
				t.Errorf("dates %d units apart", b.Mid-lastDate)
			}
			lastDate, dates = b.Mid, dates+1
		}
	}
	if dates < 5 || c.First != "2026-10-11" || c.Last != "2026-10-30" || !c.Unknown || !c.Incomplete {
		t.Errorf("%d dates, span %s to %s, unknown %v, incomplete %v", dates, c.First, c.Last, c.Unknown, c.Incomplete)
	}
	if n := len(c.YTicks); n != 3 || c.YTicks[0].Label != 0 || c.YTicks[n-1].Label != c.Max {
		t.Errorf("y ticks %+v", c.YTicks)
	}
}
