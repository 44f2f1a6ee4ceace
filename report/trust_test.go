package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/pipeline/pipelinetest"
	"github.com/idgraph/idgraph/report"
)

// failedSnapshot is the snapshot that follows d when every source failed,
// as the pipeline records it (docs/RULES.md, "Nothing vanishes because a
// source failed"): each of d's open findings carried as unknown, with its
// facts, its first-seen, d as the snapshot it was last confirmed in, and
// the incomplete sources that kept it from being re-checked.
func failedSnapshot(d *report.Data) *report.Data {
	sum := *d.Snapshot
	sum.ID, sum.Complete, sum.Accounts = d.Snapshot.ID+1, false, 0
	sum.StartedAt, sum.FinishedAt = d.Snapshot.StartedAt.Add(24*time.Hour), d.Snapshot.FinishedAt.Add(24*time.Hour)
	sum.Sources = nil
	failed := map[string]bool{}
	for _, s := range d.Snapshot.Sources {
		s.Completeness.Complete, s.Completeness.Records, s.Completeness.Pages = false, 0, 0
		s.Completeness.Errors = []string{s.Info.Name + ": reading the export: open " + s.Info.Name + ".csv: no such file or directory"}
		sum.Sources = append(sum.Sources, s)
		failed[s.Info.Name] = true
	}
	out := &report.Data{Snapshot: &sum, People: d.People, Version: d.Version}
	for _, f := range d.Facts() {
		f.State, f.Carried, f.LastConfirmed, f.LastSnap = diff.StateUnknown, true, d.Snapshot.ID, sum.ID
		f.Unchecked = nil
		for _, s := range f.DependsOn {
			if failed[s] {
				f.Unchecked = append(f.Unchecked, s)
			}
		}
		out.Findings = append(out.Findings, f)
	}
	sum.Findings = len(out.Findings)
	out.History = append(slices.Clone(d.History), report.Point{ID: sum.ID, At: sum.FinishedAt, Unknown: len(out.Findings)})
	return out
}

// cleanSnapshot is d with nothing to report: every account as expected.
func cleanSnapshot(d *report.Data) *report.Data {
	sum := *d.Snapshot
	sum.Findings = 0
	return &report.Data{Snapshot: &sum, Accounts: d.Accounts, People: d.People, Version: d.Version,
		History: []report.Point{{ID: sum.ID, At: sum.FinishedAt, Complete: true}}}
}

func render(t *testing.T, d *report.Data) (html, md string) {
	t.Helper()
	var h, m bytes.Buffer
	if err := report.WriteHTML(&h, d); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteMarkdown(&m, d); err != nil {
		t.Fatal(err)
	}
	return h.String(), m.String()
}

// reassuring are the words no output of a snapshot with an incomplete
// source may say.
var reassuring = regexp.MustCompile(`(?i)no findings|everything matches|every \w+ account matches|all clear`)

// text strips tags and decodes the entities the template writes, for
// assertions about what a reader sees.
func text(html string) string {
	s := regexp.MustCompile(`(?s)<style>.*?</style>|<[^>]*>`).ReplaceAllString(html, "")
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&#39;", "'", "&#34;", `"`, "&amp;", "&").Replace(s)
}

