// Package stonly reads the members of Stonly teams from the Team
// Management page, in headless Chromium driven by chromedp. Stonly has no
// user API and no SCIM, so the web page is the only source.
//
// The page's markup is not public and changes without notice, so the
// scraper finds members by visible column headers and ARIA roles (an HTML
// table, or role=grid/table of divs, headers in any order), never by class
// names, and follows pagination, "Load more" buttons and infinite scroll.
// If the headers it needs are missing, or the page's member count differs
// from the rows read, the source is incomplete and a screenshot and the
// page's HTML (secrets removed) are saved for whoever fixes the selectors.
//
// It fails closed: with teams: [] it waits (at most step_timeout) for the
// team switcher, opening it when its teams appear only on a click, and a
// page that never shows one is incomplete, not "one team". Each team read
// is a part of the completeness record (rows read, the count shown, the
// fix if it cannot be read again); a team that is visible but whose Team
// Management refuses the account makes the source incomplete. An empty
// team must be said so by the member list itself; invitations shown as
// rows with a status are invitations; virtualised lists are scrolled
// through; a role cell is read from its text, aria-label, title or CSS
// content, and one that shows nothing is a layout change. Captures are
// scrubbed of tokens (JWTs, long random strings, cookies, Authorization
// values), the session is signed out at the end of a read (not an
// operator's session_cookie_env), and the browser's processes and folders
// are gone when Collect returns.
//
// Configuration:
//
//	stonly:
//	  url: https://app.stonly.com
//	  email: it-bot@acme.com
//	  password_env: STONLY_PASSWORD         # or:
//	  session_cookie_env: STONLY_SESSION    # a session cookie, for SSO-only teams
//	  session_cookie_name: stonly_session
//	  teams: []                             # ids or names; empty: every team the account sees
//	  browser_url: ws://chromium:9222/...   # a running browser's DevTools websocket; empty: start Chromium
//	  chromium: /usr/bin/chromium
//	  debug_dir: stonly-debug               # screenshots and HTML when the page is not as expected
//	  timeout: 10m                          # the whole scrape
//	  step_timeout: 30s                     # one navigation, login or page load
//	  tabs: 4                               # teams read at once, one browser tab each
package stonly

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
)

// Version is recorded in evidence manifests.
const Version = "stonly/1 (chromedp v0.23.0)"

//go:embed extract.js
var extractJS string

//go:embed actions.js
var actionsJS string

func init() {
	collectors.Register("stonly", collectors.One("stonly", func(c Config, env collectors.Env) (collectors.Collector, error) { return NewCollector(c, env) }))
}

// Config is the stonly section of the configuration file.
type Config struct {
	URL               string        `yaml:"url"`
	Email             string        `yaml:"email"`
	PasswordEnv       string        `yaml:"password_env"`
	SessionCookieEnv  string        `yaml:"session_cookie_env"`
	SessionCookieName string        `yaml:"session_cookie_name"`
	Teams             []string      `yaml:"teams"`
	BrowserURL        string        `yaml:"browser_url"`
	Chromium          string        `yaml:"chromium"`
	DebugDir          string        `yaml:"debug_dir"`
	Timeout           time.Duration `yaml:"timeout"`
	StepTimeout       time.Duration `yaml:"step_timeout"`
	LoginPath         string        `yaml:"login_path"`
	AppPath           string        `yaml:"app_path"`
	TeamPath          string        `yaml:"team_path"` // {team} is replaced by the team id
	LogoutPath        string        `yaml:"logout_path"`
	Tabs              int           `yaml:"tabs"`
}

// Collector scrapes one Stonly account.
type Collector struct {
	cfg      Config
	base     *url.URL
	password string
	cookie   string
}

// NewCollector validates cfg and reads its secret.
func NewCollector(cfg Config, env collectors.Env) (*Collector, error) {
	bad := config.Section(env.File, "stonly")
	if cfg.DebugDir != "" && !filepath.IsAbs(cfg.DebugDir) && env.Dir != "" {
		cfg.DebugDir = filepath.Join(env.Dir, cfg.DebugDir)
	}
	u, err := url.Parse(cfg.URL)
	switch {
	case cfg.URL == "":
		return nil, bad("url is required (e.g. https://app.stonly.com)")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return nil, bad("url %q is not an absolute http(s) URL", cfg.URL)
	case cfg.PasswordEnv != "" && cfg.SessionCookieEnv != "":
		return nil, bad("password_env and session_cookie_env exclude each other")
	case cfg.PasswordEnv == "" && cfg.SessionCookieEnv == "":
		return nil, bad("password_env (with email) or session_cookie_env is required")
	case cfg.PasswordEnv != "" && cfg.Email == "":
		return nil, bad("email is required with password_env")
	case cfg.Tabs < 0 || cfg.Tabs > 16:
		return nil, bad("tabs is %d; give 1 to 16 (teams read at once)", cfg.Tabs)
	}
	if cfg.Tabs == 0 {
		// Teams are independent pages: reading a few at once hides the
		// app's per-load latency, and four tabs stay gentle on the app
		// and on a small machine.
		cfg.Tabs = 4
	}
	if cfg.SessionCookieName == "" {
		cfg.SessionCookieName = "stonly_session"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Minute
	}
	if cfg.StepTimeout == 0 {
		cfg.StepTimeout = 30 * time.Second
	}
	if cfg.LoginPath == "" {
		cfg.LoginPath = "/login"
	}
	if cfg.AppPath == "" {
		cfg.AppPath = "/app"
	}
	if cfg.LogoutPath == "" {
		cfg.LogoutPath = "/logout"
	}
	if cfg.TeamPath == "" {
		cfg.TeamPath = "/app/general/{team}/settings/team"
	}
	if cfg.DebugDir == "" {
		cfg.DebugDir = filepath.Join(os.TempDir(), "idgraph-stonly-debug")
	}
	c := &Collector{cfg: cfg, base: u}
	if cfg.PasswordEnv != "" {
		if c.password, err = env.Secret("stonly.password_env", cfg.PasswordEnv); err != nil {
			return nil, &config.Error{Err: err}
		}
	} else if c.cookie, err = env.Secret("stonly.session_cookie_env", cfg.SessionCookieEnv); err != nil {
		return nil, &config.Error{Err: err}
	}
	return c, nil
}

