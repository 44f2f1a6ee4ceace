package review

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Campaign rules (docs/RULES.md, "Review"): how a campaign's items are
// routed to reviewers, and how its progress is counted. They are pure, so
// that the CLI, the web UI and the evidence pack count alike.

// Route names how a campaign routes an item to its reviewer.
type Route string

// The routes of review.route.
const (
	RouteOwner    Route = "owner"    // the application's configured owner
	RouteManager  Route = "manager"  // the person's manager, as an IdP records it
	RouteReviewer Route = "reviewer" // one named reviewer for everything
)

// ParseRoute reads a route's name; "" is RouteOwner, the default.
func ParseRoute(s string) (Route, error) {
	switch r := Route(strings.ToLower(strings.TrimSpace(s))); r {
	case "":
		return RouteOwner, nil
	case RouteOwner, RouteManager, RouteReviewer:
		return r, nil
	}
	return "", fmt.Errorf("route must be owner, manager or reviewer, not %q", s)
}

// Routing is a campaign's routing rule, fixed when it starts.
type Routing struct {
	Route    Route             `json:"route"`
	Owners   map[string]string `json:"owners,omitempty"`   // application -> owner's address
	Reviewer string            `json:"reviewer,omitempty"` // RouteReviewer: who reviews everything
	Fallback string            `json:"fallback_reviewer,omitempty"`
}

// Person is what routing knows of a person of the campaign's snapshot.
type Person struct {
	ID    string
	Email string // the address a reviewer signs in with, as idgraph knows it
	// Addresses are every address of every account of the person, any
	// alias: a reviewer whose address is one of them reviews their own
	// access.
	Addresses []string
	// IdPAddresses are the addresses of the person's IdP accounts, by which
	// a manager address an IdP records finds them; nil: Email and
	// Addresses (an empty, non-nil list: nobody's manager by address).
	IdPAddresses []string
	// Managers are the manager addresses the person's IdP accounts record,
	// in source order.
	Managers []string
}

// Directory finds people by any of their addresses.
type Directory struct {
	norm   func(string) string
	byID   map[string]*Person
	byAddr map[string]*Person
}

