package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/store"
)

// Unknowns are the findings that an incomplete source kept from being
// judged (found in this run) or re-checked (carried from the last
// complete snapshot), most severe first.
func (d *Data) Unknowns() []diff.Finding {
	var out []diff.Finding
	for _, f := range d.Findings {
		if f.State != diff.StateOpen {
			out = append(out, f)
		}
	}
	diff.Sort(out)
	return out
}

// Unchecked is an incomplete source and what it kept from being checked.
type Unchecked struct {
	Source   string
	Kind     collectors.Kind
	Problem  string // its errors (or warnings), joined
	Findings int    // unknown findings that depend on it
}

// UncheckedBy names the incomplete sources that kept an unknown finding
// from being re-checked: those the pipeline recorded, or else the sources
// it depends on that were incomplete.
func UncheckedBy(f diff.Finding, sources []store.Source) []string {
	if len(f.Unchecked) > 0 {
		return f.Unchecked
	}
	var out []string
	for _, s := range sources {
		if !s.Completeness.Complete && slices.Contains(f.DependsOn, s.Info.Name) {
			out = append(out, s.Info.Name)
		}
	}
	return out
}

// IncompleteSources lists the snapshot's incomplete sources, each with
// its problem and how many of the findings depend on it.
func IncompleteSources(sources []store.Source, fs []diff.Finding) []Unchecked {
	var out []Unchecked
	for _, s := range sources {
		if s.Completeness.Complete {
			continue
		}
		u := Unchecked{Source: s.Info.Name, Kind: s.Info.Kind, Problem: strings.Join(s.Completeness.Errors, "; ")}
		if u.Problem == "" {
			u.Problem = strings.Join(s.Completeness.Warnings, "; ")
		}
		if u.Problem == "" {
			u.Problem = "it did not finish its read, and recorded no error"
		}
		for _, f := range fs {
			if f.State != diff.StateOpen && slices.Contains(UncheckedBy(f, sources), s.Info.Name) {
				u.Findings++
			}
		}
		out = append(out, u)
	}
	return out
}

// Incomplete lists the snapshot's incomplete sources.
func (d *Data) Incomplete() []Unchecked { return IncompleteSources(d.Snapshot.Sources, d.Findings) }

// UncheckedSentence says how many findings could not be re-checked and
// why, in plain text (each output escapes it): "3 findings could not be
// re-checked because okta-export was incomplete (okta: 500 on page 2)."
// Each source's problem is cut to problemLen characters.
func UncheckedSentence(n int, srcs []Unchecked, problemLen int) string {
	var parts []string
	for _, s := range srcs {
		parts = append(parts, fmt.Sprintf("%s (%s)", s.Source, Terminal(s.Problem, problemLen)))
	}
	verb := "was"
	if len(srcs) > 1 {
		verb = "were"
	}
	return fmt.Sprintf("%s could not be re-checked because %s %s incomplete.", Plural(n, "finding", "findings"), List(parts), verb)
}

