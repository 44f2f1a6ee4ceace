package stonly

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/idgraph/idgraph/collectors"
)

// Check finds the browser, logs in, finds the teams and opens the first
// team's Team Management page.
func (c *Collector) Check(ctx context.Context) []collectors.Check {
	var out []collectors.Check
	if c.cfg.BrowserURL == "" {
		p, err := ChromiumPath(c.cfg.Chromium)
		if err != nil {
			return append(out, collectors.Check{Name: "browser", Detail: err.Error(), Fix: "apt-get install -y chromium, or set stonly.browser_url"})
		}
		out = append(out, collectors.Check{Name: "browser", OK: true, Detail: "Chromium at " + p})
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	tab, closeBrowser, err := c.browser(ctx)
	if err != nil {
		return append(out, collectors.Check{Name: "browser", Detail: err.Error(), Fix: "check stonly.chromium or stonly.browser_url"})
	}
	defer closeBrowser()
	if c.cfg.BrowserURL != "" {
		out = append(out, collectors.Check{Name: "browser", OK: true, Detail: "remote browser reachable"})
	}
	s := &scrape{c: c, tab: tab, comp: &collectors.Completeness{}}
	if err := s.login(); err != nil {
		var ne *NetError
		if errors.As(err, &ne) {
			return append(out, collectors.Check{Name: "reach " + c.base.Host, Detail: c.redact(err.Error()),
				Fix: "a network problem, not the credentials: check stonly.url, DNS, proxy and firewall, and that Stonly is up"})
		}
		return append(out, collectors.Check{Name: "login", Detail: c.redact(err.Error()), Fix: "check stonly.email and the secret's environment variable"})
	}
	defer s.signOut()
	out = append(out, collectors.Check{Name: "login", OK: true, Detail: "logged in to " + c.base.Host + " as " + c.cfg.Email})
	teams, err := s.teams()
	if err == nil && len(s.comp.Errors) > 0 {
		err = errors.New(strings.Join(s.comp.Errors, "; ")) // a team list that never appeared, or configured teams not seen
	}
	if err != nil || len(teams) == 0 {
		return append(out, collectors.Check{Name: "Team Management", Detail: fmt.Sprint("teams: ", c.redact(fmt.Sprint(err))), Fix: "check the account's teams and stonly.teams"})
	}
	var names []string
	for _, t := range teams {
		names = append(names, t.Name)
	}
	var st *pageState
	err = s.step("opening Team Management", func(ctx context.Context) error {
		if err := s.navigate(ctx, c.abs(strings.ReplaceAll(c.cfg.TeamPath, "{team}", url.PathEscape(teams[0].ID)))); err != nil {
			return err
		}
		st, err = s.poll(ctx, func(p *pageState) (bool, error) { m, _, _ := split(p); return m != nil, nil })
		return err
	})
	if err != nil {
		return append(out, collectors.Check{Name: "Team Management", Detail: "no member table with Email and Role columns: " + err.Error(), Fix: "the page layout may have changed; run `idgraph collect --source stonly` for captures"})
	}
	m, _, _ := split(st)
	return append(out, collectors.Check{Name: "Team Management", OK: true, Detail: fmt.Sprintf("teams %s; %d member rows visible in %s", strings.Join(names, ", "), len(m.Rows), teams[0].Name)})
}
