// This file holds the actions (collectors.Actor): removing a member from
// a team, changing a member's role and revoking an invitation, through the
// Team Management page's own controls, as an Admin would click them.
//
// Stonly has no user API and no SCIM, so the page is the only way. Every
// action re-reads the row first and refuses when it differs from what was
// decided; it never touches a team's Owner (Stonly: one per team,
// ownership is transferred, not assigned) or the account idgraph signs in
// with; it clicks through the row's menu, the confirmation dialog and its
// button, waits for the app's answer (a toast) and for the row to change,
// and reads the row again. Anything else the page does stops the batch,
// with a capture for whoever looks at it.

package stonly

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idgraph/idgraph/collectors"
)

var _ collectors.Actor = (*Collector)(nil)

// The words of the controls, as admin consoles write them. The menu item
// and the dialog's button are matched whole, so that "Remove" never
// matches "Remove from favourites" and "Cancel" never confirms.
var (
	menuItem = map[collectors.Op]string{
		collectors.OpRemove:           `^(remove( from (the )?team)?|remove member|remove user)$`,
		collectors.OpSetRole:          `^(change|edit) role$`,
		collectors.OpRevokeInvitation: `^(revoke|withdraw|cancel|delete)( the)?( invitation| invite)?$`,
	}
	confirmButton = map[collectors.Op]string{
		collectors.OpRemove:           `^(remove|remove member|remove from team|yes, remove)$`,
		collectors.OpSetRole:          `^(save|save changes|update|update role|change role|apply)$`,
		collectors.OpRevokeInvitation: `^(revoke|revoke invitation|yes, revoke)$`,
	}
	// errorToast tells an error from a confirmation when the app does not
	// mark it role=alert.
	errorToast = regexp.MustCompile(`(?i)wrong|error|fail|could ?n[o']t|unable|denied|not allowed|can ?n[o']t|forbidden|try again`)
	// sessionToast is a toast saying the sign-in ended.
	sessionToast = regexp.MustCompile(`(?i)session (has )?expired|sign(ed)? ?in again|log(ged)? ?in again|logged out`)
)

// errStop is a page state the action did not expect: the batch stops.
type errStop struct{ why string }

func (e *errStop) Error() string { return e.why }

