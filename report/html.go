package report

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/store"
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
	"role":   func(m map[string]int, r string) int { return m[r] },
	"plural": Plural,
	"minus":  func(a, b int) int { return a - b },
	"wasWere": func(n int) string {
		if n == 1 {
			return "was"
		}
		return "were"
	},
	"unchecked": func(f diff.Finding, src []store.Source) string { return List(UncheckedBy(f, src)) },
	"firstSeen": FirstSeenText,
	// otherRoles counts the roles that are not columns of the table (text
	// that is not one of the application's roles), in a stable order.
	"otherRoles": func(m map[string]int, columns []string) string {
		var out []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !slices.Contains(columns, k) {
				out = append(out, fmt.Sprintf("%s: %d", Terminal(k, 40), m[k]))
			}
		}
		return strings.Join(out, ", ")
	},
	// appTitle and sourceTitle name a finding's or a source's application
	// when the report shows several; WriteHTML binds them to the snapshot.
	"appTitle":    func(diff.Finding) string { return "" },
	"sourceTitle": func(string) string { return "" },
}

var page = template.Must(template.New("report.html.tmpl").Funcs(funcs).ParseFS(tmplFS, "report.html.tmpl"))

// TeamGroup is one application's part of the roles-per-team table: its
// ladder, highest role first, as the columns.
type TeamGroup struct {
	Application
	Columns []string
	Teams   []TeamRoles
}

// teamGroups splits the per-team role counts by application, in the order
// of apps; with one application (or none) everything is one group.
func teamGroups(apps []Application, teams []TeamRoles) []TeamGroup {
	columns := func(a Application) []string {
		c := slices.Clone(a.Roles)
		slices.Reverse(c)
		return c
	}
	if len(apps) <= 1 {
		g := TeamGroup{Teams: teams}
		if len(apps) == 1 {
			g.Application, g.Columns = apps[0], columns(apps[0])
		}
		return []TeamGroup{g}
	}
	out := make([]TeamGroup, 0, len(apps))
	for _, a := range apps {
		g := TeamGroup{Application: a, Columns: columns(a)}
		for _, t := range teams {
			if t.App == a.Name {
				g.Teams = append(g.Teams, t)
			}
		}
		out = append(out, g)
	}
	return out
}

// Chart is the inline SVG chart of findings over the snapshot history. It
// is drawn in its own coordinates (a viewBox) and scales with its card.
type Chart struct {
	Width, Height int
	Left, Right   int // the plot's x range
	Bars          []Bar
	Max           int
	YTicks        []Tick
	First, Last   string // the dates the chart spans
	Unknown       bool   // some bar shows findings that could not be re-checked
	Incomplete    bool   // some snapshot had an incomplete source
}

// Bar is one snapshot's stacked bar.
type Bar struct {
	X, W     int
	Mid      int // the bar's centre, for its labels
	Top      int // the top of its highest segment, for the incomplete marker
	Label    string
	Date     string // shown when the day changed since the last date shown
	Title    string
	Segments []Segment
	Complete bool
}

// Segment is one severity's part of a bar, or the unknown part.
type Segment struct {
	Y, H  int
	Class string
}

// Tick is a y-axis label.
type Tick struct {
	Y     int
	Label int
}

const (
	chartW, chartH = 560, 196
	plotTop        = 16 // room for the marker of an incomplete snapshot
	plotH          = 128
	plotLeft       = 36
)

