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
// The collector can also act (collectors.Actor, act.go): remove a member
// from a team, change a member's role, revoke an invitation, through the
// same page's row menus and confirmation dialogs, clicked with real mouse
// events. Each action re-reads the row and refuses when it differs from
// the decision; a team's Owner and the account of stonly.email are never
// touched; the app's toast and the changed row confirm it; screenshots
// before and after (secrets masked in the page first) are its evidence;
// any unexpected page stops the batch with a capture in debug_dir.
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
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idgraph/idgraph/collectors"
)

// Version is recorded in evidence manifests.
const Version = "stonly/1 (chromedp v0.23.0)"

//go:embed extract.js
var extractJS string

//go:embed actions.js
var actionsJS string

//go:embed act.js
var actJS string

// Collector scrapes one Stonly account.
type Collector struct {
	cfg      Config
	base     *url.URL
	password string
	cookie   string
}

// Info describes the source. Roles is Stonly's ladder, lowest to highest
// ("Team permissions in Stonly": Member, Admin, and one Owner per team).
func (c *Collector) Info() collectors.Info {
	return collectors.Info{Name: "stonly", Type: "stonly", Kind: collectors.KindApp, App: "stonly", Title: "Stonly",
		Roles: []string{"Member", "Admin", "Owner"}, Version: Version}
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