func TestReportsOfASnapshotWhoseSourcesAllFailed(t *testing.T) {
	d := snapshot(t, t.TempDir(), "")
	if len(d.Facts()) == 0 {
		t.Fatal("the quick start should have findings")
	}
	f := failedSnapshot(d)
	html, md := render(t, f)
	page := text(html)
	n := len(f.Findings)
	want := []string{
		// How many, and why: each source with its error.
		report.Plural(n, "finding", "findings") + " could not be re-checked because entra-export, okta-export and stonly were incomplete",
		"okta-export: reading the export: open okta-export.csv: no such file or directory",
		"stonly: reading the export: open stonly.csv: no such file or directory",
		"Nothing could be confirmed as a fact in this run",
		"last confirmed in snapshot 1",
	}
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("the HTML report does not say %q", w)
		}
	}
	for _, w := range []string{
		report.Plural(n, "finding", "findings") + " could not be re-checked because entra-export",
		"okta-export (okta-export: reading the export: open okta-export.csv: no such file or directory)",
		fmt.Sprintf("**0 findings** confirmed in this run; %d could not be re-checked", n),
		"## Could not be re-checked",
		"last confirmed in snapshot 1",
	} {
		if !strings.Contains(md, w) {
			t.Errorf("the Markdown summary does not say %q:\n%s", w, md)
		}
	}
	for name, out := range map[string]string{"HTML": page, "Markdown": md} {
		if m := reassuring.FindString(out); m != "" {
			t.Errorf("the %s of a snapshot whose sources failed says %q", name, m)
		}
	}
	// Each unknown finding is listed apart from the facts, named, with its
	// last-confirmed snapshot and first-seen.
	if strings.Contains(html, `id="f-`) {
		t.Error("an unknown finding is listed among the facts")
	}
	for _, u := range f.Findings {
		row := regexp.MustCompile(`(?s)<tr id="u-` + u.ID + `">.*?</tr>`).FindString(html)
		if row == "" {
			t.Errorf("unknown finding %s is not listed", u.Key)
			continue
		}
		r := text(row)
		for _, w := range []string{u.Email, "snapshot 1", u.FirstSeen.UTC().Format("2006-01-02"), "carried", report.List(u.Unchecked) + " incomplete"} {
			if !strings.Contains(r, w) {
				t.Errorf("the row of %s does not show %q: %s", u.Key, w, r)
			}
		}
		if u.Account != "" && !strings.Contains(r, u.Account) {
			t.Errorf("the row of %s does not name the account: %s", u.Key, r)
		}
	}
	// The most severe of them are on the first screen, named.
	top := f.Unknowns()[0]
	first := regexp.MustCompile(`(?s)<section id="top">.*?</section>`).FindString(html)
	if who := text(first); !strings.Contains(who, top.DisplayName+" <"+top.Email+">") || !strings.Contains(who, top.Account) {
		t.Errorf("the first screen does not name %s: %s", top.Key, who)
	}
	mdTop := "- " + strings.ToUpper(top.Severity) + " " + strings.ReplaceAll(top.Kind, "_", `\_`) + ": " + top.DisplayName + ` \<` + top.Email + `\> (` + top.Account + "), "
	if !strings.Contains(md, mdTop) {
		t.Errorf("the Markdown summary does not list %q", mdTop)
	}
}

func TestReportsOfACompleteSnapshot(t *testing.T) {
	d := snapshot(t, t.TempDir(), "")
	html, md := render(t, d)
	page := text(html)
	for name, out := range map[string]string{"HTML": page, "Markdown": md} {
		if strings.Contains(out, "could not be re-checked") || strings.Contains(out, "INCOMPLETE") {
			t.Errorf("the %s of a complete snapshot speaks of unknown findings", name)
		}
	}
	if strings.Contains(html, `id="u-`) || strings.Contains(html, `id="unknown"`) {
		t.Error("a complete snapshot has a section of findings that could not be re-checked")
	}
	// Every fact is named with person and account, on the first screen
	// (the most severe) and in the Markdown summary.
	facts := d.Facts()
	top := regexp.MustCompile(`(?s)<section id="top">.*?</section>`).FindString(html)
	for _, f := range report.Top(facts, 5) {
		w := d.WhoOf(f)
		if !strings.Contains(text(top), w.Label()) || (w.Acct() != "" && !strings.Contains(text(top), w.Acct())) {
			t.Errorf("the first screen does not name %s (%s)", f.Key, w)
		}
	}
	bob := facts[0]
	if bob.Severity != diff.SevCritical {
		t.Fatalf("the quick start's first finding is %s", bob.Severity)
	}
	line := "- CRITICAL " + bob.Kind + ": " + bob.DisplayName + ` \<` + bob.Email + `\> (` + bob.Account + "), " + bob.Explanation
	if !strings.Contains(md, line) {
		t.Errorf("the Markdown summary does not list %q:\n%s", line, md)
	}
	// IdP and app accounts are counted apart, never added together.
	counts := d.AccountCounts()
	for _, c := range counts {
		if !strings.Contains(page, c.Summary()) {
			t.Errorf("the header does not say %q", c.Summary())
		}
	}
	if strings.Contains(page, " "+strconv.Itoa(d.Snapshot.Accounts)+" accounts") {
		t.Errorf("the header adds IdP and app accounts together (%d accounts)", d.Snapshot.Accounts)
	}
	if !strings.Contains(page, "stonly: ") || !strings.Contains(page, " Stonly accounts in ") || !strings.Contains(page, "okta-export: ") {
		t.Errorf("the header does not count each source: %s", regexp.MustCompile(`(?s)<header>.*?</header>`).FindString(html))
	}

	// Nothing to report: then, and only then, it says so.
	html, md = render(t, cleanSnapshot(d))
	if !strings.Contains(text(html), "No findings: every Stonly account matches an active, assigned identity") {
		t.Error("a clean snapshot's report does not say that every account matches")
	}
	if !strings.Contains(md, "**No findings**: every Stonly account matches") {
		t.Errorf("a clean snapshot's summary does not say so:\n%s", md)
	}
}

