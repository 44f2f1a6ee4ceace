package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/pipeline/pipelinetest"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/store"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// snapshot runs the pipeline over the quick-start exports at a fixed time
// (with another Stonly export when stonlyCSV is set) and loads the result.
func snapshot(t *testing.T, dir string, stonlyCSV string) *report.Data {
	t.Helper()
	q := pipelinetest.New(t)
	q.Dir = dir
	if stonlyCSV != "" {
		q.Stonly = stonlyCSV
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	q.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	out, err := q.Run(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	d, err := report.Load(context.Background(), st, out.Snapshot.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; if the change is intended, run go test ./report -update\n--- got ---\n%s", name, got)
	}
}

func TestGoldenExports(t *testing.T) {
	dir := t.TempDir()
	d := snapshot(t, dir, "")
	st, err := store.OpenReadOnly(context.Background(), filepath.Join(dir, "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rv, err := report.LoadReview(context.Background(), st, d, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"accounts", "findings"} {
		e, err := report.WriteExport(d, kind, filepath.Join(dir, kind+".csv"), report.CSVOptions{Review: rv})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(e.File)
		golden(t, "quickstart-"+kind+".csv", b)
		m, _ := os.ReadFile(e.Manifest)
		// The snapshot hash covers measured durations; everything else in
		// the manifest is fixed by the snapshot's content.
		m = regexp.MustCompile(`"(hash|prev_hash)": "[0-9a-f]*"`).ReplaceAll(m, []byte(`"$1": "…"`))
		m = regexp.MustCompile(`"chain_head": "(s\d+\.e\d+\.)[0-9a-f]{64}"`).ReplaceAll(m, []byte(`"chain_head": "$1…"`))
		golden(t, "quickstart-"+kind+".csv.manifest.json", m)
		for _, f := range []string{e.File, e.Manifest} {
			if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %o", f, fi.Mode().Perm())
			}
		}
	}
}

func TestExportReproducibleAndRFC4180(t *testing.T) {
	dir := t.TempDir()
	d := snapshot(t, dir, "")
	a, _, _, err := report.AccountsCSV(d, report.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Reloading the same snapshot from the store gives the same bytes.
	st, _ := store.Open(context.Background(), filepath.Join(dir, "r.db"))
	defer st.Close()
	d2, _ := report.Load(context.Background(), st, d.Snapshot.ID, "test")
	b, _, _, _ := report.AccountsCSV(d2, report.CSVOptions{})
	if !bytes.Equal(a, b) {
		t.Fatal("two exports of one snapshot differ")
	}
	if !bytes.HasSuffix(a, []byte("\r\n")) || bytes.Contains(bytes.ReplaceAll(a, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("lines must end with CRLF, and only CRLF")
	}
	recs, err := csv.NewReader(bytes.NewReader(a)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[1:] {
		if len(r) != len(recs[0]) {
			t.Fatalf("ragged row %v", r)
		}
	}
	bom, _, _, _ := report.AccountsCSV(d, report.CSVOptions{BOM: true})
	if !bytes.HasPrefix(bom, []byte("\ufeff")) || !bytes.Equal(bom[3:], a) {
		t.Error("the BOM option must only prepend the byte-order mark")
	}
}

// hostile is a Stonly export full of names an attacker controls.
const hostile = "email,display_name,role,status,team,team_name\r\n" +
	"attacker@evil.com,\"<script>alert(1)</script>\",Admin,active,t1,\"<img src=x onerror=alert(2)>\"\r\n" +
	"eve@evil.com,\"=HYPERLINK(\"\"http://evil/\"\",\"\"click\"\")\",Member,active,t1,Team\r\n" +
	"mallory@evil.com,+SUM(A1:A9),Member,active,t1,Team\r\n" +
	"trudy@evil.com,@cmd,Member,active,t1,-Team\r\n" +
	"oscar@evil.com,\"\tTAB\",Member,active,t1,Team\r\n" +
	"rtl@evil.com,\"gnp.\u202eexe.txt\",Member,active,t1,Team\r\n"

func TestHostileInputIsNeutralised(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "stonly.csv")
	os.WriteFile(p, []byte(hostile), 0o600)
	d := snapshot(t, dir, p)
	var html bytes.Buffer
	if err := report.WriteHTML(&html, d); err != nil {
		t.Fatal(err)
	}
	h := html.String()
	for _, bad := range []string{"<script>alert", "<img src=x", "\u202e"} {
		if strings.Contains(h, bad) {
			t.Errorf("the HTML report contains %q unescaped", bad)
		}
	}
	if !strings.Contains(h, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the hostile name should appear escaped, as text")
	}
	if regexp.MustCompile(`(?i)(src|href|action)\s*=\s*["']?\s*(https?:)?//`).MatchString(h) || strings.Contains(h, "<link") {
		t.Error("the report must load nothing from outside")
	}
	var md bytes.Buffer
	report.WriteMarkdown(&md, d)
	if strings.Contains(md.String(), "<script>") {
		t.Error("markdown summary carries raw HTML")
	}
	for _, kind := range []string{"accounts", "findings"} {
		e, err := report.WriteExport(d, kind, filepath.Join(dir, kind+".csv"), report.CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(e.File)
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			for _, cell := range r {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("%s: cell %q could run as a formula", kind, cell)
				}
			}
		}
	}
}

func TestManifestMatchesFile(t *testing.T) {
	dir := t.TempDir()
	d := snapshot(t, dir, "")
	e, err := report.WriteExport(d, "accounts", filepath.Join(dir, "a.csv"), report.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var m report.Manifest
	b, _ := os.ReadFile(e.Manifest)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	csvBytes, _ := os.ReadFile(e.File)
	recs, _ := csv.NewReader(bytes.NewReader(csvBytes)).ReadAll()
	if m.Rows != len(recs)-1 || m.Bytes != len(csvBytes) || m.Snapshot.Hash != d.Snapshot.Hash || len(m.Sources) != 3 || m.CollectorVersions["stonly"] == "" {
		t.Errorf("manifest %+v does not describe the file (%d rows)", m, len(recs)-1)
	}
}

func TestCell(t *testing.T) {
	for in, want := range map[string]string{"=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@x": "'@x", "\tx": "'\tx", "\rx": "'\rx",
		"ok": "ok", "": "", "a=b": "a=b", "bad\xffutf8": "bad\ufffdutf8"} {
		if got := report.Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
	}
}
