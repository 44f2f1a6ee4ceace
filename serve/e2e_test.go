package serve_test

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idgraph/idgraph/collectors/stonly"
)

// TestReviewInChromium signs in through the form, filters the findings,
// records a decision and sees it on the page, in real Chromium.
func TestReviewInChromium(t *testing.T) {
	path, err := stonly.ChromiumPath("")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %v", err)
		}
		t.Skip(err)
	}
	f := newFixture(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	tab, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(tab); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	// A sign-in link whose next names another host in a spelling that
	// browsers read as a host (backslash) leaves the browser on idgraph.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(f.http.URL+"/login?next="+url.QueryEscape(`/\evil.example/findings`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "alice@acme.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "alice-password"),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/runs"]`)),
	); err != nil {
		t.Fatal(err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || loc != f.http.URL+"/" {
		t.Fatalf("after signing in with next=/\\evil.example the browser is at %q (%v), want %s/", loc, err, f.http.URL)
	}
	// Sign out (a form post from the page), then: unauthenticated, the
	// findings page sends the browser to sign in.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(f.http.URL+"/"),
		chromedp.Click(chromedp.CSS(`nav form button`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.Navigate(f.http.URL+"/findings"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "alice@acme.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "alice-password"),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#findings`)),
	); err != nil {
		t.Fatal(err)
	}
	// Filter: orphaned only.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`select[name=kind]`), "orphaned"),
		chromedp.Click(chromedp.CSS(`form[aria-label=filters] button`)),
		// The old page has #findings too: wait for its other rows to go.
		chromedp.WaitNotPresent(chromedp.CSS(`#findings tr[data-key^="unassigned/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#findings`)),
	); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#findings`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "bob@acme.com") || strings.Contains(text, "carol@acme.com") {
		t.Fatalf("filter not applied:\n%s", text)
	}
	// Record a decision on Bob's finding, the first row.
	row := `#findings tr[data-key^="orphaned/stonly/stonly:t-support:bob"]`
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(row+` select[name=decision]`), "revoke"),
		chromedp.SendKeys(chromedp.CSS(row+` input[name=justification]`), "left in October"),
		chromedp.Click(chromedp.CSS(row+` button`)),
		chromedp.WaitVisible(chromedp.CSS(`p.msg`)),
	); err != nil {
		t.Fatal(err)
	}
	review, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(row+` .status`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(review, "revoke pending") || !strings.Contains(review, "by alice@acme.com") || !strings.Contains(review, "left in October") {
		t.Fatalf("the decision is not on the page: %q", review)
	}
}