// Info describes the source.
func (c *Collector) Info() collectors.Info {
	return collectors.Info{Name: "stonly", Kind: collectors.KindApp, App: "stonly", Version: Version}
}

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
		tcancel()
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

// scrape is the state of one collection, or of one team's tab within it.
type scrape struct {
	c     *Collector
	tab   context.Context
	comp  *collectors.Completeness
	accs  []collectors.Account
	debug []string
	prog  *progress
}

// progress adds up what the tabs read, for the operator's progress line.
type progress struct {
	mu             sync.Mutex
	req            collectors.Request
	pages, records int
}

func (p *progress) add(stage string, pages, records int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pages += pages
	p.records += records
	p.req.Report(collectors.Progress{Source: "stonly", Stage: stage, Pages: p.pages, Records: p.records})
}

// Collect logs in, finds the teams and reads each team's members and
// pending invitations. It always closes the browser.
func (c *Collector) Collect(ctx context.Context, req collectors.Request) (*collectors.Result, error) {
	start := time.Now()
	s := &scrape{c: c, prog: &progress{req: req}, comp: &collectors.Completeness{Source: "stonly", Kind: collectors.KindApp, Started: start, Mode: "full", Complete: true}}
	res := &collectors.Result{}
	finish := func(err error) (*collectors.Result, error) {
		s.comp.Duration = time.Since(start)
		if err != nil || !s.comp.Complete {
			// One message with everything that went wrong, recorded once.
			msgs := s.comp.Errors
			if err != nil {
				msgs = append(msgs, err.Error())
			}
			s.comp.Errors = nil
			err = errors.New(c.redact(strings.Join(msgs, "; ")))
			s.comp.Fail(err)
		}
		res.Accounts = s.accs
		s.comp.Records = len(s.accs)
		res.Completeness = *s.comp
		return res, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	tab, closeBrowser, err := c.browser(ctx)
	if err != nil {
		return finish(err)
	}
	defer closeBrowser()
	s.tab = tab
	if err := s.blockAssets(); err != nil {
		return finish(err)
	}
	if err := s.login(); err != nil {
		return finish(err) // no session was opened
	}
	var errs []error
	if teams, err := s.teams(); err != nil {
		errs = append(errs, err)
	} else {
		errs = s.readTeams(ctx, teams)
	}
	if len(s.debug) > 0 {
		errs = append(errs, fmt.Errorf("stonly: page captures for whoever updates the scraper are in %s", c.cfg.DebugDir))
	}
	s.signOut()
	return finish(errors.Join(errs...))
}

// signOut ends the session on the server at the end of a read, so that
// no live session outlives it (in the browser's profile, in a capture).
// A session cookie given by the operator (session_cookie_env) is theirs:
// signing it out would break the next run, so it is left alone. A failed
// sign-out is a warning: what was read stays true.
func (s *scrape) signOut() {
	if s.c.cookie != "" {
		return
	}
	err := s.step("signing out", func(ctx context.Context) error {
		if clicked, err := action[bool](ctx, "logout"); err != nil || !clicked {
			if err := s.navigate(ctx, s.c.abs(s.c.cfg.LogoutPath)); err != nil {
				return err
			}
		}
		// Signed out: the login page, or any page outside the app.
		_, err := s.poll(ctx, func(st *pageState) (bool, error) { return st.Login || !s.inApp(st), nil })
		return err
	})
	if err != nil {
		s.comp.Warnings = append(s.comp.Warnings, fmt.Sprintf("%s; the session ends when Stonly expires it (set stonly.logout_path if the app signs out elsewhere)", s.c.redact(err.Error())))
	}
}

var errSession = errors.New("session lost")

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

// readTeams reads the teams in up to cfg.Tabs tabs of the logged-in
// browser (tabs share its cookies, so one login serves all). Each tab
// reads into a scrape of its own; the results are merged in team order,
// so the outcome does not depend on which tab finished first. A lost
// session stops every tab: without it nothing else can be read, and a
// run never loops on a login.
func (s *scrape) readTeams(ctx context.Context, teams []teamRef) []error {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	parts := make([]*scrape, len(teams))
	errs := make([]error, len(teams))
	sem := make(chan struct{}, s.c.cfg.Tabs)
	var wg sync.WaitGroup
	for i, t := range teams {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
			}
			// Never silently short: a team not read is named.
			notRead := func() error {
				cause := context.Cause(ctx)
				if errors.Is(cause, errSession) {
					cause = errors.New("the session was lost in another tab")
				}
				return fmt.Errorf("stonly: team %s was not read: %w", t.label(), cause)
			}
			if ctx.Err() != nil {
				errs[i] = notRead()
				return
			}
			// Tabs share the first tab's window: every headless window
			// keeps its own compositor busy, about a tenth of a core each
			// even when idle, which a 2-core machine running the IdP
			// reads beside the scrape cannot spare.
			tab, closeTab := chromedp.NewContext(s.tab, chromedp.WithNewWindow(false))
			defer closeTab()
			// A stop closes the tab, which ends the steps under way.
			defer context.AfterFunc(ctx, closeTab)()
			part := &scrape{c: s.c, tab: tab, prog: s.prog, comp: &collectors.Completeness{}}
			parts[i] = part
			// The first Run opens the tab, with no step deadline: a
			// deadline on it would close the tab when the step ends.
			err := chromedp.Do(tab)
			if err != nil {
				err = fmt.Errorf("stonly: opening a tab for team %s: %w", t.label(), err)
			} else {
				err = part.blockAssets()
			}
			if err == nil {
				err = part.team(t)
			}
			switch {
			case errors.Is(err, errSession):
				stop(err)
			case err != nil && errors.Is(context.Cause(ctx), errSession):
				err = notRead() // stopped by another tab: not this page's fault
			}
			errs[i] = err
		})
	}
	wg.Wait()
	var out []error
	for i, part := range parts {
		if errs[i] != nil {
			out = append(out, errs[i])
		}
		if part == nil {
			continue
		}
		s.accs = append(s.accs, part.accs...)
		s.debug = append(s.debug, part.debug...)
		s.comp.Pages += part.comp.Pages
		s.comp.Requests += part.comp.Requests
		s.comp.Warnings = append(s.comp.Warnings, part.comp.Warnings...)
		s.comp.Parts = append(s.comp.Parts, part.comp.Parts...)
	}
	return out
}

