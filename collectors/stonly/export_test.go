package stonly

import (
	"context"

	"github.com/chromedp/chromedp"

	"github.com/idgraph/idgraph/collectors"
)

// ScreenshotAsEvidence opens u in the collector's browser, takes the
// screenshot an action takes for its evidence, and returns it with what
// the page shows afterwards.
func (c *Collector) ScreenshotAsEvidence(ctx context.Context, u string) (png []byte, shown string, err error) {
	tab, end, err := c.browser(ctx)
	if err != nil {
		return nil, "", err
	}
	defer end()
	s := &scrape{c: c, tab: tab, comp: &collectors.Completeness{}}
	if err := chromedp.Do(tab, chromedp.Navigate(u)); err != nil {
		return nil, "", err
	}
	if png, err = s.screenshot(tab); err != nil {
		return nil, "", err
	}
	shown, err = chromedp.Run(tab, chromedp.Evaluate[string](actJS+";\nwindow.__idact.shown()"))
	return png, shown, err
}
