// This file holds the browser: finding Chromium, starting it in a folder
// of its own (or attaching to a running one), ending it with its helpers
// and folders, and keeping a tab from loading images, fonts and media.

package stonly

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"
)

// ChromiumPath returns the browser the collector would start, or an error
// that says how to install one.
func ChromiumPath(configured string) (string, error) {
	if configured != "" {
		if _, err := os.Stat(configured); err != nil {
			return "", fmt.Errorf("stonly.chromium %s: %w", configured, err)
		}
		return configured, nil
	}
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if found, err := exec.LookPath(p); err == nil {
			return found, nil
		}
	}
	return "", errors.New("no Chromium found: install Debian's package (apt-get install -y chromium), set stonly.chromium, or point stonly.browser_url at a running browser")
}

// browserHome is the folder a started browser lives in: its profile and,
// through TMPDIR, the temporary folders Chromium makes of its own
// (org.chromium.Chromium.*), so that removing it leaves nothing behind.
type browserHome struct {
	dir, profile, tmp string
}

func newBrowserHome() (*browserHome, error) {
	// Short names: Chromium puts a Unix socket in its temporary folder,
	// and a socket's path may not exceed 107 bytes.
	dir, err := os.MkdirTemp("", "idgraph-chromium-")
	if err != nil {
		return nil, fmt.Errorf("making the browser's temporary folder: %w", err)
	}
	h := &browserHome{dir: dir, profile: filepath.Join(dir, "p"), tmp: filepath.Join(dir, "t")}
	for _, d := range []string{h.profile, h.tmp} {
		if err := os.Mkdir(d, 0o700); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("making the browser's temporary folder: %w", err)
		}
	}
	return h, nil
}

func (c *Collector) allocator(ctx context.Context, home *browserHome) (context.Context, context.CancelFunc, error) {
	if c.cfg.BrowserURL != "" {
		actx, cancel := remote.NewAllocator(ctx, c.cfg.BrowserURL)
		return actx, cancel, nil
	}
	path, err := ChromiumPath(c.cfg.Chromium)
	if err != nil {
		return nil, nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.DisableGPU,
		// No traffic of the browser's own: this machine may reach nothing
		// but the app, and updates or field trials have no place in a scrape.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		// Memory (issue 20; BenchmarkScrapeMemory, 1,000 members in 3
		// teams, peak PSS of all Chromium processes, medians of 3: 714 MB
		// with none of the three below, 463 MB with all).
		//
		// One renderer for the app's tabs: by default each tab has its own
		// (about 90 MB each); the tabs are all one site, the app, so
		// sharing a process costs no isolation between sites. -120 MB.
		chromedp.Flag("process-per-site", true),
		// Translate: chromedp's default, kept (this flag replaces its list).
		// WebUIOmniboxPopup, WebUIOmniboxAimPopup: the address bar's popups,
		// which a headless browser keeps loaded in a renderer of their own
		// (60 MB) that a scrape never shows. SpareRendererForSitePerProcess:
		// a renderer started ahead for the next site (15 MB); the scrape
		// visits one. Together -45 MB.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,WebUIOmniboxPopup,WebUIOmniboxAimPopup,SpareRendererForSitePerProcess"),
		// Smaller caches and V8 heaps in the renderer: -80 MB (renderer
		// 250 to 170 MB), no slower on the 1,000-member read.
		chromedp.Flag("enable-low-end-device-mode", true),
		chromedp.WindowSize(1280, 1000),
		chromedp.UserDataDir(home.profile),
		// Its own process group, so that its helpers can be found and
		// waited for; killed with this process if it dies.
		chromedp.ModifyCmdFunc(ownGroup),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	// org.chromium.Chromium.XXXXXX/SingletonSocket must fit a socket path;
	// under a very long temporary folder Chromium keeps the system's.
	if len(home.tmp)+len("/org.chromium.Chromium.XXXXXX/SingletonSocket") < 104 {
		opts = append(opts, chromedp.Env("TMPDIR="+home.tmp))
	}
	actx, cancel := chromedp.NewExecAllocator(ctx, opts...)
	return actx, cancel, nil
}

// browser starts Chromium (or attaches to the configured one) and opens
// a tab; end ends both. The browser is started with no step deadline: a
// deadline on the first Run would bind the browser's life to it.
//
// A started browser is gone when end returns: it is asked to quit, its
// process group (its helpers: zygote, renderers, network service) is
// waited for and killed if it lingers, and its profile and temporary
// folders are removed.
func (c *Collector) browser(ctx context.Context) (tab context.Context, end func(), err error) {
	if err := ctx.Err(); err != nil {
		// chromedp's tab cancel waits for a browser that an ended context
		// never starts: nothing is started then.
		return nil, nil, fmt.Errorf("stonly: the browser was not started: %w", context.Cause(ctx))
	}
	var home *browserHome
	if c.cfg.BrowserURL == "" {
		if home, err = newBrowserHome(); err != nil {
			return nil, nil, fmt.Errorf("stonly: %w", err)
		}
	}
	actx, acancel, err := c.allocator(ctx, home)
	if err != nil {
		if home != nil {
			os.RemoveAll(home.dir)
		}
		return nil, nil, fmt.Errorf("stonly: %w", err)
	}
	tab, tcancel := chromedp.NewContext(actx)
	pid := 0
	end = func() {
		if home == nil {
			tcancel()
			acancel()
			return
		}
		// A graceful quit lets Chromium end its helpers itself; it is
		// bounded, since a hung browser must not hold the run.
		quit := make(chan struct{})
		go func() {
			defer close(quit)
			cctx, cancel := context.WithTimeout(tab, 5*time.Second)
			defer cancel()
			chromedp.Cancel(cctx)
		}()
		select {
		case <-quit:
		case <-time.After(6 * time.Second):
		}
		// Bounded: a tab whose browser never started (the context ended
		// during the start) waits for it forever.
		closed := make(chan struct{})
		go func() { tcancel(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
		}
		acancel() // waits for the main process to be reaped
		if pid > 0 {
			endGroup(pid, home, 5*time.Second)
		}
		removeAll(home.dir, 5*time.Second)
	}
	if err := chromedp.Do(tab); err != nil {
		end()
		return nil, nil, fmt.Errorf("stonly: starting or reaching the browser: %w", err)
	}
	if b := chromedp.FromContext(tab).Browser; b != nil && b.Process() != nil {
		pid = b.Process().Pid
	}
	return tab, end, nil
}

// removeAll removes dir, trying again for a moment while a helper that is
// still exiting writes into it.
func removeAll(dir string, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for os.RemoveAll(dir) != nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

// blockAssets keeps images, fonts and media from loading in the tab: the
// scrape needs the markup only. The blocklist belongs to the tab, so every
// tab sets it.
func (s *scrape) blockAssets() error {
	return s.step("blocking images, fonts and media", func(ctx context.Context) error {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		var pats []*network.BlockPattern
		for _, ext := range []string{"png", "jpg", "jpeg", "gif", "webp", "avif", "ico", "svg", "woff", "woff2", "ttf", "otf", "eot", "mp4", "webm", "mp3", "ogg", "wav"} {
			pats = append(pats, &network.BlockPattern{URLPattern: "*://*:*/*." + ext, Block: true})
		}
		_, err := chromedp.Call(ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: pats})
		return err
	})
}