func chart(h []Point) Chart {
	c := Chart{Width: chartW, Height: chartH, Left: plotLeft, Right: chartW - 4}
	if len(h) > 60 {
		h = h[len(h)-60:]
	}
	for _, p := range h {
		c.Max = max(c.Max, p.Total()+p.Unknown)
	}
	if c.Max == 0 {
		c.Max = 1
	}
	if len(h) > 0 {
		c.First, c.Last = h[0].At.UTC().Format("2006-01-02"), h[len(h)-1].At.UTC().Format("2006-01-02")
	}
	w := min((c.Right-c.Left)/max(len(h), 1), 48)
	// Labels are thinned so that they never overlap: a snapshot id needs
	// about 34 units, a date about 64.
	idEvery := max(1, (34+w-1)/w)
	lastDate, lastDateX := "", -1000
	base := plotTop + plotH
	for i, p := range h {
		b := Bar{X: c.Left + i*w + 2, W: max(w-4, 2), Complete: p.Complete}
		b.Mid = b.X + b.W/2
		if i%idEvery == 0 {
			b.Label = fmt.Sprintf("#%d", p.ID)
		}
		day := p.At.UTC().Format("Jan 2")
		if day != lastDate && b.Mid-lastDateX >= 64 {
			b.Date, lastDate, lastDateX = day, day, b.Mid
		}
		b.Title = fmt.Sprintf("snapshot %d, %s: %d open findings", p.ID, p.At.UTC().Format("2006-01-02 15:04 UTC"), p.Total())
		if p.Unknown > 0 {
			b.Title += fmt.Sprintf(", %d could not be re-checked", p.Unknown)
		}
		if !p.Complete {
			b.Title += " (a source was incomplete)"
		}
		y := base
		stack := func(n int, class string) {
			if n == 0 {
				return
			}
			hgt := max(n*plotH/c.Max, 1)
			y -= hgt
			b.Segments = append(b.Segments, Segment{Y: y, H: hgt, Class: class})
		}
		for _, sev := range []string{diff.SevInfo, diff.SevLow, diff.SevMedium, diff.SevHigh, diff.SevCritical} {
			stack(p.BySeverity[sev], "s-"+sev)
		}
		stack(p.Unknown, "s-unknown")
		b.Top = y
		c.Unknown = c.Unknown || p.Unknown > 0
		c.Incomplete = c.Incomplete || !p.Complete
		c.Bars = append(c.Bars, b)
	}
	ticks := []int{0, c.Max}
	if c.Max >= 4 {
		ticks = []int{0, c.Max / 2, c.Max}
	}
	for _, v := range ticks {
		c.YTicks = append(c.YTicks, Tick{Y: base - v*plotH/c.Max, Label: v})
	}
	return c
}

// WriteHTML writes the access-review report: one self-contained page with
// no external assets and no script.
func WriteHTML(w io.Writer, d *Data) error {
	facts, unknowns, inc := d.Facts(), d.Unknowns(), d.Incomplete()
	var incNames []string
	for _, u := range inc {
		incNames = append(incNames, u.Source)
	}
	// With several applications, the findings and the roles per team are
	// grouped under each application's title, and every list names the
	// application; with one, the report reads as it always has.
	apps := d.Apps()
	multi := len(apps) > 1
	groups := []AppFindings{{Findings: facts}}
	if multi {
		groups = ByApp(apps, facts)
	}
	t, err := page.Clone()
	if err != nil {
		return err
	}
	t.Funcs(template.FuncMap{
		"appTitle": func(f diff.Finding) string {
			if !multi {
				return ""
			}
			return TitleIn(apps, f.App)
		},
		"sourceTitle": func(source string) string {
			if !multi {
				return ""
			}
			for _, s := range d.Snapshot.Sources {
				if s.Info.Name == source && s.Info.App != "" {
					return TitleIn(apps, s.Info.App)
				}
			}
			return ""
		},
	})
	return t.Execute(w, map[string]any{
		"D": d, "Facts": facts, "Kinds": Kinds, "Severities": Severities, "TeamGroups": teamGroups(apps, d.Teams()),
		"Chart": chart(d.History), "Unknowns": unknowns, "Sources": d.Snapshot.Sources,
		"Incomplete": inc, "IncompleteList": List(incNames), "App": d.App(), "Counts": d.AccountCounts(),
		"Top": Top(facts, 5), "TopUnknown": Top(unknowns, 5), "Multi": multi, "FactGroups": groups,
	})
}