// Act carries out actions in order on the Team Management pages, in one
// browser and one session. It stops the batch at the first unexpected page
// state: that action is failed, with a capture in stonly.debug_dir, and the
// rest are skipped. A refused action does not stop it.
func (c *Collector) Act(ctx context.Context, actions []collectors.Action) ([]collectors.ActionResult, error) {
	results := make([]collectors.ActionResult, len(actions))
	for i, a := range actions {
		results[i] = collectors.ActionResult{ID: a.ID, Outcome: collectors.OutcomeSkipped, Detail: "not attempted: the batch stopped before it"}
	}
	if len(actions) == 0 {
		return results, nil
	}
	if c.cfg.Email == "" {
		return results, errors.New("stonly: no action was attempted: actions need stonly.email, the address of the account idgraph signs in with, so that it is never touched; set it beside session_cookie_env")
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	tab, closeBrowser, err := c.browser(ctx)
	if err != nil {
		return results, fmt.Errorf("stonly: no action was attempted: %w", err)
	}
	defer closeBrowser()
	s := &scrape{c: c, tab: tab, comp: &collectors.Completeness{}, prog: &progress{}}
	if err := s.blockAssets(); err != nil {
		return results, fmt.Errorf("stonly: no action was attempted: %w", err)
	}
	if err := s.login(); err != nil {
		return results, fmt.Errorf("stonly: no action was attempted: %s", c.redact(err.Error()))
	}
	defer s.signOut()
	for i, a := range actions {
		if err := ctx.Err(); err != nil {
			return results, fmt.Errorf("stonly: the batch stopped before action %s (%d of %d): %w", a.ID, i+1, len(actions), context.Cause(ctx))
		}
		r, stop := s.act(a)
		results[i] = r
		if stop != nil {
			return results, fmt.Errorf("stonly: the batch stopped at action %s (%d of %d), %d not attempted: %s",
				a.ID, i+1, len(actions), len(actions)-i-1, c.redact(stop.Error()))
		}
	}
	return results, nil
}

// act carries out one action. A non-nil error stops the batch. Its steps
// run in the tab, which ends with Act's context.
func (s *scrape) act(a collectors.Action) (r collectors.ActionResult, stop error) {
	r = collectors.ActionResult{ID: a.ID, Started: time.Now(), CaptureType: "image/png"}
	defer func() {
		r.Ended = time.Now()
		r.Detail = s.c.redact(r.Detail)
	}()
	acc := a.Account
	email := strings.TrimSpace(acc.Email)
	t := teamRef{ID: acc.Team, Name: acc.TeamName}
	label := t.label()
	shot := func() []byte {
		sctx, cancel := context.WithTimeout(s.tab, 10*time.Second)
		defer cancel()
		png, _ := s.screenshot(sctx)
		return png
	}
	end := func(o collectors.Outcome, format string, args ...any) (collectors.ActionResult, error) {
		r.Outcome = o
		r.Detail = fmt.Sprintf(format, args...)
		return r, nil
	}
	refuse := func(format string, args ...any) (collectors.ActionResult, error) {
		return end(collectors.OutcomeRefused, format+"; nothing was changed", args...)
	}
	changed := false // the app was asked to make the change: its state is unknown until confirmed
	fail := func(why string) (collectors.ActionResult, error) {
		r.Outcome = collectors.OutcomeFailed
		if changed {
			why += "; the change was asked for but not confirmed: the next read of the team tells whether it was made"
		} else {
			why += "; nothing was changed"
		}
		r.After = shot()
		why += "; capture: " + s.capture("action-"+safe(a.ID))
		r.Detail = why
		return r, &errStop{why}
	}

	// What needs no page: the decision itself.
	kind := "member"
	switch a.Op {
	case collectors.OpRemove, collectors.OpSetRole:
		if acc.Status == collectors.StatusInvited {
			return refuse("the decision saw an invitation for %s, but %s acts on a member", email, a.Op)
		}
	case collectors.OpRevokeInvitation:
		kind = "invite"
		if acc.Status != collectors.StatusInvited && acc.Status != "" {
			return refuse("the decision saw %s as %s, not as an invitation", email, acc.Status)
		}
	default:
		return refuse("unknown operation %q", a.Op)
	}
	switch {
	case !strings.Contains(email, "@"):
		return refuse("the action names no e-mail address (%q)", truncate(email))
	case acc.Team == "":
		return refuse("the action for %s names no team", email)
	case strings.EqualFold(email, strings.TrimSpace(s.c.cfg.Email)):
		return refuse("protected: %s is the account idgraph signs in with (stonly.email)", email)
	case kind == "member" && strings.EqualFold(acc.Role, "Owner"):
		return refuse("protected: %s is the Owner of team %s, whom idgraph never touches (ownership is transferred in Stonly, by the Owner)", email, label)
	}
	target := ""
	if a.Op == collectors.OpSetRole {
		for _, role := range s.c.Info().Roles {
			if strings.EqualFold(role, strings.TrimSpace(a.Role)) {
				target = role
			}
		}
		switch target {
		case "":
			return refuse("%q is not a Stonly role (Member, Admin)", truncate(a.Role))
		case "Owner":
			return refuse("protected: idgraph never makes anyone Owner of team %s (ownership is transferred in Stonly, by the Owner)", label)
		}
	}

	// The row as the page shows it now.
	st, err := s.openTeam(t)
	if err != nil {
		return fail(err.Error())
	}
	row, other, _, err := s.findRow(t, st, email, kind)
	if err != nil {
		return fail(err.Error())
	}
	if row == nil {
		r.Before = shot()
		switch {
		case other != nil && kind == "invite":
			return refuse("the invitation for %s is gone and %s is now a member of team %s with role %s: a decision about the member is needed", email, email, label, other.Role)
		case other != nil:
			return refuse("%s is not a member of team %s but has a pending invitation there: a decision about the invitation is needed", email, label)
		case a.Op == collectors.OpSetRole:
			return refuse("%s is no longer a member of team %s (its whole list was read)", email, label)
		case kind == "invite":
			return end(collectors.OutcomeAlreadyDone, "no invitation for %s is pending in team %s any more (its whole list was read)", email, label)
		default:
			return end(collectors.OutcomeAlreadyDone, "%s is no longer a member of team %s (its whole list was read)", email, label)
		}
	}
	shown := row.Role
	switch {
	case kind == "member" && strings.EqualFold(shown, "Owner"):
		r.Before = shot()
		return refuse("protected: %s is now the Owner of team %s, whom idgraph never touches", email, label)
	case acc.DisplayName != "" && row.DisplayName != "" && !strings.EqualFold(strings.TrimSpace(acc.DisplayName), row.DisplayName):
		r.Before = shot()
		return refuse("another person may hold %s in team %s: the page shows the name %q, the decision saw %q", email, label, truncate(row.DisplayName), truncate(acc.DisplayName))
	case a.Op == collectors.OpSetRole && strings.EqualFold(shown, target):
		r.Before = shot()
		return end(collectors.OutcomeAlreadyDone, "%s already has the role %s in team %s", email, shown, label)
	case acc.Role != "" && !strings.EqualFold(shown, acc.Role):
		r.Before = shot()
		return refuse("the role of %s in team %s changed since the decision: the page shows %s, the decision saw %s", email, label, shown, acc.Role)
	}

	// The change, through the page's controls.
	r.Before = shot()
	if r.Before == nil {
		return fail(fmt.Sprintf("the screenshot before acting on %s could not be taken", email))
	}
	want := map[collectors.Op]string{collectors.OpRemove: "Remove from team", collectors.OpSetRole: "Change role", collectors.OpRevokeInvitation: "Revoke invitation"}[a.Op]
	var before []toast
	err = s.step(fmt.Sprintf("%s for %s in team %s", strings.ToLower(want), email, label), func(ctx context.Context) error {
		if err := s.choose(ctx, email, kind, menuItem[a.Op], want); err != nil {
			return err
		}
		d, err := s.waitDialog(ctx, want)
		if err != nil {
			return err
		}
		// Never confirm a dialog about someone else.
		if !strings.Contains(strings.ToLower(d.Text), strings.ToLower(email)) {
			return &errStop{fmt.Sprintf("the dialog after %q does not name %s: %q", want, email, truncate(d.Text))}
		}
		if target != "" {
			ok, err := run[bool](ctx, "choose", target)
			if err != nil {
				return err
			}
			if !ok {
				return &errStop{fmt.Sprintf("the role control of the dialog offers %s, not %s", strings.Join(d.Options, ", "), target)}
			}
		}
		at, err := run[*point](ctx, "button", confirmButton[a.Op])
		if err != nil {
			return err
		}
		if at == nil {
			return &errStop{fmt.Sprintf("the dialog %q has no button to confirm (it has %s)", truncate(d.Text), strings.Join(d.Buttons, ", "))}
		}
		if before, err = run[[]toast](ctx, "toasts"); err != nil {
			return err
		}
		changed = true
		return click(ctx, at)
	})
	if err != nil {
		return fail(s.why(err))
	}

	// The app's answer, and the row again.
	said := ""
	err = s.step(fmt.Sprintf("waiting for Stonly to confirm %s for %s", strings.ToLower(want), email), func(ctx context.Context) error {
		_, err := s.poll(ctx, func(st *pageState) (bool, error) {
			if st.Login {
				return false, fmt.Errorf("%w: the app showed its login page after %q for %s", errSession, want, email)
			}
			ts, err := run[[]toast](ctx, "toasts")
			if err != nil {
				return false, nil // the page is changing; look again
			}
			for _, tt := range fresh(ts, before) {
				if sessionToast.MatchString(tt.Text) {
					// The app may say so in a toast before it shows its login
					// page: the same stop either way.
					return false, fmt.Errorf("%w: Stonly answered %q to %q for %s", errSession, truncate(tt.Text), want, email)
				}
				if tt.Alert || errorToast.MatchString(tt.Text) {
					return false, &errStop{fmt.Sprintf("Stonly answered %q to %q for %s", truncate(tt.Text), want, email)}
				}
				said = tt.Text
			}
			m, inv, err := s.lookup(t, st, email)
			if err != nil {
				return false, nil // a list in the middle of a render
			}
			now := m
			if kind == "invite" {
				now = inv
			}
			if a.Op == collectors.OpSetRole {
				return said != "" && now != nil && strings.EqualFold(now.Role, target), nil
			}
			// Gone from a list that is there: rows, or its own word that
			// the team has none (not a list that is re-rendering).
			members, _, _ := split(st)
			return said != "" && now == nil && (len(members.Rows) > 0 || members.Empty), nil
		})
		return err
	})
	if err != nil {
		return fail(s.why(err))
	}
	r.After = shot()
	if a.Op == collectors.OpSetRole {
		return end(collectors.OutcomeDone, "Stonly answered %q; the row of %s in team %s now shows the role %s (it showed %s)", truncate(said), email, label, target, shown)
	}
	what := "the row of " + email
	if kind == "invite" {
		what = "the invitation for " + email
	}
	return end(collectors.OutcomeDone, "Stonly answered %q; %s is gone from team %s", truncate(said), what, label)
}

// why words an error of a step for the evidence.
func (s *scrape) why(err error) string {
	var es *errStop
	if errors.As(err, &es) {
		return es.why
	}
	if errors.Is(err, errSession) {
		return "the session expired: " + strings.TrimPrefix(err.Error(), "stonly: ")
	}
	return strings.TrimPrefix(err.Error(), "stonly: ")
}

type point struct {
	X      float64 `json:"x"`
	Y      float64 `json:"y"`
	Label  string  `json:"label"`
	InView bool    `json:"inView"`
	Moved  bool    `json:"moved"` // scrolled into view: look again once the page settles
}

type toast struct {
	Text  string `json:"text"`
	Alert bool   `json:"alert"`
}

// fresh returns the toasts of now that were not on the page before.
func fresh(now, before []toast) []toast {
	seen := map[string]int{}
	for _, t := range before {
		seen[t.Text]++
	}
	var out []toast
	for _, t := range now {
		if seen[t.Text] > 0 {
			seen[t.Text]--
			continue
		}
		out = append(out, t)
	}
	return out
}

type dialogInfo struct {
	Open    bool     `json:"open"`
	Text    string   `json:"text"`
	Buttons []string `json:"buttons"`
	Options []string `json:"options"`
}

// run calls a helper of act.js with arguments, JSON-encoded.
func run[T any](ctx context.Context, name string, args ...any) (T, error) {
	var enc []string
	for _, a := range args {
		b, _ := json.Marshal(a)
		enc = append(enc, string(b))
	}
	return chromedp.Run(ctx, chromedp.Evaluate[T](actJS+";\nwindow.__idact."+name+"("+strings.Join(enc, ",")+")"))
}

// settle waits, at most 250ms, for the page to change and come to rest.
func settle(ctx context.Context) error {
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](actionsJS+";\nwindow.__idgraph.settle(250)", chromedp.EvalAwaitPromise))
	return err
}