// Plural writes "1 finding", "2 findings".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// List joins "a", "a and b", "a, b and c".
func List(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// Who names the person and the account behind a finding or a change.
type Who struct {
	Name, Email, Account string
}

// String is "Dana Kim <dana@acme.com> (notion:t1:dana@acme.com)", with
// whatever parts are known. It is raw source text: each output escapes it.
func (w Who) String() string {
	var s string
	switch {
	case w.Name != "" && w.Email != "" && w.Name != w.Email:
		s = w.Name + " <" + w.Email + ">"
	case w.Email != "":
		s = w.Email
	default:
		s = w.Name
	}
	if w.Account != "" && w.Account != w.Email {
		if s == "" {
			return w.Account
		}
		s += " (" + w.Account + ")"
	}
	return s
}

// Label is what a list shows first: the name, else the address.
func (w Who) Label() string {
	if w.Name != "" {
		return w.Name
	}
	if w.Email != "" {
		return w.Email
	}
	return w.Account
}

// Addr is the address, when the label is not already it.
func (w Who) Addr() string {
	if w.Email == w.Label() {
		return ""
	}
	return w.Email
}

// Acct is the account key, when neither label nor address is it.
func (w Who) Acct() string {
	if w.Account == w.Email || w.Account == w.Label() {
		return ""
	}
	return w.Account
}

// WhoOf names a finding's person and account from the finding alone.
func WhoOf(f diff.Finding) Who {
	w := Who{Name: f.DisplayName, Email: f.Email, Account: f.Account}
	if w.Name == "" && w.Email == "" {
		w.Name = f.Person
	}
	return w
}

// WhoOf names a finding's person and account, with the person's name from
// the snapshot when the finding has none.
func (d *Data) WhoOf(f diff.Finding) Who {
	w := WhoOf(f)
	if f.DisplayName == "" {
		if p, ok := d.People[f.Person]; ok && p.DisplayName != "" {
			w.Name = p.DisplayName
		}
	}
	return w
}

// ChangeWho names the person and the account of a drift change.
func (d *Data) ChangeWho(c diff.Change) Who {
	w := Who{Email: c.Email, Account: c.Account}
	person, ok := d.byAccount[c.Account]
	if !ok && d.byAccount == nil { // a Data not made by Load
		for _, a := range d.Accounts {
			if a.Key() == c.Account {
				person = a.Person
			}
		}
	}
	if p, ok := d.People[person]; ok {
		w.Name = p.DisplayName
	}
	return w
}

// SourceCount is how many accounts one source holds in the snapshot.
type SourceCount struct {
	Source   string
	Kind     collectors.Kind
	App      string // the application's title, for an app source
	Accounts int    // accounts, pending invitations excluded
	Invited  int    // pending invitations
	Teams    int
}

// AccountCounts counts the accounts of each source, in source order, so
// that IdP and app accounts are never added together.
func (d *Data) AccountCounts() []SourceCount {
	apps := d.Apps()
	idx := map[string]int{}
	var out []SourceCount
	for _, s := range d.Snapshot.Sources {
		idx[s.Info.Name] = len(out)
		out = append(out, SourceCount{Source: s.Info.Name, Kind: s.Info.Kind, App: TitleIn(apps, s.Info.App)})
	}
	teams := map[string]bool{}
	for _, a := range d.Accounts {
		i, ok := idx[a.Source]
		if !ok {
			continue
		}
		if a.Status == collectors.StatusInvited {
			out[i].Invited++
		} else {
			out[i].Accounts++
		}
		if a.Team != "" && !teams[a.Source+"\x00"+a.Team] {
			teams[a.Source+"\x00"+a.Team] = true
			out[i].Teams++
		}
	}
	return out
}

// Summary is one source's part of the header's account line:
// "okta-export: 150 IdP accounts", "notion: 465 Notion accounts in 5 teams,
// 12 pending invitations".
func (c SourceCount) Summary() string {
	if c.Kind == collectors.KindIdP {
		return fmt.Sprintf("%s: %s", c.Source, Plural(c.Accounts, "IdP account", "IdP accounts"))
	}
	app := c.App
	if app == "" {
		app = "app"
	}
	s := fmt.Sprintf("%s: %s", c.Source, Plural(c.Accounts, app+" account", app+" accounts"))
	if c.Teams > 0 {
		s += " in " + Plural(c.Teams, "team", "teams")
	}
	if c.Invited > 0 {
		s += ", " + Plural(c.Invited, "pending invitation", "pending invitations")
	}
	return s
}

// Top returns at most n of the findings, which are in report order.
func Top(fs []diff.Finding, n int) []diff.Finding {
	if len(fs) > n {
		return fs[:n]
	}
	return fs
}

// SnapshotDay dates a snapshot of the history ("2026-11-30"), or "".
func (d *Data) SnapshotDay(id int64) string {
	for _, p := range d.History {
		if p.ID == id {
			return p.At.UTC().Format("2006-01-02")
		}
	}
	return ""
}

// Confirmed says when an unknown finding was last a fact: "last confirmed
// in snapshot 3 on 2026-11-30", or that it never was.
func (d *Data) Confirmed(f diff.Finding) string {
	if f.LastConfirmed == 0 {
		return "never confirmed: found while a source it depends on was incomplete"
	}
	s := fmt.Sprintf("last confirmed in snapshot %d", f.LastConfirmed)
	if day := d.SnapshotDay(f.LastConfirmed); day != "" {
		s += " on " + day
	}
	return s
}

// FirstSeenText is "first seen in snapshot 1 on 2026-11-28".
func FirstSeenText(f diff.Finding) string {
	if f.FirstSeen.IsZero() {
		return ""
	}
	s := "first seen"
	if f.FirstSnap > 0 {
		s += fmt.Sprintf(" in snapshot %d", f.FirstSnap)
	}
	return s + " on " + f.FirstSeen.UTC().Format("2006-01-02")
}