// TestReportsOfADriftNamePeople: the drift lists name the person and the
// account of every finding and change.
func TestReportsOfADriftNamePeople(t *testing.T) {
	d := snapshot(t, t.TempDir(), "")
	facts := d.Facts()
	d.Drift = &diff.Drift{From: 1, To: d.Snapshot.ID, Appeared: facts[:2], Resolved: facts[2:3],
		RoleChanges: []diff.Change{{Account: facts[0].Account, Source: "stonly", Email: facts[0].Email, TeamName: "Support Center", From: "Member", To: "Admin"}}}
	html, md := render(t, d)
	drift := text(regexp.MustCompile(`(?s)<section id="drift">.*?</section>`).FindString(html))
	for _, f := range facts[:3] {
		w := d.WhoOf(f).String()
		if !strings.Contains(drift, w) && !strings.Contains(drift, strings.Replace(w, " ("+f.Account+")", " "+f.Account, 1)) {
			t.Errorf("the HTML drift does not name %q", w)
		}
		if !strings.Contains(md, strings.NewReplacer("<", `\<`, ">", `\>`).Replace(w)) {
			t.Errorf("the Markdown drift does not name %q", w)
		}
	}
	if !strings.Contains(drift, facts[0].DisplayName+" <"+facts[0].Email+">") || !strings.Contains(drift, "Member → Admin") {
		t.Errorf("the role change does not name the person: %s", drift)
	}
}

// TestApplicationNameComesFromData: the templates and the code name no
// application; the report says what the snapshot's sources read.
func TestApplicationNameComesFromData(t *testing.T) {
	for _, f := range []string{"report.html.tmpl", "html.go", "markdown.go", "trust.go", "data.go", "text.go", "alert/slack.go", "alert/alert.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.Index(bytes.ToLower(b), []byte("stonly")); i >= 0 {
			t.Errorf("%s names an application: %q", f, b[max(i-30, 0):min(i+30, len(b))])
		}
	}
	d := snapshot(t, t.TempDir(), "")
	c := cleanSnapshot(d)
	sum := *c.Snapshot
	sum.Sources = slices.Clone(sum.Sources)
	for i := range sum.Sources {
		if sum.Sources[i].Info.Name == "stonly" {
			sum.Sources[i].Info.App = "notion"
		}
	}
	c.Snapshot = &sum
	html, md := render(t, c)
	for _, w := range []string{"who has Notion, and who should", "every Notion account matches", "Notion accounts in"} {
		if !strings.Contains(html, w) {
			t.Errorf("the report does not say %q", w)
		}
	}
	if strings.Contains(html, "Stonly") || strings.Contains(md, "Stonly") {
		t.Error("a report of another application says Stonly")
	}
	if !strings.Contains(md, "Access review: Notion") {
		t.Errorf("the summary does not name the application:\n%s", md)
	}
}