// Fold is the address comparison used when no normaliser is given: trimmed
// and case-folded.
func Fold(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// NewDirectory indexes people by their IdP addresses; norm normalises an address as correlation
// did (domain aliases; nil: Fold). An address two people claim finds
// neither: correlation reported that conflict, and routing must not guess.
func NewDirectory(people []Person, norm func(string) string) *Directory {
	if norm == nil {
		norm = Fold
	}
	d := &Directory{norm: norm, byID: map[string]*Person{}, byAddr: map[string]*Person{}}
	claimed := map[string]bool{}
	for i := range people {
		p := &people[i]
		d.byID[p.ID] = p
		lookup := p.IdPAddresses
		if lookup == nil {
			lookup = append([]string{p.Email}, p.Addresses...)
		}
		for _, a := range lookup {
			n := norm(a)
			if n == "" {
				continue
			}
			if q, ok := d.byAddr[n]; ok && q != p {
				claimed[n] = true
			}
			d.byAddr[n] = p
		}
	}
	for n := range claimed {
		delete(d.byAddr, n)
	}
	return d
}

// Person returns the person with an ID, or nil.
func (d *Directory) Person(id string) *Person { return d.byID[id] }

// Own reports whether address who is one of person id's addresses.
func (d *Directory) Own(id, who string) bool {
	p := d.byID[id]
	n := d.norm(who)
	if p == nil || n == "" {
		return false
	}
	for _, a := range slices.Concat([]string{p.Email}, p.Addresses, p.IdPAddresses) {
		if d.norm(a) == n {
			return true
		}
	}
	return false
}

// Subject is what an item is about, for routing.
type Subject struct {
	App    string
	Person string // the person's ID; "" when the item is about no person
	// Emails are further addresses the item names (a finding's evidence),
	// which a reviewer must not hold either.
	Emails []string
}

// Assignment is a routed item: its reviewer and why.
type Assignment struct {
	Reviewer string `json:"reviewer"`
	Why      string `json:"routed_by"`
}

// ErrNoReviewer is the error of an item that no rule gives a reviewer.
var ErrNoReviewer = errors.New("no reviewer")

// Assign routes one item: by the route's rule, then to the fallback
// reviewer when the rule names nobody or names someone who would review
// their own access. It fails with ErrNoReviewer, saying why, when even
// the fallback cannot take it.
func (rt Routing) Assign(d *Directory, s Subject) (Assignment, error) {
	who, why := "", ""
	switch rt.Route {
	case RouteReviewer:
		who, why = rt.Reviewer, "the campaign's reviewer"
		if who == "" {
			why = "no reviewer named"
		}
	case RouteManager:
		who, why = d.manager(s.Person)
	default:
		who, why = rt.Owners[s.App], "owner of "+s.App
		if who == "" {
			why = "no owner configured for " + s.App
		}
	}
	who = Fold(who)
	if who != "" && !d.self(s, who) {
		return Assignment{Reviewer: who, Why: why}, nil
	}
	reason := why
	if who != "" {
		reason = who + " would review their own access"
	}
	fb := Fold(rt.Fallback)
	switch {
	case fb == "":
		return Assignment{}, fmt.Errorf("%w: %s, and no fallback reviewer is configured (review.fallback_reviewer)", ErrNoReviewer, reason)
	case d.self(s, fb):
		return Assignment{}, fmt.Errorf("%w: %s, and the fallback reviewer %s would review their own access", ErrNoReviewer, reason, fb)
	}
	return Assignment{Reviewer: fb, Why: "fallback: " + reason}, nil
}

// self reports whether who would review their own access in s.
func (d *Directory) self(s Subject, who string) bool {
	if s.Person != "" && d.Own(s.Person, who) {
		return true
	}
	n := d.norm(who)
	for _, e := range s.Emails {
		if n != "" && d.norm(e) == n {
			return true
		}
	}
	return false
}

// manager finds the reviewer of a person under RouteManager: the person
// whose address is the first manager address an IdP records.
func (d *Directory) manager(id string) (string, string) {
	p := d.byID[id]
	if p == nil {
		return "", "the item is about no person, so it has no manager"
	}
	var unknown []string
	for _, m := range p.Managers {
		if strings.TrimSpace(m) == "" {
			continue
		}
		if q := d.byAddr[d.norm(m)]; q != nil {
			if q.ID == p.ID {
				return "", "the IdP names " + p.Email + " their own manager"
			}
			addr := q.Email
			if addr == "" {
				addr = m
			}
			return addr, "manager of " + p.Email
		}
		unknown = append(unknown, m)
	}
	if len(unknown) > 0 {
		return "", fmt.Sprintf("the manager %s of %s is nobody in the snapshot", strings.Join(unknown, ", "), p.Email)
	}
	return "", "no IdP records a manager for " + p.Email
}

// Item states in a campaign.
const (
	StateUndecided = "undecided"
	StatePending   = "pending" // decided, waiting for the second reviewer
	StateDecided   = "decided"
)

// CampaignDecision returns an item's latest decision in a campaign (the
// newest of its finding's decisions, oldest first in history, made from
// start up to end; a zero end is open) and the item's state: decided when
// one of them is in force (not waiting for a second reviewer), pending
// when all wait, undecided without any.
// Decisions before the campaign started are not the campaign's: an item
// is decided in the campaign or not at all.
func CampaignDecision(history []Decision, start, end time.Time) (*Decision, string) {
	var in []Decision
	for _, d := range history {
		if d.DecidedAt.Before(start) || (!end.IsZero() && d.DecidedAt.After(end)) {
			continue
		}
		if !end.IsZero() && !d.ConfirmedAt.IsZero() && d.ConfirmedAt.After(end) {
			d.ConfirmedBy, d.ConfirmedAt = "", time.Time{}
		}
		in = append(in, d)
	}
	l := Latest(in)
	switch {
	case l == nil:
		return nil, StateUndecided
	case InForce(in) != nil:
		return l, StateDecided
	}
	return l, StatePending
}

// Overdue reports whether an item in state is overdue at now.
func Overdue(state string, due, now time.Time) bool {
	return state != StateDecided && !due.IsZero() && now.After(due)
}

// DueSoon reports whether an item in state is due within a day of now
// (and not yet decided), so that its reviewer is reminded.
func DueSoon(state string, due, now time.Time) bool {
	return state != StateDecided && !due.IsZero() && !now.Before(due.Add(-24*time.Hour))
}

// Progress counts a campaign's (or one reviewer's) items.
type Progress struct {
	Total     int `json:"total"`
	Decided   int `json:"decided"`
	Pending   int `json:"pending_second_reviewer"`
	Undecided int `json:"undecided"` // neither decided nor pending
	Overdue   int `json:"overdue"`   // not decided, and past the due date
}

// Add counts one item.
func (p *Progress) Add(state string, overdue bool) {
	p.Total++
	switch state {
	case StateDecided:
		p.Decided++
	case StatePending:
		p.Pending++
	default:
		p.Undecided++
	}
	if overdue {
		p.Overdue++
	}
}

// Done reports whether every item is decided.
func (p Progress) Done() bool { return p.Decided == p.Total }

// Reviewers returns the reviewers of assignments, sorted and unique.
func Reviewers(as []Assignment) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Reviewer)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
