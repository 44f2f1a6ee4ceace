package serve_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idgraph/idgraph/internal/browsertest"
)

// TestPeopleSearchAndDriftInChromium: in a real Chromium, a reviewer finds
// a person from the navigation's search, opens their page from the
// result, and reads a drift page whose lines name people and link to
// them. With IDGRAPH_SCREENSHOT_DIR set, the pages are saved there (PNG) at
// 1400 and 1024 px wide, for a person to look at.
func TestPeopleSearchAndDriftInChromium(t *testing.T) {
	browsertest.Path(t) // skip, or fail in CI, before building the fixture
	f := newFixture(t)
	edit(t, f.dir+"/stonly-members.csv", map[string]string{
		"frank@acme.com,":   "frank@acme.com,Frank Excess,Member,active,t-support,Support Center",
		"mallory@gmail.com": "",
	}, "zed@acme.com,Zed Newcomer,Member,active,t-sales,Sales Playbooks")
	if err := f.srv.RunNow(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	tab := browsertest.Tab(t)
	ctx, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	shots := os.Getenv("IDGRAPH_SCREENSHOT_DIR")
	shoot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		for _, width := range []int64{1400, 1024} {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900)); err != nil {
				t.Fatal(err)
			}
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(shots, fmt.Sprintf("%s-%d.png", name, width)), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(f.http.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "alice@acme.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "alice-password"),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/runs"]`)),
		// The navigation's search, by keyboard: type, Enter.
		chromedp.SendKeys(chromedp.CSS(`nav form.find input[name=email]`), "Bob@ACME.com\r"),
		chromedp.WaitVisible(chromedp.CSS(`#people`)),
	); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#people`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Bob Leaver") || !strings.Contains(text, "orphaned") {
		t.Fatalf("the search result: %q", text)
	}
	shoot("people")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#people a`)),
		chromedp.WaitVisible(chromedp.CSS(`main h2`)),
	); err != nil {
		t.Fatal(err)
	}
	h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main h1`)))
	if err != nil || !strings.Contains(h1, "Bob Leaver") {
		t.Fatalf("the person's page: %q %v", h1, err)
	}
	// Nobody has this address: the page says so.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`nav form.find input[name=email]`), "nobody@acme.com\r"),
		chromedp.WaitVisible(chromedp.CSS(`#none`)),
	); err != nil {
		t.Fatal(err)
	}
	// The drift page from the navigation: names, and links to people.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav a[href="/drift"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#role-changes`)),
	); err != nil {
		t.Fatal(err)
	}
	roles, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#role-changes`)))
	if err != nil || !strings.Contains(roles, "Frank Excess") || !strings.Contains(roles, "Admin → Member") {
		t.Fatalf("role changes: %q %v", roles, err)
	}
	shoot("drift")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#role-changes a`)),
		chromedp.WaitVisible(chromedp.CSS(`main h2`)),
	); err != nil {
		t.Fatal(err)
	}
	if h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main h1`))); err != nil || !strings.Contains(h1, "Frank Excess") {
		t.Fatalf("the role change's link: %q %v", h1, err)
	}
}
