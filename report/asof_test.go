package report_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/store"
)

// TestExportAsOfIsReproducible: an export names the moment whose
// decisions it shows, by default the snapshot's own time, and exporting
// the same snapshot as of the same moment gives the same bytes, manifest
// included, however many decisions come later. A November snapshot does
// not show December decisions unless asked to.
func TestExportAsOfIsReproducible(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d := snapshot(t, dir, "")
	st, err := store.Open(ctx, filepath.Join(dir, "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var bob, carol string
	for _, f := range d.Findings {
		switch {
		case f.Kind == "orphaned" && f.Email == "bob@acme.com":
			bob = f.Key
		case f.Kind == "unassigned" && f.Email == "carol@acme.com":
			carol = f.Key
		}
	}
	export := func(asOf time.Time) (files []string) {
		t.Helper()
		d, err := report.Load(ctx, st, d.Snapshot.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		rv, err := report.LoadReview(ctx, st, d, asOf)
		if err != nil {
			t.Fatal(err)
		}
		for _, kind := range []string{"accounts", "findings"} {
			data, m, _, err := report.BuildExport(d, kind, kind+".csv", report.CSVOptions{Review: rv})
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, string(data), string(m))
		}
		return files
	}
	decide := func(dec store.Decision) {
		t.Helper()
		dec.SnapshotID = d.Snapshot.ID
		if err := st.Decide(ctx, &dec); err != nil {
			t.Fatal(err)
		}
	}
	december := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	before := export(time.Time{})
	if !strings.Contains(before[3], `"decisions_as_of": "`+d.Snapshot.FinishedAt.UTC().Format(time.RFC3339Nano)+`"`) ||
		!strings.Contains(before[3], `"decisions": 0`) || !strings.Contains(before[3], `"chain_head": "s1.e0.`) {
		t.Fatalf("manifest does not name its moment:\n%s", before[3])
	}
	decide(store.Decision{FindingKey: bob, Decision: "revoke", Justification: "left in October", Reviewer: "alice@acme.com", DecidedAt: december, NeedsSecond: true})
	decide(store.Decision{FindingKey: carol, Decision: "exception", Justification: "service account", Reviewer: "alice@acme.com",
		DecidedAt: december.Add(time.Minute), ExpiresAt: december.AddDate(0, 3, 0)})
	if err := st.Confirm(ctx, 1, "dave@acme.com", december.Add(time.Hour), ""); err != nil {
		t.Fatal(err)
	}
	after := export(time.Time{})
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("file %d of the export of snapshot 1 as of its own time changed after later decisions:\n%s\n---\n%s", i, before[i], after[i])
		}
	}
	// As of December 1, 09:30: the revoke waits for its second reviewer.
	mid := export(december.Add(30 * time.Minute))
	findings := mid[2]
	if !strings.Contains(findings, "revoke pending confirmation") || !strings.Contains(findings, "waiting for a second reviewer: left in October") ||
		!strings.Contains(findings, "exception,,alice@acme.com,2026-12-01T09:01:00Z,service account,2027-03-01T09:00:00Z,,,exception,") {
		t.Errorf("findings.csv as of 09:30:\n%s", findings)
	}
	late := export(december.Add(2 * time.Hour))
	if !strings.Contains(late[2], "revoke,,alice@acme.com,2026-12-01T09:00:00Z,left in October,,dave@acme.com,2026-12-01T10:00:00Z,revoke pending,") ||
		!strings.Contains(late[0], "revoke,alice@acme.com,2026-12-01T09:00:00Z,left in October,,pending") ||
		!strings.Contains(late[3], `"decisions": 2`) || !strings.Contains(late[3], `"chain_head": "s1.e3.`) {
		t.Errorf("export as of 11:00:\n%s\n%s\n%s", late[0], late[2], late[3])
	}
	// Later decisions leave an export of a past moment as it was.
	decide(store.Decision{FindingKey: carol, Decision: "revoke", Justification: "no longer", Reviewer: "dave@acme.com", DecidedAt: december.Add(3 * time.Hour)})
	again := export(december.Add(2 * time.Hour))
	for i := range late {
		if !bytes.Equal([]byte(late[i]), []byte(again[i])) {
			t.Fatalf("file %d as of 11:00 changed after a later decision", i)
		}
	}
	// The head an export names verifies against the store.
	_, head, _ := strings.Cut(late[3], `"chain_head": "`)
	head, _, _ = strings.Cut(head, `"`)
	if res, err := st.VerifyWith(ctx, store.VerifyOptions{Head: head}); err != nil || !res.Verified() {
		t.Errorf("verify --head %s: %+v %v", head, res, err)
	}
}

// TestReportsStateTheirMoment: the HTML report and the Markdown summary
// say which moment's decisions they show and the evidence chain's head
// then, so that a printed report can be checked against the store.
func TestReportsStateTheirMoment(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d := snapshot(t, dir, "")
	st, err := store.Open(ctx, filepath.Join(dir, "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rv, err := report.LoadReview(ctx, st, d, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if rv.Head == "" || !d.AsOf.Equal(d.Snapshot.FinishedAt.UTC()) {
		t.Fatalf("as of %v, head %q", d.AsOf, rv.Head)
	}
	var h, m bytes.Buffer
	if err := report.WriteHTML(&h, d); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteMarkdown(&m, d); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"html": h.String(), "markdown": m.String()} {
		if !strings.Contains(out, "Decisions as of "+d.AsOf.Format("2006-01-02 15:04")) || !strings.Contains(out, rv.Head) {
			t.Errorf("the %s report does not state its moment and chain head %s", name, rv.Head)
		}
	}
}