// step runs f with the step deadline.
func (s *scrape) step(what string, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(s.tab, s.c.cfg.StepTimeout)
	defer cancel()
	if err := f(ctx); err != nil {
		var ne *NetError
		if errors.As(err, &ne) {
			return fmt.Errorf("stonly: %s: %w", what, err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("stonly: %s: no answer within %s (stonly.step_timeout)", what, s.c.cfg.StepTimeout)
		}
		return fmt.Errorf("stonly: %s: %w", what, err)
	}
	return nil
}

func (c *Collector) abs(path string) string {
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + path
	return u.String()
}

// pageState is what extract.js reports.
type pageState struct {
	URL     string   `json:"url"`
	Title   string   `json:"title"`
	Login   bool     `json:"login"`
	MFA     bool     `json:"mfa"`
	Captcha bool     `json:"captcha"`
	Alert   string   `json:"alert"`
	Tables  []table  `json:"tables"`
	Counts  []string `json:"counts"`
	Empty   bool     `json:"empty"`
	Denied  string   `json:"denied"` // the page refuses Team Management (not an Admin), in its words
	// InvitesPending: an invitations section is on the page but its list
	// (or its "none") has not rendered yet.
	InvitesPending bool `json:"invitesPending"`
	Next           bool `json:"next"`
	LoadMore       bool `json:"loadMore"`
	Busy           bool `json:"busy"`
}

type table struct {
	Label   string   `json:"label"`
	Headers []string `json:"headers"`
	Rows    [][]cell `json:"rows"`
	Empty   bool     `json:"empty"`   // no rows, and the list's own section says the team has no members
	Virtual bool     `json:"virtual"` // only the rows in view exist: read by scrolling its container
	AtEnd   bool     `json:"atEnd"`   // its container is scrolled to the end
	Covered bool     `json:"covered"` // the rows in view are rendered (not spacers)
}

type cell struct {
	T string `json:"t"`
	D string `json:"d"`
}

func (s *scrape) state(ctx context.Context) (*pageState, error) {
	st, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](extractJS))
	if err != nil {
		return nil, err
	}
	return &st, nil
}

