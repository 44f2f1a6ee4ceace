package report

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/store"
)

// FindingsTable prints findings as an aligned table, sanitised for a
// terminal: source values can hold escape sequences and RTL overrides.
func FindingsTable(w io.Writer, fs []diff.Finding) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tKIND\tREASON\tTEAM\tEMAIL\tACTUAL\tEXPECTED\tFIRST SEEN\tEXPLANATION")
	for _, f := range fs {
		team := f.TeamName
		if team == "" {
			team = f.Team
		}
		first := ""
		if !f.FirstSeen.IsZero() {
			first = f.FirstSeen.UTC().Format("2006-01-02")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Severity, f.Kind, f.Reason, Terminal(team, 30),
			Terminal(f.Email, 60), Terminal(f.ActualRole, 20), Terminal(f.ExpectedRole, 20), first, Terminal(f.Explanation, 160))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(fs) == 0 {
		fmt.Fprintln(w, "(no findings)")
	}
	return nil
}

// DriftText prints a drift for people. On a terminal (cut) long values
// are shortened to fit a line; elsewhere (a file, a pipe) nothing is cut.
func DriftText(w io.Writer, d *diff.Drift, cut bool) error { return DriftTextIn(w, d, nil, cut) }

// DriftTextIn is DriftText for a drift between snapshots of sources: when
// they read several applications, each finding and role change names its
// application by title; with one, the text is DriftText's.
func DriftTextIn(w io.Writer, d *diff.Drift, sources []store.Source, cut bool) error {
	apps := Apps(sources)
	multi := len(apps) > 1
	appOf := map[string]string{}
	for _, s := range sources {
		appOf[s.Info.Name] = s.Info.App
	}
	width := func(n int) int {
		if cut {
			return n
		}
		return -1 // Terminal never cuts
	}
	fmt.Fprintf(w, "drift from snapshot %d to %d\n", d.From, d.To)
	section := func(title string, fs []diff.Finding) {
		fmt.Fprintf(w, "\n%s (%d)\n", title, len(fs))
		for _, f := range fs {
			if multi {
				fmt.Fprintf(w, "  %-8s %-13s %-14s %s  %s\n", f.Severity, f.Kind, Terminal(TitleIn(apps, f.App), width(30)),
					Terminal(WhoOf(f).String(), width(160)), Terminal(f.Explanation, width(160)))
				continue
			}
			fmt.Fprintf(w, "  %-8s %-13s %s  %s\n", f.Severity, f.Kind, Terminal(WhoOf(f).String(), width(160)), Terminal(f.Explanation, width(160)))
		}
	}
	section("findings appeared", d.Appeared)
	section("findings escalated", d.Escalated)
	section("findings resolved", d.Resolved)
	fmt.Fprintf(w, "\naccounts created (%d)\n", len(d.AccountsCreated))
	for _, a := range d.AccountsCreated {
		fmt.Fprintf(w, "  %s  %s %s\n", Terminal(a.Account, width(80)), Terminal(a.Role, width(20)), a.Status)
	}
	fmt.Fprintf(w, "\naccounts removed (%d)\n", len(d.AccountsRemoved))
	for _, a := range d.AccountsRemoved {
		fmt.Fprintf(w, "  %s  %s %s\n", Terminal(a.Account, width(80)), Terminal(a.Role, width(20)), a.Status)
	}
	for _, c := range []struct {
		title string
		cs    []diff.Change
	}{{"role changes", d.RoleChanges}, {"status changes", d.StatusChanges}} {
		fmt.Fprintf(w, "\n%s (%d)\n", c.title, len(c.cs))
		for _, x := range c.cs {
			// The account key alone is an opaque id (okta:00u1…): name the address too.
			who := Terminal(Who{Email: x.Email, Account: x.Account}.String(), width(140))
			if app := appOf[x.Source]; multi && app != "" {
				who += " in " + Terminal(TitleIn(apps, app), width(30))
			}
			fmt.Fprintf(w, "  %s  %s -> %s\n", who, Terminal(x.From, width(30)), Terminal(x.To, width(30)))
		}
	}
	return nil
}
