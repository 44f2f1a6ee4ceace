// This file holds the reading of one team's Team Management page: its
// members across pages, "Load more", infinite and virtualised scrolling,
// the count the page shows, and its invitations.

package stonly

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/idgraph/idgraph/collectors"
)

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