// poll evaluates the page until done returns true, or the step deadline
// passes. Between evaluations it waits in the page for the DOM to change
// and settle (actions.js settle), at most 250ms: reacting to the app's
// render instead of sleeping a fixed interval saves most of a sleep per
// page, and evaluates the page far less often while the app is slow.
func (s *scrape) poll(ctx context.Context, done func(*pageState) (bool, error)) (*pageState, error) {
	for {
		st, err := s.state(ctx)
		if err == nil {
			ok, derr := done(st)
			if derr != nil || ok {
				return st, derr
			}
		} else if ctx.Err() != nil {
			return nil, err
		}
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](actionsJS+";\nwindow.__idgraph.settle(250)", chromedp.EvalAwaitPromise)); err != nil {
			// A navigation destroys the page the wait ran in; pause
			// briefly rather than spin until the new page answers.
			select {
			case <-ctx.Done():
				return st, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

func (s *scrape) navigate(ctx context.Context, u string) error {
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		return s.c.classify(ctx, err, u)
	}
	s.comp.Requests++
	return nil
}

// NetError is a failure to reach stonly.url: a refused connection, a name
// that does not resolve, a TLS certificate the browser rejects, or no
// answer in time. It is never a matter of credentials.
type NetError struct {
	URL  string
	Kind string // "connection", "dns", "tls", "timeout"
	Code string // Chromium's error text (net/base/net_error_list.h), e.g. net::ERR_CONNECTION_REFUSED
}

func (e *NetError) Error() string {
	what := map[string]string{
		"connection": "the connection failed",
		"dns":        "the host name does not resolve",
		"tls":        "the browser rejects the server's TLS certificate",
		"timeout":    "no answer in time",
	}[e.Kind]
	fix := "check stonly.url, DNS, any proxy or firewall between this machine and Stonly, and that the app is up"
	if e.Kind == "tls" {
		fix = "check that stonly.url names the app's real host, and any proxy that intercepts TLS"
	}
	return fmt.Sprintf("cannot reach %s: %s (%s): a network problem with stonly.url, not the login or its credentials; %s", e.URL, what, e.Code, fix)
}

// classify turns a navigation failure into a NetError when it is one.
// Chromium's error codes come in ranges (net/base/net_error_list.h):
// 100-199 connection, 200-299 and the SSL ones certificate and TLS,
// 800-899 DNS; their texts name the range well enough.
func (c *Collector) classify(ctx context.Context, err error, u string) error {
	var le *chromedp.LoadError
	if errors.As(err, &le) {
		code := le.ErrorText
		kind := ""
		switch {
		case strings.Contains(code, "NAME_NOT_RESOLVED") || strings.Contains(code, "NAME_RESOLUTION") || strings.Contains(code, "DNS"):
			kind = "dns"
		case strings.Contains(code, "CERT") || strings.Contains(code, "SSL") || strings.Contains(code, "TLS"):
			kind = "tls"
		case strings.Contains(code, "TIMED_OUT"):
			kind = "timeout"
		case strings.Contains(code, "CONNECTION") || strings.Contains(code, "ADDRESS") || strings.Contains(code, "INTERNET_DISCONNECTED") ||
			strings.Contains(code, "NETWORK") || strings.Contains(code, "PROXY") || strings.Contains(code, "EMPTY_RESPONSE"):
			kind = "connection"
		}
		if kind != "" {
			return fmt.Errorf("%w", &NetError{URL: u, Kind: kind, Code: code})
		}
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		return &NetError{URL: u, Kind: "timeout", Code: fmt.Sprintf("the page did not load within %s, stonly.step_timeout", c.cfg.StepTimeout)}
	}
	return err
}

// action runs one helper of actions.js. The helpers are defined anew in
// every call, since each navigation starts a fresh page.
func action[T any](ctx context.Context, name string) (T, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[T](actionsJS+";\nwindow.__idgraph."+name+"()"))
}

// actionSettled runs an action of actions.js and waits in the page, at
// most wait, for the render it causes to settle. The observer is in place
// before the click, so a fast render cannot slip between the two.
func actionSettled(ctx context.Context, name string, wait time.Duration) error {
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf("%s;\nwindow.__idgraph.settled(%q, %d)", actionsJS, name, wait.Milliseconds()), chromedp.EvalAwaitPromise))
	return err
}

func (s *scrape) login() error {
	if s.c.cookie != "" {
		return s.step("opening the app with the session cookie", func(ctx context.Context) error {
			if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: s.c.cfg.SessionCookieName,
				Value: s.c.cookie, URL: s.c.abs("/"), HTTPOnly: new(true)}); err != nil {
				return err
			}
			if err := s.navigate(ctx, s.c.abs(s.c.cfg.AppPath)); err != nil {
				return err
			}
			st, err := s.poll(ctx, func(st *pageState) (bool, error) { return st.Login || s.inApp(st), nil })
			if err != nil {
				return err
			}
			if st.Login {
				return fmt.Errorf("%w: Stonly did not accept the session cookie in %s (expired or revoked?): log in again in a browser and copy a fresh %s cookie",
					errSession, s.c.cfg.SessionCookieEnv, s.c.cfg.SessionCookieName)
			}
			return nil
		})
	}
	return s.step("logging in", func(ctx context.Context) error {
		if err := s.navigate(ctx, s.c.abs(s.c.cfg.LoginPath)); err != nil {
			return err
		}
		st, err := s.poll(ctx, func(st *pageState) (bool, error) { return st.Login || s.inApp(st), nil })
		if err != nil {
			return fmt.Errorf("no login form at %s: %w", s.c.cfg.LoginPath, err)
		}
		if s.inApp(st) {
			return nil // already logged in
		}
		if st.Captcha {
			return errors.New("the login page asks for a captcha, which an unattended run cannot solve: use a session cookie (session_cookie_env) or ask Stonly to allow this account")
		}
		if err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS(`input[type=email],input[name=email],input[autocomplete=username]`), s.c.cfg.Email),
			chromedp.SendKeys(chromedp.CSS(`input[type=password]`), s.c.password),
			chromedp.Click(chromedp.CSS(`form button[type=submit],form input[type=submit],form button:not([type])`)),
		); err != nil {
			return fmt.Errorf("filling the login form: %w", err)
		}
		s.comp.Requests++
		// One attempt, then a verdict: a wrong password never loops.
		st, err = s.poll(ctx, func(st *pageState) (bool, error) {
			return s.inApp(st) || st.Alert != "" || st.MFA, nil
		})
		switch {
		case err != nil:
			return fmt.Errorf("the login did not complete: %w", err)
		case s.inApp(st):
			return nil
		case st.MFA:
			return fmt.Errorf("the Stonly login asks %s for a verification code (multi-factor authentication), which an unattended run cannot give: exempt the service account from MFA or use session_cookie_env", s.c.cfg.Email)
		default:
			return fmt.Errorf("the Stonly page refused the login of %s: %q; check the password in %s", s.c.cfg.Email, st.Alert, s.c.cfg.PasswordEnv)
		}
	})
}

