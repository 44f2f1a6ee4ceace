package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/idgraph/idgraph/internal/browsertest"
	"github.com/idgraph/idgraph/report"
)

// chromium starts a real headless Chromium for the test, or skips when
// there is none, except in CI, where a missing browser is a failure.
func chromium(t *testing.T) context.Context {
	t.Helper()
	tab := browsertest.Tab(t)
	ctx, cancel := context.WithTimeout(tab, 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// layout is what the page measures of itself.
type layout struct {
	ScrollWidth, InnerWidth, InnerHeight float64
	FirstWho                             string  // the first named finding on the page
	FirstWhoBottom                       float64 // where it ends, from the top of the page
	TableRight, CardRight                float64 // the findings table and its card
	UnknownRight, UnknownCardRight       float64
	ChartWidth, ChartCardWidth           float64
	Overflowing                          []string // elements wider than their section
	Scrolling                            []string // tables that must scroll to be read whole
}

const measure = `(() => {
	const r = s => { const e = document.querySelector(s); return e ? e.getBoundingClientRect() : {right: 0, width: 0, bottom: 0}; };
	const who = document.querySelector('#top .who');
	const over = [];
	for (const s of document.querySelectorAll('section')) {
		const box = s.getBoundingClientRect();
		for (const e of s.querySelectorAll('*')) {
			if (e.closest('.wide') && e.closest('.wide') !== e) continue; // scrolls inside its card
			if (e.getBoundingClientRect().right > box.right + 0.5) over.push(s.id + ' ' + e.tagName + '.' + e.className);
		}
	}
	return {
		ScrollWidth: document.documentElement.scrollWidth, InnerWidth: innerWidth, InnerHeight: innerHeight,
		FirstWho: who ? who.textContent : '', FirstWhoBottom: who ? who.getBoundingClientRect().bottom + scrollY : 1e9,
		TableRight: r('#findings table').right, CardRight: r('#findings').right,
		UnknownRight: r('#unknown table').right, UnknownCardRight: r('#unknown').right,
		ChartWidth: r('#history svg').width, ChartCardWidth: r('#history').width,
		Overflowing: over.slice(0, 10),
		Scrolling: [...document.querySelectorAll('.wide')].filter(w => w.scrollWidth > w.clientWidth).map(w => w.closest('section').id),
	};
})()`

// printed is what the page looks like with print styles.
const printed = `(() => {
	const details = [...document.querySelectorAll('details')];
	return {
		Nav: getComputedStyle(document.querySelector('nav')).display,
		Details: details.length,
		Open: details.filter(d => { const u = d.querySelector('ul'); return u && u.getBoundingClientRect().height > 0 && u.checkVisibility(); }).length,
		ScrollWidth: document.documentElement.scrollWidth, InnerWidth: innerWidth,
	};
})()`

// TestReportInChromium opens the report in a real Chromium at 1400 and
// 1024 px, and prints it: nothing overflows the page or its card, the
// first named finding is on the first screen, and the evidence prints
// open without navigation. Screenshots and PDFs go to the test's artifact
// folder (go test -artifacts keeps them).
func TestReportInChromium(t *testing.T) {
	ctx := chromium(t)
	d := snapshot(t, t.TempDir(), "")
	// A history of nightly runs before this one, one of them incomplete,
	// so that the chart is drawn as it is after weeks of use.
	var past []report.Point
	for i := range 40 {
		p := report.Point{ID: int64(i + 1), At: d.Snapshot.FinishedAt.AddDate(0, 0, i-40), Complete: i != 31,
			BySeverity: map[string]int{"critical": i % 2, "high": 1 + i%3, "medium": 6 + i/5, "low": 4, "info": 1}}
		if !p.Complete {
			p.BySeverity, p.Unknown = map[string]int{"medium": 2}, 14
		}
		past = append(past, p)
	}
	sum := *d.Snapshot
	sum.ID = 41
	d.Snapshot, d.History = &sum, append(past, report.Point{ID: 41, At: sum.FinishedAt, Complete: true, BySeverity: d.History[0].BySeverity})
	out := t.ArtifactDir()
	// Two applications: findings and teams grouped under each title.
	for name, data := range map[string]*report.Data{"complete": d, "failed": failedSnapshot(d), "two-apps": twoApps(t)} {
		var b bytes.Buffer
		if err := report.WriteHTML(&b, data); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(out, name+".html")
		if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		page := (&url.URL{Scheme: "file", Path: file}).String()
		for _, width := range []int64{1400, 1024} {
			t.Run(fmt.Sprintf("%s/%d", name, width), func(t *testing.T) {
				if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 800), chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#findings"))); err != nil {
					t.Fatal(err)
				}
				raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](measure))
				if err != nil {
					t.Fatal(err)
				}
				var l layout
				if err := json.Unmarshal(raw, &l); err != nil {
					t.Fatal(err)
				}
				if l.ScrollWidth > l.InnerWidth {
					t.Errorf("the page is %.0f px wide in a %.0f px window", l.ScrollWidth, l.InnerWidth)
				}
				if len(l.Overflowing) > 0 {
					t.Errorf("elements overflow their card: %v", l.Overflowing)
				}
				if len(l.Scrolling) > 0 {
					t.Errorf("tables must be scrolled to be read whole: %v", l.Scrolling)
				}
				if l.FirstWho == "" || l.FirstWhoBottom > l.InnerHeight {
					t.Errorf("the first named finding (%q) ends at %.0f px, below the first screen (%.0f px)", l.FirstWho, l.FirstWhoBottom, l.InnerHeight)
				}
				if l.TableRight > l.CardRight || l.UnknownRight > l.UnknownCardRight {
					t.Errorf("a findings table overflows its card: %+v", l)
				}
				if l.ChartWidth == 0 || l.ChartWidth > l.ChartCardWidth {
					t.Errorf("the chart (%.0f px) does not fit its card (%.0f px)", l.ChartWidth, l.ChartCardWidth)
				}
				shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
				if err != nil {
					t.Fatal(err)
				}
				png := filepath.Join(out, fmt.Sprintf("%s-%d.png", name, width))
				if err := os.WriteFile(png, shot, 0o600); err != nil {
					t.Fatal(err)
				}
				t.Logf("screenshot: %s", png)
				table := "#findings"
				if name == "failed" {
					table = "#unknown"
				}
				for part, sel := range map[string]string{"table": table, "chart": "#history"} {
					if shot, err = chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel))); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(out, fmt.Sprintf("%s-%d-%s.png", name, width, part)), shot, 0o600); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
		t.Run(name+"/print", func(t *testing.T) {
			setMedia := func(m string) chromedp.Action[chromedp.Void] {
				return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m})
					return err
				})
			}
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(794, 1123), chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#findings")), setMedia("print")); err != nil {
				t.Fatal(err)
			}
			raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](printed))
			if err != nil {
				t.Fatal(err)
			}
			var p struct {
				Nav                     string
				Details, Open           int
				ScrollWidth, InnerWidth float64
			}
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatal(err)
			}
			if p.Nav != "none" {
				t.Errorf("the navigation prints (display %s)", p.Nav)
			}
			if p.Details == 0 || p.Open != p.Details {
				t.Errorf("%d of %d collapsed evidence lists print open", p.Open, p.Details)
			}
			if p.ScrollWidth > p.InnerWidth {
				t.Errorf("the printed page is %.0f px wide on a %.0f px sheet", p.ScrollWidth, p.InnerWidth)
			}
			// What the first sheet and the findings look like in print.
			for shot, sel := range map[string]string{"print-top": "", "print-findings": "#findings", "print-unknown": "#unknown"} {
				var png []byte
				switch {
				case sel == "":
					png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
				case name == "failed" || sel != "#unknown":
					png, err = chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
				default:
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(out, name+"-"+shot+".png"), png, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := chromedp.Do(ctx, setMedia("")); err != nil {
				t.Fatal(err)
			}
			pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPrintBackground()))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(pdf, []byte("%PDF-")) || !bytes.Contains(pdf, []byte("/Type /Page")) {
				t.Errorf("PrintToPDF gave no paged PDF (%d bytes)", len(pdf))
			}
			f := filepath.Join(out, name+".pdf")
			if err := os.WriteFile(f, pdf, 0o600); err != nil {
				t.Fatal(err)
			}
			t.Logf("PDF: %s, %d pages", f, bytes.Count(pdf, []byte("/Type /Page"))-bytes.Count(pdf, []byte("/Type /Pages")))
		})
	}
}
