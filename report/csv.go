// Package report renders snapshots for people: the access-review report,
// auditor CSV evidence, and terminal tables.
package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/idgraph/idgraph/diff"
)

// CSVOptions configures CSV output.
type CSVOptions struct {
	BOM bool // a UTF-8 byte-order mark, so that Excel reads UTF-8
	// Review is the review as of a stated moment (LoadReview): the
	// exports show its decisions, and their manifests name the moment and
	// the chain head. Without it the review columns of findings are empty.
	Review *Review
}

// CSVWriter writes RFC 4180 CSV with CRLF line ends and cells that cannot
// be read as spreadsheet formulas.
type CSVWriter struct {
	bw *bufio.Writer
	w  *csv.Writer
}

// NewCSVWriter starts a CSV document on w.
func NewCSVWriter(w io.Writer, opt CSVOptions) (*CSVWriter, error) {
	bw := bufio.NewWriter(w)
	if opt.BOM {
		if _, err := bw.WriteString("\ufeff"); err != nil {
			return nil, err
		}
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	return &CSVWriter{bw: bw, w: cw}, nil
}

// Write writes one record, neutralising every cell.
func (c *CSVWriter) Write(rec []string) error {
	out := make([]string, len(rec))
	for i, v := range rec {
		out[i] = Cell(v)
	}
	return c.w.Write(out)
}

// Flush finishes the document.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.bw.Flush()
}

// Cell makes v safe for a spreadsheet cell: invalid UTF-8 is replaced, and
// a value that a spreadsheet would run as a formula (starting with = + - @
// tab or carriage return) is prefixed with a single quote, as OWASP
// advises; the quote shows, so nothing is hidden from the auditor.
func Cell(v string) string {
	if !utf8.ValidString(v) {
		v = strings.ToValidUTF8(v, "\uFFFD")
	}
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + v
	}
	return v
}

// FindingColumns is the findings CSV header: stable, add only at the end.
// The review_ columns show the decision in force as of the export's
// moment (review_state also names a decision that waits for its second
// reviewer), and review_history every decision made by then, oldest
// first.
var FindingColumns = []string{"snapshot_id", "id", "kind", "reason", "severity", "state", "app", "team", "team_name",
	"email", "display_name", "person", "account", "actual_role", "expected_role", "expected_why",
	"explanation", "first_seen", "first_seen_snapshot", "last_seen",
	"review_decision", "review_role", "review_by", "review_at", "review_justification", "review_expires",
	"review_second_by", "review_second_at", "review_state", "review_history"}

// WriteFindingsCSV writes findings as CSV.
func WriteFindingsCSV(w io.Writer, snapshot int64, fs []diff.Finding, opt CSVOptions) error {
	cw, err := NewCSVWriter(w, opt)
	if err != nil {
		return err
	}
	if err := cw.Write(FindingColumns); err != nil {
		return err
	}
	for _, f := range fs {
		rec := []string{fmt.Sprint(snapshot), f.ID, f.Kind, f.Reason, f.Severity, f.State, f.App, f.Team, f.TeamName,
			f.Email, f.DisplayName, f.Person, f.Account, f.ActualRole, f.ExpectedRole, f.ExpectedWhy,
			f.Explanation, utc(f.FirstSeen), fmt.Sprint(f.FirstSnap), utc(f.LastSeen)}
		if err := cw.Write(append(rec, opt.Review.columns(f.Key)...)); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// WriteFindingsJSON writes findings as a JSON array (never null).
func WriteFindingsJSON(w io.Writer, fs []diff.Finding) error {
	if fs == nil {
		fs = []diff.Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(fs)
}

func utc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Terminal makes source text safe to print on a terminal: control
// characters (escape sequences), bidirectional overrides and invalid UTF-8
// are replaced, and very long values are cut.
func Terminal(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if n == max {
			b.WriteString("…")
			break
		}
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			r = ' '
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '\u200b', r == '\ufeff':
			r = '\uFFFD'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