func (s *scrape) inApp(st *pageState) bool {
	u, err := url.Parse(st.URL)
	return err == nil && !st.Login && strings.HasPrefix(u.Path, strings.TrimRight(s.c.base.Path, "/")+s.c.cfg.AppPath)
}

type teamRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (t teamRef) label() string {
	if t.Name == "" {
		return t.ID
	}
	return t.Name
}

// teamList is what actions.js teams reports.
type teamList struct {
	Teams    []teamRef `json:"teams"`
	Switcher bool      `json:"switcher"` // a team list was found (a switcher, or links to teams)
	Opener   bool      `json:"opener"`   // a closed team switcher button is on the page
	Here     string    `json:"here"`     // the team of the current page
}

// teamPrefix is the path before the team id in stonly.team_path: links
// of that shape lead to a team, other /app/ links do not.
func (c *Collector) teamPrefix() string {
	p, _, _ := strings.Cut(c.cfg.TeamPath, "{team}")
	return strings.TrimRight(c.base.Path, "/") + p
}

// teams finds the teams the account can see. The team list may render
// late, or only once its menu is opened: the page is watched until a team
// list appears, opening a closed switcher, at most stonly.step_timeout.
// A page that never shows a team list is not "one team": the landing team
// is read, and the source is incomplete.
func (s *scrape) teams() ([]teamRef, error) {
	var found teamList
	clicks := 0
	err := s.step("finding the teams", func(ctx context.Context) error {
		_, err := s.poll(ctx, func(st *pageState) (bool, error) {
			if st.Login {
				return false, fmt.Errorf("%w: the app sent the browser back to the login page", errSession)
			}
			tl, err := chromedp.Run(ctx, chromedp.Evaluate[teamList](fmt.Sprintf("%s;\nwindow.__idgraph.teams(%q)", actionsJS, s.c.teamPrefix())))
			if err != nil {
				return false, err
			}
			found = tl
			if tl.Switcher && len(tl.Teams) > 0 {
				return true, nil
			}
			if tl.Opener && clicks < 3 {
				// A switcher whose teams appear only once it is opened.
				clicks++
				if err := actionSettled(ctx, "openSwitcher", time.Second); err != nil {
					return false, err
				}
			}
			return false, nil
		})
		return err
	})
	if errors.Is(err, errSession) {
		return nil, err
	}
	if err != nil || !found.Switcher {
		why := "no team switcher or team links appeared on the page"
		if err != nil && !strings.Contains(err.Error(), "step_timeout") {
			why += ": " + err.Error()
		} else {
			why += fmt.Sprintf(" within %s (stonly.step_timeout)", s.c.cfg.StepTimeout)
		}
		if found.Here == "" {
			return nil, fmt.Errorf("stonly: finding the teams: %s, and the landing page is no team's page: the page layout may have changed", why)
		}
		// Read what can be read, but never as the whole account.
		s.comp.Fail(fmt.Errorf("stonly: finding the teams: %s, so the teams other than the landing team %s could not be found: the page layout may have changed (or set stonly.teams)", why, found.Here))
		found.Teams = []teamRef{{ID: found.Here}}
	}
	if len(s.c.cfg.Teams) == 0 {
		return found.Teams, nil
	}
	var out []teamRef
	var missing []string
	for _, want := range s.c.cfg.Teams {
		ok := false
		for _, t := range found.Teams {
			if t.ID == want || strings.EqualFold(t.Name, want) {
				out = append(out, t)
				ok = true
				break
			}
		}
		if !ok {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		var seen []string
		for _, t := range found.Teams {
			seen = append(seen, fmt.Sprintf("%s (%s)", t.Name, t.ID))
		}
		s.comp.Fail(fmt.Errorf("stonly: the account cannot see the configured teams %s (it sees: %s)", strings.Join(missing, ", "), strings.Join(seen, ", ")))
	}
	return out, nil
}

// columns maps the visible headers this scraper understands.
var columns = map[string]string{
	"name": "name", "full name": "name", "member": "name", "user": "name", "display name": "name",
	"email": "email", "e-mail": "email", "email address": "email", "e-mail address": "email",
	"role": "role", "permission": "role", "permission level": "role",
	"status": "status", "state": "status", "invitation status": "status",
	"last activity": "activity", "last active": "activity", "last seen": "activity", "last login": "activity",
}

func headerIndex(headers []string) map[string]int {
	idx := map[string]int{}
	for i, h := range headers {
		if k, ok := columns[strings.ToLower(strings.TrimSpace(h))]; ok {
			if _, dup := idx[k]; !dup {
				idx[k] = i
			}
		}
	}
	return idx
}

var invitePattern = regexp.MustCompile(`(?i)invit|pending`)

// split finds the members table and the invitations table.
func split(st *pageState) (members, invites *table, unknown []string) {
	for i := range st.Tables {
		t := &st.Tables[i]
		idx := headerIndex(t.Headers)
		_, hasEmail := idx["email"]
		_, hasRole := idx["role"]
		switch {
		case invitePattern.MatchString(t.Label):
			if invites == nil && hasEmail {
				invites = t
			}
		case hasEmail && hasRole:
			if members == nil {
				members = t
			}
		default:
			unknown = append(unknown, strings.Join(t.Headers, " | "))
		}
	}
	return members, invites, unknown
}

func shownCount(st *pageState) int {
	for _, c := range st.Counts {
		n, err := strconv.Atoi(strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, c))
		if err == nil {
			return n
		}
	}
	return -1
}

