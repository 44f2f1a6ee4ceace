package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/idgraph/idgraph/diff"
)

// mdText makes source text inert in Markdown: controls and bidi overrides
// replaced, and the characters that start markup escaped with a backslash,
// which CommonMark defines for every ASCII punctuation character (so
// "Dana <dana@acme.com>" reads as written, in a renderer and as plain text).
func mdText(s string) string { return mdTextN(s, 200) }

// mdTextN is mdText for text of up to n characters.
func mdTextN(s string, n int) string {
	s = Terminal(s, n)
	r := strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`, "|", `\|`, "#", `\#`, "&", `\&`)
	return r.Replace(s)
}

// mdLines is how many findings each list of the summary shows.
const mdLines = 15

// WriteMarkdown writes a short summary for e-mail or chat.
func WriteMarkdown(w io.Writer, d *Data) error {
	facts, unknowns, inc := d.Facts(), d.Unknowns(), d.Incomplete()
	fmt.Fprintf(w, "# Access review: %s, snapshot %d (%s)\n\n", mdText(d.App()), d.Snapshot.ID, d.Snapshot.FinishedAt.UTC().Format("2006-01-02 15:04 UTC"))
	if !d.AsOf.IsZero() {
		byKind := map[string]int{}
		for _, dec := range d.Decisions {
			byKind[dec.Decision]++
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(byKind)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, byKind[k]))
		}
		summary := ""
		if len(parts) > 0 {
			summary = " (" + strings.Join(parts, ", ") + ")"
		}
		fmt.Fprintf(w, "Decisions as of %s: %s in force%s. Evidence chain head `%s`.\n\n", d.AsOf.UTC().Format("2006-01-02 15:04 UTC"),
			Plural(len(d.Decisions), "decision", "decisions"), summary, d.Head)
	}
	counts := d.AccountCounts()
	for i, s := range d.Snapshot.Sources {
		state := "complete"
		if !s.Completeness.Complete {
			state = "**INCOMPLETE**: " + mdText(strings.Join(s.Completeness.Errors, "; "))
		}
		fmt.Fprintf(w, "- %s, %s, %s\n", mdText(counts[i].Summary()), Plural(s.Completeness.Records, "record read", "records read"), state)
	}
	fmt.Fprintln(w)
	if len(inc) > 0 {
		fmt.Fprintf(w, "**%s**\n\n", mdTextN(UncheckedSentence(len(unknowns), inc, 200), 4000))
		fmt.Fprintf(w, "Findings that depend on an incomplete source are unknown in this run: they are listed apart from the facts, with the snapshot in which each was last confirmed, and none counts as resolved.\n\n")
	}
	switch {
	case len(facts) > 0 || len(inc) > 0:
		fmt.Fprintf(w, "**%s** confirmed in this run", Plural(len(facts), "finding", "findings"))
		if len(inc) > 0 {
			fmt.Fprintf(w, "; %d could not be re-checked", len(unknowns))
		}
		fmt.Fprintln(w)
	default:
		fmt.Fprintf(w, "**No findings**: every %s account matches an active, assigned identity with the expected role.\n", mdText(d.App()))
	}
	fmt.Fprintln(w)
	for _, sev := range Severities {
		var n, u int
		for _, f := range facts {
			if f.Severity == sev {
				n++
			}
		}
		for _, f := range unknowns {
			if f.Severity == sev {
				u++
			}
		}
		switch {
		case u > 0:
			fmt.Fprintf(w, "- %s: %d (and %d not re-checked)\n", sev, n, u)
		case n > 0:
			fmt.Fprintf(w, "- %s: %d\n", sev, n)
		}
	}
	if apps := d.Apps(); len(apps) > 1 {
		// Several applications: how many findings each has, under its title.
		fmt.Fprintln(w, "\n## By application")
		unk := ByApp(apps, unknowns)
		for i, g := range ByApp(apps, facts) {
			line := fmt.Sprintf("- %s: %s", mdText(g.Title), Plural(len(g.Findings), "finding", "findings"))
			var parts []string
			for _, sev := range Severities {
				n := 0
				for _, f := range g.Findings {
					if f.Severity == sev {
						n++
					}
				}
				if n > 0 {
					parts = append(parts, fmt.Sprintf("%d %s", n, sev))
				}
			}
			if len(parts) > 0 {
				line += " (" + strings.Join(parts, ", ") + ")"
			}
			if i < len(unk) && len(unk[i].Findings) > 0 {
				line += fmt.Sprintf("; %d not re-checked", len(unk[i].Findings))
			}
			fmt.Fprintln(w, line)
		}
	}
	if len(facts) > 0 {
		fmt.Fprintln(w, "\n## Most severe")
		mdFindings(w, d, facts, "in the full report", func(diff.Finding) string { return "" })
	}
	if len(unknowns) > 0 {
		fmt.Fprintln(w, "\n## Could not be re-checked")
		mdFindings(w, d, unknowns, "in the full report", func(f diff.Finding) string {
			s := "; " + d.Confirmed(f)
			if fs := FirstSeenText(f); fs != "" {
				s += ", " + fs
			}
			return s + "; not re-checked: " + List(UncheckedBy(f, d.Snapshot.Sources)) + " incomplete"
		})
	}
	if dr := d.Drift; dr != nil {
		fmt.Fprintf(w, "\n## Since snapshot %d\n\n%d appeared, %d escalated, %d resolved, %s.\n", dr.From, len(dr.Appeared), len(dr.Escalated), len(dr.Resolved),
			Plural(len(dr.RoleChanges), "role change", "role changes"))
		for _, l := range []struct {
			title string
			fs    []diff.Finding
		}{{"Appeared", dr.Appeared}, {"Escalated", dr.Escalated}, {"Resolved", dr.Resolved}} {
			if len(l.fs) > 0 {
				fmt.Fprintf(w, "\n### %s\n", l.title)
				mdFindings(w, d, l.fs, "in the full report", func(diff.Finding) string { return "" })
			}
		}
		if len(dr.RoleChanges) > 0 {
			fmt.Fprintln(w, "\n### Role changes")
			for i, c := range dr.RoleChanges {
				if i == mdLines {
					fmt.Fprintf(w, "- … and %d more in the full report\n", len(dr.RoleChanges)-i)
					break
				}
				team := c.TeamName
				if team == "" {
					team = c.Team
				}
				fmt.Fprintf(w, "- %s in %s: %s → %s\n", mdText(d.ChangeWho(c).String()), mdText(team), mdText(c.From), mdText(c.To))
			}
		}
	}
	return nil
}

// mdFindings lists findings, most severe first, each naming the person and
// the account: "- CRITICAL orphaned: Dana Kim <dana@acme.com>
// (notion:t1:dana@acme.com), disabled in entra, still Notion Admin in
// Onboarding".
func mdFindings(w io.Writer, d *Data, fs []diff.Finding, rest string, tail func(diff.Finding) string) {
	apps := d.Apps()
	for i, f := range fs {
		if i == mdLines {
			fmt.Fprintf(w, "- … and %d more %s\n", len(fs)-i, rest)
			return
		}
		kind := mdText(f.Kind)
		if len(apps) > 1 {
			kind += " in " + mdText(TitleIn(apps, f.App))
		}
		fmt.Fprintf(w, "- %s %s: %s, %s%s\n", strings.ToUpper(f.Severity), kind, mdText(d.WhoOf(f).String()), mdText(f.Explanation), mdText(tail(f)))
	}
}