// click is a real mouse click at p: pointer and mouse events, as a person
// makes them.
func click(ctx context.Context, p *point) error {
	if !p.InView {
		// A click outside the window reaches nothing and says nothing.
		return &errStop{fmt.Sprintf("the control %q is outside the browser window", truncate(p.Label))}
	}
	return chromedp.Do(ctx, chromedp.MouseClickXY(p.X, p.Y))
}

// choose opens the row's menu (or finds the row's own control) and clicks
// the item named want.
func (s *scrape) choose(ctx context.Context, email, kind, item, want string) error {
	type found struct {
		Rows   int    `json:"rows"`
		Inline *point `json:"inline"`
		Menu   *point `json:"menu"`
	}
	f, err := run[found](ctx, "find", email, kind, item)
	if err == nil && (f.Inline != nil && f.Inline.Moved || f.Menu != nil && f.Menu.Moved) {
		// The row was scrolled into view: the list may re-render it.
		if err = settle(ctx); err == nil {
			f, err = run[found](ctx, "find", email, kind, item)
		}
	}
	switch {
	case err != nil:
		return err
	case f.Rows != 1:
		return &errStop{fmt.Sprintf("the row of %s was read but %d rows show that address on the page to act on", email, f.Rows)}
	case f.Inline != nil:
		return click(ctx, f.Inline)
	case f.Menu == nil:
		return &errStop{fmt.Sprintf("the row of %s has no menu button and no %q control", email, want)}
	}
	if err := click(ctx, f.Menu); err != nil {
		return err
	}
	type menu struct {
		Open    bool     `json:"open"`
		At      *point   `json:"at"`
		Offered []string `json:"offered"`
	}
	var m menu
	_, err = s.poll(ctx, func(*pageState) (bool, error) {
		var err error
		m, err = run[menu](ctx, "item", item)
		if err == nil && m.At != nil && m.At.Moved {
			return false, nil // scrolled into view: look again
		}
		return err == nil && m.Open, nil
	})
	switch {
	case err != nil && !m.Open:
		return &errStop{fmt.Sprintf("the menu of the row of %s did not open (%v)", email, err)}
	case m.At == nil:
		return &errStop{fmt.Sprintf("the menu of the row of %s offers %s but no %q", email, strings.Join(m.Offered, ", "), want)}
	}
	return click(ctx, m.At)
}