func sig(t *table) string {
	if t == nil || len(t.Rows) == 0 {
		return "0"
	}
	first, last := t.Rows[0], t.Rows[len(t.Rows)-1]
	return fmt.Sprintf("%d|%v|%v", len(t.Rows), first, last)
}

// fix says what an operator does when team t can no longer be read.
func (c *Collector) fix(t teamRef) string {
	who := c.cfg.Email
	if who == "" {
		who = "the account of stonly.session_cookie_env"
	}
	if len(c.cfg.Teams) == 0 {
		return fmt.Sprintf("give %s the Admin role in team %s again, or, if it should no longer be read, list the teams to read in stonly.teams", who, t.label())
	}
	return fmt.Sprintf("give %s the Admin role in team %s again, or remove it from stonly.teams", who, t.label())
}

func (s *scrape) sessionExpired(label string) error {
	return fmt.Errorf("%w: the session expired while reading team %s (the app showed its login page); the run stops here and will log in afresh next time", errSession, label)
}

func (s *scrape) team(t teamRef) error {
	label := t.label()
	s.prog.add("team "+label, 0, 0)
	path := strings.ReplaceAll(s.c.cfg.TeamPath, "{team}", url.PathEscape(t.ID))
	var st *pageState
	var members, invites *table
	err := s.step("opening Team Management of "+label, func(ctx context.Context) error {
		if err := s.navigate(ctx, s.c.abs(path)); err != nil {
			return err
		}
		var err error
		// The list is rendered client-side after a delay, possibly in
		// stages: wait for rows, or for the member list to say positively
		// that there are none, and for an invitations section to fill.
		st, err = s.poll(ctx, func(st *pageState) (bool, error) {
			if st.Login {
				return false, s.sessionExpired(label)
			}
			members, invites, _ = split(st)
			if members == nil && st.Denied != "" {
				return true, nil // a refusal, not a list that is still rendering
			}
			return members != nil && (len(members.Rows) > 0 || members.Empty) && !st.InvitesPending, nil
		})
		return err
	})
	var ne *NetError
	if errors.Is(err, errSession) || errors.As(err, &ne) {
		return err // not the page's fault: no capture
	}
	if st != nil && members == nil && st.Denied != "" {
		// Stonly gives Team management only to a team's Owner and Admins
		// ("Team permissions in Stonly"): the team is visible, not readable.
		return fmt.Errorf("stonly: team %s is visible but its members cannot be read: Team Management says %q (the account is not an Admin there); %s", label, truncate(st.Denied), s.c.fix(t))
	}
	if err != nil || members == nil {
		_, _, unknown := split(orEmpty(st))
		why := "no table with Email and Role columns was found"
		if len(unknown) > 0 {
			why += fmt.Sprintf(" (tables seen with headers: %s)", strings.Join(unknown, "; "))
		}
		if err != nil && members != nil {
			why = "the member list did not finish rendering (no rows, no statement that the team is empty, or invitations still loading): " + err.Error()
		}
		return s.layoutChanged(t, label, why+"; if the account lost the Admin role there: "+s.c.fix(t))
	}
	idx := headerIndex(members.Headers)
	rows := map[string]bool{}
	var got []collectors.Account
	add := func(tb *table) error {
		for _, r := range tb.Rows {
			a, err := s.row(r, idx, t, collectors.StatusActive)
			if err != nil {
				return s.layoutChanged(t, label, err.Error())
			}
			if !rows[a.ID] {
				rows[a.ID] = true
				got = append(got, a)
			}
		}
		return nil
	}
	if err := add(members); err != nil {
		return err
	}
	s.comp.Pages++
	s.prog.add("team "+label, 1, len(got))
	count := shownCount(st)
	scrolls := 0
	for iter := 0; iter < 10000; iter++ {
		var act string
		switch {
		case st.LoadMore:
			act = "loadMore"
		case st.Next:
			act = "next"
		case members.Virtual && !members.AtEnd:
			act = "vscroll"
		case (count >= 0 && len(rows) < count && scrolls < 3) || (count < 0 && scrolls == 0):
			act = "scroll"
			scrolls++
		default:
			iter = 10000
			continue
		}
		if act == "vscroll" {
			// A virtualised list: only the rows in view exist. Move one
			// screen, let it render, and collect rows by address.
			err := s.step("scrolling the member list of "+label, func(ctx context.Context) error {
				if err := actionSettled(ctx, act, time.Second); err != nil {
					return err
				}
				// Read once the rows in view have rendered.
				next, err := s.poll(ctx, func(n *pageState) (bool, error) {
					if n.Login {
						return false, s.sessionExpired(label)
					}
					m, _, _ := split(n)
					return m == nil || !m.Virtual || m.Covered, nil
				})
				if err != nil {
					return err
				}
				m, _, _ := split(next)
				if m == nil {
					return errors.New("the member list disappeared while scrolling")
				}
				st, members = next, m
				return nil
			})
			if err != nil {
				if errors.Is(err, errSession) {
					return err
				}
				return s.layoutChanged(t, label, err.Error())
			}
			had := len(got)
			if err := add(members); err != nil {
				return err
			}
			if len(got) > had {
				s.comp.Pages++
			}
			s.prog.add("team "+label, 0, len(got)-had)
			continue
		}
		before := sig(members)
		err := s.step("loading more members of "+label, func(ctx context.Context) error {
			// An action that navigates (the app sends an expired session
			// to its login page) ends the page the wait ran in: the poll
			// below tells what the new page is.
			aerr := actionSettled(ctx, act, time.Second)
			wait := ctx
			if act == "scroll" {
				// A scroll that loads nothing is how an infinite list ends.
				var cancel context.CancelFunc
				wait, cancel = context.WithTimeout(ctx, 1500*time.Millisecond)
				defer cancel()
			}
			next, err := s.poll(wait, func(n *pageState) (bool, error) {
				if n.Login {
					return false, s.sessionExpired(label)
				}
				m, _, _ := split(n)
				return m != nil && sig(m) != before && !(act == "next" && len(m.Rows) == 0), nil
			})
			if errors.Is(err, errSession) {
				return err
			}
			if err != nil && act == "scroll" && errors.Is(wait.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
				return nil
			}
			if err != nil && aerr != nil {
				return fmt.Errorf("%w (the click itself failed: %v)", err, aerr)
			}
			if err != nil {
				return err
			}
			st = next
			members, _, _ = split(next)
			return nil
		})
		if err != nil {
			if errors.Is(err, errSession) {
				return err
			}
			return s.layoutChanged(t, label, "the next page of members did not load: "+err.Error())
		}
		if sig(members) == before {
			continue // a scroll that loaded nothing
		}
		scrolls = 0
		s.comp.Pages++
		had := len(got)
		if err := add(members); err != nil {
			return err
		}
		s.prog.add("team "+label, 1, len(got)-had)
	}
	switch {
	case count >= 0 && count != len(got):
		return s.layoutChanged(t, label, fmt.Sprintf("the page says %d members but %d rows were read", count, len(got)))
	case len(got) == 0 && !members.Empty:
		return s.layoutChanged(t, label, "the member list is empty but the page does not say the team has no members")
	}
	owners := 0
	for _, a := range got {
		if a.Status == collectors.StatusActive && strings.EqualFold(a.Role, "Owner") {
			owners++
		}
	}
	if owners != 1 && len(got) > 0 {
		s.comp.Warnings = append(s.comp.Warnings, fmt.Sprintf("team %s shows %d Owners; Stonly teams have exactly one", label, owners))
	}
	s.accs = append(s.accs, got...)
	// The part counts the member list's rows as the page counts them
	// (invitations included when they are rows of that list).
	s.comp.AddPart(collectors.Part{Kind: "team", ID: t.ID, Name: t.Name, Records: len(got), Shown: max(count, 0), Fix: s.c.fix(t)})
	if invites != nil {
		iidx := headerIndex(invites.Headers)
		for _, r := range invites.Rows {
			a, err := s.row(r, iidx, t, collectors.StatusInvited)
			if err != nil {
				s.comp.Warnings = append(s.comp.Warnings, fmt.Sprintf("team %s: an invitation row could not be read: %v", label, err))
				continue
			}
			if !rows[a.ID] {
				a.ID = "invite:" + a.ID
				s.accs = append(s.accs, a)
			}
		}
	}
	return nil
}

