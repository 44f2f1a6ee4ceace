package report

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/idgraph/idgraph/diff"
)

//go:embed report.html.tmpl
var tmplFS embed.FS

var funcs = template.FuncMap{
	"utc": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"day":  func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"dur":  func(d time.Duration) string { return d.Round(time.Millisecond).String() },
	"join": strings.Join,
	// clean makes source text readable and inert: bidirectional overrides
	// and control characters become visible replacement characters, so a
	// hostile name cannot reorder what the reviewer reads. html/template
	// escapes the rest.
	"clean": func(s string) string { return Terminal(s, 500) },
	"teamLabel": func(f diff.Finding) string {
		if f.TeamName != "" {
			return f.TeamName
		}
		return f.Team
	},
	"count": func(fs []diff.Finding, kind, sev string) int {
		n := 0
		for _, f := range fs {
			if f.Kind == kind && f.Severity == sev {
				n++
			}
		}
		return n
	},
	"byKind": func(fs []diff.Finding, kind string) int {
		n := 0
		for _, f := range fs {
			if f.Kind == kind {
				n++
			}
		}
		return n
	},
	"role": func(m map[string]int, r string) int { return m[r] },
	"otherRoles": func(m map[string]int) string {
		var out []string
		for k, v := range m {
			if k != "Owner" && k != "Admin" && k != "Member" {
				out = append(out, fmt.Sprintf("%s: %d", Terminal(k, 40), v))
			}
		}
		return strings.Join(out, ", ")
	},
}

var page = template.Must(template.New("report.html.tmpl").Funcs(funcs).ParseFS(tmplFS, "report.html.tmpl"))

// Chart is the inline SVG chart of findings over the snapshot history.
type Chart struct {
	Width, Height int
	Bars          []Bar
	Max           int
	YTicks        []Tick
}

// Bar is one snapshot's stacked bar.
type Bar struct {
	X, W     int
	Label    string
	Title    string
	Segments []Segment
	Complete bool
}

// Segment is one severity's part of a bar.
type Segment struct {
	Y, H  int
	Class string
}

// Tick is a y-axis label.
type Tick struct {
	Y     int
	Label int
}

func chart(h []Point) Chart {
	c := Chart{Width: 720, Height: 180}
	if len(h) > 60 {
		h = h[len(h)-60:]
	}
	for _, p := range h {
		c.Max = max(c.Max, p.Total())
	}
	if c.Max == 0 {
		c.Max = 1
	}
	plotH, left := 140, 40
	w := min((c.Width-left)/max(len(h), 1), 48)
	for i, p := range h {
		b := Bar{X: left + i*w + 2, W: max(w-4, 2), Label: fmt.Sprint(p.ID), Complete: p.Complete,
			Title: fmt.Sprintf("snapshot %d, %s: %d open findings", p.ID, p.At.UTC().Format("2006-01-02"), p.Total())}
		y := 10 + plotH
		for _, sev := range []string{diff.SevInfo, diff.SevLow, diff.SevMedium, diff.SevHigh, diff.SevCritical} {
			n := p.BySeverity[sev]
			if n == 0 {
				continue
			}
			hgt := n * plotH / c.Max
			if hgt == 0 {
				hgt = 1
			}
			y -= hgt
			b.Segments = append(b.Segments, Segment{Y: y, H: hgt, Class: "s-" + sev})
		}
		c.Bars = append(c.Bars, b)
	}
	for _, v := range []int{0, c.Max / 2, c.Max} {
		c.YTicks = append(c.YTicks, Tick{Y: 10 + plotH - v*plotH/c.Max, Label: v})
	}
	return c
}

// WriteHTML writes the access-review report: one self-contained page with
// no external assets.
func WriteHTML(w io.Writer, d *Data) error {
	facts := d.Facts()
	return page.Execute(w, map[string]any{
		"D": d, "Facts": facts, "Kinds": Kinds, "Severities": Severities, "Teams": d.Teams(),
		"Chart": chart(d.History), "Unknown": d.Unknown(), "Sources": d.Snapshot.Sources,
	})
}