// waitDialog waits for the dialog that the item want opens.
func (s *scrape) waitDialog(ctx context.Context, want string) (dialogInfo, error) {
	var d dialogInfo
	_, err := s.poll(ctx, func(st *pageState) (bool, error) {
		if st.Login {
			return false, fmt.Errorf("%w: the app showed its login page after %q", errSession, want)
		}
		var err error
		d, err = run[dialogInfo](ctx, "dialog")
		return err == nil && d.Open, nil
	})
	if err != nil && !errors.Is(err, errSession) {
		return d, &errStop{fmt.Sprintf("no dialog appeared after %q (%v)", want, err)}
	}
	return d, err
}

// openTeam opens team t's Team Management page and waits for its lists,
// as a read does.
func (s *scrape) openTeam(t teamRef) (*pageState, error) {
	label := t.label()
	var st *pageState
	err := s.step("opening Team Management of "+label, func(ctx context.Context) error {
		if err := s.navigate(ctx, s.c.abs(strings.ReplaceAll(s.c.cfg.TeamPath, "{team}", url.PathEscape(t.ID)))); err != nil {
			return err
		}
		var err error
		st, err = s.poll(ctx, func(st *pageState) (bool, error) {
			if st.Login {
				return false, fmt.Errorf("%w: the app showed its login page when Team Management of %s was opened", errSession, label)
			}
			members, _, _ := split(st)
			if members == nil && st.Denied != "" {
				return true, nil
			}
			return members != nil && (len(members.Rows) > 0 || members.Empty) && !st.InvitesPending, nil
		})
		return err
	})
	if errors.Is(err, errSession) {
		return nil, err
	}
	if err == nil && st != nil && st.Denied != "" {
		if m, _, _ := split(st); m == nil {
			return nil, fmt.Errorf("team %s: Team Management says %q (the account is not an Admin there); %s", label, truncate(st.Denied), s.c.fix(t))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("team %s: the Team Management page was not recognised (no member list with Email and Role columns that finished rendering): %w", label, err)
	}
	return st, nil
}

// lookup finds email in the page's lists: as a member, and as an
// invitation (a section of its own, or rows whose status says invited).
// A row that cannot be read is an error: an unreadable row is never
// "gone".
func (s *scrape) lookup(t teamRef, st *pageState, email string) (member, invite *collectors.Account, err error) {
	members, invites, _ := split(st)
	if members == nil {
		return nil, nil, errors.New("no member list with Email and Role columns is on the page")
	}
	for _, tb := range []struct {
		t      *table
		status collectors.Status
	}{{members, collectors.StatusActive}, {invites, collectors.StatusInvited}} {
		if tb.t == nil {
			continue
		}
		idx := headerIndex(tb.t.Headers)
		for _, cells := range tb.t.Rows {
			a, err := s.row(cells, idx, t, tb.status)
			if err != nil {
				return nil, nil, fmt.Errorf("a row of team %s cannot be read: %w", t.label(), err)
			}
			if !strings.EqualFold(a.Email, email) {
				continue
			}
			if a.Status == collectors.StatusInvited {
				invite = &a
			} else {
				member = &a
			}
		}
	}
	return member, invite, nil
}

// findRow looks for email's row of the kind asked, loading further pages
// of the list as a read does, and says that the row is gone only when the
// whole list was read.
func (s *scrape) findRow(t teamRef, st *pageState, email, kind string) (row, other *collectors.Account, _ *pageState, err error) {
	label := t.label()
	paged, scrolls := false, 0
	for range 10000 {
		m, inv, err := s.lookup(t, st, email)
		if err != nil {
			return nil, nil, st, err
		}
		row, other = m, inv
		if kind == "invite" {
			row, other = inv, m
		}
		if row != nil {
			return row, other, st, nil
		}
		members, _, _ := split(st)
		count := shownCount(st)
		var act string
		switch {
		case st.LoadMore:
			act = "loadMore"
		case st.Next:
			act, paged = "next", true
		case members.Virtual && !members.AtEnd:
			act = "vscroll"
		case !paged && !members.Virtual && count >= 0 && len(members.Rows) < count && scrolls < 3:
			act = "scroll"
			scrolls++
		}
		if act == "" {
			if !paged && !members.Virtual && count >= 0 && len(members.Rows) != count {
				return nil, nil, st, fmt.Errorf("team %s: the page says %d members but %d rows are shown, so whether %s is still there cannot be told", label, count, len(members.Rows), email)
			}
			return nil, other, st, nil
		}
		prev := sig(members)
		err = s.step("loading more of the member list of "+label, func(ctx context.Context) error {
			aerr := actionSettled(ctx, act, time.Second)
			wait := ctx
			if act == "scroll" || act == "vscroll" {
				var cancel context.CancelFunc
				wait, cancel = context.WithTimeout(ctx, 1500*time.Millisecond)
				defer cancel()
			}
			next, err := s.poll(wait, func(n *pageState) (bool, error) {
				if n.Login {
					return false, s.sessionExpired(label)
				}
				nm, _, _ := split(n)
				return nm != nil && sig(nm) != prev && !(nm.Virtual && !nm.Covered), nil
			})
			switch {
			case errors.Is(err, errSession):
				return err
			case err != nil && wait != ctx && ctx.Err() == nil:
				return nil // a scroll that loaded nothing
			case err != nil && aerr != nil:
				return fmt.Errorf("%w (the click itself failed: %v)", err, aerr)
			case err != nil:
				return err
			}
			st = next
			return nil
		})
		if err != nil {
			return nil, nil, st, fmt.Errorf("team %s: the next part of the member list did not load: %w", label, err)
		}
	}
	return nil, nil, st, fmt.Errorf("team %s: the member list did not end", label)
}