func orEmpty(st *pageState) *pageState {
	if st == nil {
		return &pageState{}
	}
	return st
}

var knownRoles = map[string]bool{"owner": true, "admin": true, "member": true}

// cleanRole strips what surrounds a role's word in a cell: a menu arrow
// ("Admin ▾", "Admin ⌄"), bullets, padding. The words themselves stay
// verbatim, known or not.
func cleanRole(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.TrimLeftFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
	paren := strings.Contains(s, "(")
	return strings.TrimRightFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !(paren && r == ')') })
}

// invitedStatus matches a status cell that says the person has not joined.
var invitedStatus = regexp.MustCompile(`(?i)^(invit|pending|awaiting)`)

func (s *scrape) row(r []cell, idx map[string]int, t teamRef, status collectors.Status) (collectors.Account, error) {
	get := func(k string) cell {
		if i, ok := idx[k]; ok && i < len(r) {
			return r[i]
		}
		return cell{}
	}
	email := strings.TrimSpace(get("email").T)
	if !strings.Contains(email, "@") {
		return collectors.Account{}, fmt.Errorf("a row's Email cell holds %q, not an address", truncate(email))
	}
	role := cleanRole(get("role").T)
	if _, hasRole := idx["role"]; hasRole && role == "" {
		// Neither text, nor an aria-label or title, nor CSS content: the
		// way roles are shown has changed.
		return collectors.Account{}, fmt.Errorf("the Role cell of %s is empty or unreadable (no text, aria-label, title or CSS content)", truncate(email))
	}
	raw := string(status)
	if _, ok := idx["status"]; ok {
		// Invitations listed among the members, with a status column.
		raw = get("status").T
		if invitedStatus.MatchString(strings.TrimSpace(raw)) {
			status = collectors.StatusInvited
		}
	}
	if role != "" && !knownRoles[strings.ToLower(role)] {
		s.comp.Warnings = append(s.comp.Warnings, fmt.Sprintf("team %s: unknown role %q for %s, kept as shown", t.ID, truncate(role), truncate(email)))
	}
	a := collectors.Account{Source: "stonly", ID: strings.ToLower(email), Team: t.ID, TeamName: t.Name, Email: email,
		Addresses: []collectors.Address{{Field: "email", Value: email}}, DisplayName: get("name").T,
		Role: role, Status: status, RawStatus: raw}
	if _, ok := idx["status"]; ok && status == collectors.StatusInvited {
		a.ID = "invite:" + a.ID // as the invitations of a section of their own
	}
	if d := get("activity").D; d != "" {
		if tm, err := time.Parse(time.RFC3339, d); err == nil {
			a.LastActivity = tm
		}
	}
	return a, nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// layoutChanged records that the page is not as the scraper expects, and
// saves a screenshot and the page's HTML, secrets removed.
func (s *scrape) layoutChanged(t teamRef, label, why string) error {
	base := filepath.Join(s.c.cfg.DebugDir, fmt.Sprintf("team-%s-%s", safe(t.ID), time.Now().UTC().Format("20060102T150405")))
	ctx, cancel := context.WithTimeout(s.tab, 10*time.Second)
	defer cancel()
	saved := ""
	if err := os.MkdirAll(s.c.cfg.DebugDir, 0o700); err == nil {
		if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil && os.WriteFile(base+".png", png, 0o600) == nil {
			saved = base + ".png"
		}
		if h, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html"))); err == nil {
			var values []string
			if cs, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{}); err == nil {
				for _, ck := range cs.Cookies {
					values = append(values, ck.Value)
				}
			}
			if os.WriteFile(base+".html", []byte(s.c.scrub(h, values...)), 0o600) == nil {
				saved += " and " + base + ".html"
			}
		}
	}
	s.debug = append(s.debug, saved)
	return fmt.Errorf("stonly: team %s: the Team Management page layout changed: %s; capture: %s", label, why, saved)
}

