package report

import (
	"fmt"
	"io"
	"strings"
)

// mdText makes source text inert in Markdown: controls and bidi overrides
// replaced, and the characters that start markup escaped.
func mdText(s string) string {
	s = Terminal(s, 200)
	r := strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;", "|", `\|`, "#", `\#`)
	return r.Replace(s)
}

// WriteMarkdown writes a short summary for e-mail or chat.
func WriteMarkdown(w io.Writer, d *Data) error {
	facts := d.Facts()
	fmt.Fprintf(w, "# Access review, snapshot %d (%s)\n\n", d.Snapshot.ID, d.Snapshot.FinishedAt.UTC().Format("2006-01-02 15:04 UTC"))
	for _, s := range d.Snapshot.Sources {
		state := "complete"
		if !s.Completeness.Complete {
			state = "**INCOMPLETE**: " + mdText(strings.Join(s.Completeness.Errors, "; "))
		}
		fmt.Fprintf(w, "- %s: %d records, %s\n", s.Info.Name, s.Completeness.Records, state)
	}
	fmt.Fprintf(w, "\n**%d findings**", len(facts))
	if u := d.Unknown(); u > 0 {
		fmt.Fprintf(w, " (and %d unknown because a source was incomplete)", u)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	for _, sev := range Severities {
		var n int
		for _, f := range facts {
			if f.Severity == sev {
				n++
			}
		}
		if n > 0 {
			fmt.Fprintf(w, "- %s: %d\n", sev, n)
		}
	}
	if dr := d.Drift; dr != nil {
		fmt.Fprintf(w, "\nSince snapshot %d: %d appeared, %d escalated, %d resolved, %d role changes.\n", dr.From, len(dr.Appeared), len(dr.Escalated), len(dr.Resolved), len(dr.RoleChanges))
	}
	top := facts
	if len(top) > 15 {
		top = top[:15]
	}
	if len(top) > 0 {
		fmt.Fprintln(w, "\n## Most severe")
		for _, f := range top {
			fmt.Fprintf(w, "- %s %s: %s\n", strings.ToUpper(f.Severity), f.Kind, mdText(f.Explanation))
		}
		if len(facts) > len(top) {
			fmt.Fprintf(w, "- … and %d more in the full report\n", len(facts)-len(top))
		}
	}
	return nil
}
