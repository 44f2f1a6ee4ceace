// Package browsertest gives tests the Chromium they drive, under one rule
// for every package: without a browser a test skips, except in CI
// (CI=true), where it fails, because browser tests must run there.
package browsertest

import (
	"context"
	"os"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/idgraph/idgraph/collectors/stonly"
)

// Path returns the Chromium to drive, or skips (fails in CI) without one.
func Path(t testing.TB) string {
	t.Helper()
	path, err := stonly.ChromiumPath("")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %v", err)
		}
		t.Skip(err)
	}
	return path
}

// Tab starts a headless Chromium with the flags this machine needs (no
// background networking or component updates: the network is closed; no
// sandbox as root, which Chromium refuses) and returns a tab in it, closed
// when the test ends.
func Tab(t testing.TB) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(Path(t)), chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, tcancel := chromedp.NewContext(actx)
	t.Cleanup(func() { tcancel(); acancel() })
	if err := chromedp.Do(tab); err != nil {
		t.Fatal(err)
	}
	return tab
}