// TestHistoryChart: a responsive SVG (a viewBox, no fixed size), with a
// legend and dates, that shows unknown findings apart.
func TestHistoryChart(t *testing.T) {
	d := snapshot(t, t.TempDir(), "")
	f := failedSnapshot(d)
	html, _ := render(t, f)
	svg := regexp.MustCompile(`(?s)<svg[^>]*>.*?</svg>`).FindString(html)
	open := regexp.MustCompile(`<svg[^>]*>`).FindString(svg)
	if !strings.Contains(open, `viewBox="0 0 `) || !strings.Contains(open, `width="100%"`) || regexp.MustCompile(`(width|height)="\d+"`).MatchString(open) {
		t.Errorf("the chart is not responsive: %s", open)
	}
	day := d.Snapshot.FinishedAt.UTC().Format("Jan 2")
	if !strings.Contains(svg, ">"+day+"<") || !strings.Contains(svg, ">#1<") || strings.Count(svg, `class="warn">!</text>`) != 1 {
		t.Errorf("the chart does not label snapshots and dates (want %q, #1 and one incomplete snapshot marked): %s", day, svg)
	}
	if !strings.Contains(svg, `class="s-unknown"`) {
		t.Error("the chart does not show the findings that could not be re-checked")
	}
	legend := regexp.MustCompile(`(?s)<ul class="legend">.*?</ul>`).FindString(html)
	for _, w := range []string{"critical", "high", "medium", "low", "info", "could not be re-checked", "a source was incomplete"} {
		if !strings.Contains(legend, w) {
			t.Errorf("the legend lacks %q", w)
		}
	}
}

// TestCSPAndPrintStyles: the page loads nothing and runs nothing, and
// prints its evidence open without navigation.
func TestCSPAndPrintStyles(t *testing.T) {
	d := snapshot(t, t.TempDir(), "")
	html, _ := render(t, d)
	if !strings.Contains(html, `content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`) || strings.Contains(html, "<script") {
		t.Error("the Content-Security-Policy changed, or the page has a script")
	}
	print := regexp.MustCompile(`(?s)@media print\{.*?\n\}`).FindString(html)
	for _, w := range []string{"nav{display:none}", "details::details-content{content-visibility:visible", ".wide{overflow:visible}"} {
		if !strings.Contains(print, w) {
			t.Errorf("the print stylesheet lacks %q", w)
		}
	}
}

// TestDriftTextNamesPeople: the CLI's drift names the address behind
// every finding and change, not only an opaque account id.
func TestDriftTextNamesPeople(t *testing.T) {
	d := snapshot(t, t.TempDir(), "")
	facts := d.Facts()
	dr := &diff.Drift{From: 1, To: 2, Appeared: facts[:1],
		StatusChanges: []diff.Change{{Account: "okta-export:00u05", Source: "okta-export", Email: "erin@acme.com", From: "ACTIVE", To: "SUSPENDED"}}}
	var b bytes.Buffer
	if err := report.DriftText(&b, dr, true); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{report.WhoOf(facts[0]).String(), "erin@acme.com (okta-export:00u05)  ACTIVE -> SUSPENDED"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("the drift does not say %q:\n%s", w, &b)
		}
	}
	// Off a terminal, nothing is cut.
	long := facts[0]
	long.Explanation = strings.Repeat("x", 300)
	for _, tt := range []struct {
		cut  bool
		want string
	}{{true, strings.Repeat("x", 160) + "…"}, {false, strings.Repeat("x", 300) + "\n"}} {
		b.Reset()
		if err := report.DriftText(&b, &diff.Drift{Appeared: []diff.Finding{long}}, tt.cut); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tt.want) {
			t.Errorf("cut=%v: %s", tt.cut, &b)
		}
	}
}