func safe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, s)
}

var (
	inputValue = regexp.MustCompile(`(?i)(<input[^>]*\svalue=)("[^"]*"|'[^']*')`)
	// A JWT: a session or access token that single-page apps keep in their
	// page state.
	jwtToken = regexp.MustCompile(`eyJ[\w-]+\.[\w-]+\.[\w-]+`)
	// An Authorization header or a bearer token, in page state or a log.
	authHeader = regexp.MustCompile(`(?i)(authorization["']?\s*[:=]\s*["']?\s*(?:(?:bearer|basic|token)\s+)?|bearer\s+)[^\s"'<>,;]+`)
	// A Cookie header or document.cookie text: every value goes.
	cookieText = regexp.MustCompile(`(?i)((?:set-)?cookie["']?\s*[:=]\s*["']?)[^"'<>\n]+`)
	// Long random strings: base64url or hex (session ids, CSRF tokens) and
	// standard base64 (with + or a = padding).
	longToken   = regexp.MustCompile(`[A-Za-z0-9_-]{32,}`)
	longBase64  = regexp.MustCompile(`[A-Za-z0-9+/]{32,}={0,2}`)
	hasDigit    = regexp.MustCompile(`[0-9]`)
	hasLetter   = regexp.MustCompile(`[A-Za-z]`)
	looksBase64 = regexp.MustCompile(`[+]|=$`)
)

// scrub removes secrets from captured HTML: input values, the password and
// session cookie, the browser's cookie values, and generically any token
// the page holds (a JWT, an Authorization value, long random strings), so
// that a capture never holds a live session.
func (c *Collector) scrub(h string, cookies ...string) string {
	h = inputValue.ReplaceAllString(h, `$1"[REDACTED]"`)
	for _, v := range cookies {
		if len(v) >= 8 {
			h = strings.ReplaceAll(h, v, "[REDACTED]")
		}
	}
	h = c.redact(h)
	h = cookieText.ReplaceAllString(h, "${1}[REDACTED]")
	random := func(m string) string {
		// Random strings mix letters and digits; words and names do not.
		if hasDigit.MatchString(m) && hasLetter.MatchString(m) {
			return "[REDACTED]"
		}
		return m
	}
	h = longToken.ReplaceAllStringFunc(h, random)
	return longBase64.ReplaceAllStringFunc(h, func(m string) string {
		if looksBase64.MatchString(m) {
			return random(m)
		}
		return m
	})
}

// redact removes the configured secrets and any JWT or Authorization
// value from a message or capture.
func (c *Collector) redact(s string) string {
	for _, sec := range []string{c.password, c.cookie} {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	s = jwtToken.ReplaceAllString(s, "[REDACTED]")
	return authHeader.ReplaceAllString(s, "${1}[REDACTED]")
}
