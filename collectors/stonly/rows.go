// This file holds the member tables and their rows: the column headers
// understood, which table holds members and which invitations, the count
// the page shows, and one row as an account with its role and status.

package stonly

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/idgraph/idgraph/collectors"
)

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