// TestFindingsExportKeepsUnknownFindings: the auditor's findings export of
// a snapshot whose sources failed still holds every carried finding,
// marked unknown, and its manifest counts them.
func TestFindingsExportKeepsUnknownFindings(t *testing.T) {
	dir := t.TempDir()
	f := failedSnapshot(snapshot(t, dir, ""))
	e, err := report.WriteExport(f, "findings", filepath.Join(dir, "findings.csv"), report.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(e.File)
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	state := slices.Index(recs[0], "state")
	if len(recs)-1 != len(f.Findings) {
		t.Fatalf("%d rows for %d carried findings", len(recs)-1, len(f.Findings))
	}
	for _, r := range recs[1:] {
		if r[state] != "unknown" {
			t.Errorf("row %v is not marked unknown", r)
		}
	}
	var m report.Manifest
	mb, _ := os.ReadFile(e.Manifest)
	if err := json.Unmarshal(mb, &m); err != nil || m.Rows != len(f.Findings) || m.UnknownRows != len(f.Findings) || m.Snapshot.Complete {
		t.Errorf("manifest %+v (%v)", m, err)
	}
}

// TestReportsAfterEverySourceFailed runs the pipeline twice over the
// quick-start exports, the second time with every export gone: the report
// of the second snapshot lists each finding of the first as not
// re-checked, named, with its last-confirmed snapshot, and says why.
func TestReportsAfterEverySourceFailed(t *testing.T) {
	q := pipelinetest.New(t)
	st := q.Store(t)
	clock := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	q.Now = func() time.Time { clock = clock.Add(time.Minute); return clock }
	first, err := q.Run(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	d1, err := report.Load(context.Background(), st, first.Snapshot.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{q.Okta, q.Entra, q.Stonly} {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	second, err := q.Run(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	d, err := report.Load(context.Background(), st, second.Snapshot.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	if d.Snapshot.Complete || len(d.Facts()) != 0 || len(d.Unknowns()) != len(d1.Facts()) {
		t.Fatalf("second snapshot: complete %v, %d facts, %d unknown; the first had %d facts",
			d.Snapshot.Complete, len(d.Facts()), len(d.Unknowns()), len(d1.Facts()))
	}
	html, md := render(t, d)
	page := text(html)
	n := report.Plural(len(d1.Facts()), "finding", "findings")
	sentences := map[string]*regexp.Regexp{
		"HTML":     regexp.MustCompile(n + ` could not be re-checked because entra-export, okta-export and stonly were incomplete`),
		"Markdown": regexp.MustCompile(n + ` could not be re-checked because entra-export \(.+\), okta-export \(.+\) and stonly \(.+\) were incomplete\.`),
	}
	for name, out := range map[string]string{"HTML": page, "Markdown": md} {
		if !sentences[name].MatchString(out) {
			t.Errorf("the %s does not say %q:\n%s", name, sentences[name], out)
		}
		if m := reassuring.FindString(out); m != "" {
			t.Errorf("the %s says %q", name, m)
		}
		for _, f := range d1.Facts() {
			if !strings.Contains(out, f.Email) {
				t.Errorf("the %s does not list %s", name, f.Key)
			}
		}
	}
	bob := d.Unknowns()[0]
	if !bob.Carried || bob.LastConfirmed != first.Snapshot.ID || !strings.Contains(md, "Bob Leaver \\<bob@acme.com\\> ("+bob.Account+")") ||
		!strings.Contains(md, fmt.Sprintf("last confirmed in snapshot %d on 2026-11-30", first.Snapshot.ID)) {
		t.Errorf("the most severe carried finding %+v is not shown with its history:\n%s", bob, md)
	}
}

// TestDriftOfTwoRunsNamesPeople: a role change read by two runs is shown
// with the person's name, found through the snapshot's accounts.
func TestDriftOfTwoRunsNamesPeople(t *testing.T) {
	q := pipelinetest.New(t)
	st := q.Store(t)
	if _, err := q.Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(q.Stonly)
	b = bytes.Replace(b, []byte("carol@acme.com,Carol Bypass,Member,"), []byte("carol@acme.com,Carol Bypass,Admin,"), 1)
	if err := os.WriteFile(q.Stonly, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := q.Run(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	d, err := report.Load(context.Background(), st, out.Snapshot.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	if d.Drift == nil || len(d.Drift.RoleChanges) != 1 {
		t.Fatalf("drift %+v: want Carol's role change", d.Drift)
	}
	html, md := render(t, d)
	want := "Carol Bypass <carol@acme.com> stonly:t-support:carol@acme.com in Support Center: Member → Admin"
	if !strings.Contains(text(html), want) {
		t.Errorf("the HTML drift does not say %q", want)
	}
	if want := `Carol Bypass \<carol@acme.com\> (stonly:t-support:carol@acme.com) in Support Center: Member → Admin`; !strings.Contains(md, want) {
		t.Errorf("the Markdown drift does not say %q:\n%s", want, md)
	}
}
