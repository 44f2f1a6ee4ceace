// This file holds team discovery: the teams the account can see, from
// the team switcher or the links to teams, and the configured teams among
// them.

package stonly

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

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
