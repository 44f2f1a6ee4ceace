package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/review"
	"github.com/idgraph/idgraph/store"
)

// Review is the review of a snapshot as it stood at a stated moment.
// Exports show it, so that exporting the same snapshot as of the same
// moment gives the same bytes, however many decisions came later.
type Review struct {
	AsOf time.Time
	// Head is the store's chain head at AsOf (store.HeadAsOf), which
	// `idgraph verify --head` checks later.
	Head    string
	InForce map[string]store.Decision   // by finding key
	History map[string][]store.Decision // by finding key, oldest first
	Count   int                         // decisions made by AsOf
}

// LoadReview reads the review as of asOf (zero: the snapshot's own finish
// time) and makes d show it: its decisions in force and remediations are
// those of that moment.
func LoadReview(ctx context.Context, st *store.Store, d *Data, asOf time.Time) (*Review, error) {
	if asOf.IsZero() {
		asOf = d.Snapshot.FinishedAt
	}
	asOf = asOf.UTC()
	cur, all, err := st.DecisionsAsOf(ctx, asOf)
	if err != nil {
		return nil, err
	}
	head, err := st.HeadAsOf(ctx, asOf, d.Snapshot.ID)
	if err != nil {
		return nil, err
	}
	rv := &Review{AsOf: asOf, Head: head, InForce: cur, History: map[string][]store.Decision{}, Count: len(all)}
	for i := len(all) - 1; i >= 0; i-- { // all is newest first
		rv.History[all[i].FindingKey] = append(rv.History[all[i].FindingKey], all[i])
	}
	d.Decisions = cur
	d.AsOf, d.Head = asOf, head
	present := map[string]bool{}
	for _, f := range d.Findings {
		present[f.Key] = true
	}
	d.Remediations = nil
	for i := len(all) - 1; i >= 0; i-- {
		dec := all[i]
		if dec.Decision != string(review.Revoke) || cur[dec.FindingKey].ID != dec.ID || dec.SnapshotID > d.Snapshot.ID {
			continue
		}
		// Remediated only when a later snapshot read every source in full
		// and no longer has the finding.
		d.Remediations = append(d.Remediations, Remediation{Decision: dec,
			Done: !present[dec.FindingKey] && d.Snapshot.Complete && d.Snapshot.ID > dec.SnapshotID})
	}
	return rv, nil
}

// columns are a finding's review columns of findings.csv.
func (rv *Review) columns(key string) []string {
	out := make([]string, 10)
	if rv == nil {
		return out
	}
	h := rv.History[key]
	var hist []string
	for _, d := range h {
		e := utc(d.DecidedAt) + " " + d.Decision
		if d.Role != "" {
			e += " to " + d.Role
		}
		e += " by " + d.Reviewer
		if !d.ExpiresAt.IsZero() {
			e += " until " + d.ExpiresAt.UTC().Format("2006-01-02")
		}
		switch {
		case d.ConfirmedBy != "":
			e += ", confirmed by " + d.ConfirmedBy + " " + utc(d.ConfirmedAt)
		case d.NeedsSecond:
			e += ", waiting for a second reviewer"
		}
		hist = append(hist, e+": "+d.Justification)
	}
	out[9] = strings.Join(hist, " | ")
	state := "undecided"
	if d, ok := rv.InForce[key]; ok {
		state = d.State(rv.AsOf)
		out[0], out[1], out[2], out[3], out[4], out[5] = d.Decision, d.Role, d.Reviewer, utc(d.DecidedAt), d.Justification, utc(d.ExpiresAt)
		out[6], out[7] = d.ConfirmedBy, utc(d.ConfirmedAt)
	}
	if l := review.Latest(h); l != nil && l.Pending() {
		state = l.State(rv.AsOf)
	}
	out[8] = state
	return out
}

// AccountColumns are the population export's fixed columns; one
// "<idp>_status" column per IdP source follows matched_person_email, in
// source-name order. Review columns stay empty until the review workflow
// records decisions.
var AccountColumns = []string{"snapshot_id", "snapshot_utc", "system", "team", "team_name", "account_email", "display_name",
	"role", "status", "matched_person", "matched_person_email", "link_reason"}

var accountTail = []string{"expected_role", "expected_why", "finding_kinds", "finding_ids",
	"review_decision", "review_by", "review_at", "review_justification", "review_expires", "remediation"}

// review fills the review columns from the decision on the row's findings.
func (d *Data) review(fs []diff.Finding) []string {
	for _, f := range fs {
		dec, ok := d.Decisions[f.Key]
		if !ok {
			continue
		}
		exp, rem := "", ""
		if !dec.ExpiresAt.IsZero() {
			exp = dec.ExpiresAt.UTC().Format(time.RFC3339)
		}
		if dec.Decision == "revoke" {
			rem = "pending"
		}
		return []string{dec.Decision, dec.Reviewer, dec.DecidedAt.UTC().Format(time.RFC3339), dec.Justification, exp, rem}
	}
	return []string{"", "", "", "", "", ""}
}

// Export is a written export and its manifest.
type Export struct {
	File     string
	Manifest string
	Rows     int
	SHA256   string
}

// Manifest describes an export for the auditor's file.
type Manifest struct {
	File              string            `json:"file"`
	Kind              string            `json:"kind"`
	SHA256            string            `json:"sha256"`
	Bytes             int               `json:"bytes"`
	Rows              int               `json:"rows"`
	UnknownRows       int               `json:"unknown_rows,omitempty"` // rows of findings that could not be re-checked
	RowsPerTeam       map[string]int    `json:"rows_per_team"`
	Columns           []string          `json:"columns"`
	Snapshot          manifestSnapshot  `json:"snapshot"`
	Sources           []manifestSource  `json:"sources"`
	CollectorVersions map[string]string `json:"collector_versions"`
	ConfigSHA256      string            `json:"config_sha256"`
	Generator         string            `json:"generator"`
	// DecisionsAsOf is the moment whose review decisions the export shows
	// (by default the snapshot's finish time), Decisions how many had been
	// made by then, and ChainHead the store's chain head at that moment.
	DecisionsAsOf string `json:"decisions_as_of,omitempty"`
	Decisions     *int   `json:"decisions,omitempty"`
	ChainHead     string `json:"chain_head,omitempty"`
}

type manifestSnapshot struct {
	ID         int64  `json:"id"`
	FinishedAt string `json:"finished_at_utc"`
	Complete   bool   `json:"complete"`
	Hash       string `json:"hash"`
	PrevHash   string `json:"prev_hash"`
}

type manifestSource struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Complete bool     `json:"complete"`
	Records  int      `json:"records"`
	Pages    int      `json:"pages"`
	Errors   []string `json:"errors,omitempty"`
}

// AccountsCSV renders the population: one row per app account per team,
// then one row per missing account, in a stable order, so that the same
// snapshot always gives the same bytes.
func AccountsCSV(d *Data, opt CSVOptions) ([]byte, map[string]int, []string, error) {
	idps := d.IdPs()
	cols := slices.Clone(AccountColumns)
	for _, n := range idps {
		cols = append(cols, n+"_status")
	}
	cols = append(cols, accountTail...)
	byAccount := map[string][]diff.Finding{}
	var missing []diff.Finding
	for _, f := range d.Facts() {
		if f.Kind == diff.KindMissing && f.Account == "" { // no account at all; a pending invitation has one
			missing = append(missing, f)
			continue
		}
		if f.Account != "" {
			byAccount[f.Account] = append(byAccount[f.Account], f)
		}
		if f.Kind == diff.KindDuplicate || f.Kind == diff.KindIdPConflict {
			byAccount["person:"+f.Person] = append(byAccount["person:"+f.Person], f)
		}
	}
	status := map[string]map[string]string{} // person -> idp -> status
	var apps []int
	for i, a := range d.Accounts {
		if slices.Contains(idps, a.Source) {
			if status[a.Person] == nil {
				status[a.Person] = map[string]string{}
			}
			s := a.RawStatus
			if s == "" {
				s = string(a.Status)
			}
			status[a.Person][a.Source] = s
			continue
		}
		apps = append(apps, i)
	}
	sort.SliceStable(apps, func(i, j int) bool {
		a, b := &d.Accounts[apps[i]], &d.Accounts[apps[j]]
		return a.Source+"\x00"+a.Team+"\x00"+strings.ToLower(a.Email) < b.Source+"\x00"+b.Team+"\x00"+strings.ToLower(b.Email)
	})
	sort.SliceStable(missing, func(i, j int) bool { return missing[i].Email+missing[i].Key < missing[j].Email+missing[j].Key })
	single := len(d.Apps()) <= 1
	var buf bytes.Buffer
	cw, err := NewCSVWriter(&buf, opt)
	if err != nil {
		return nil, nil, nil, err
	}
	cw.Write(cols)
	perTeam := map[string]int{}
	snapID, snapAt := fmt.Sprint(d.Snapshot.ID), d.Snapshot.FinishedAt.UTC().Format(time.RFC3339)
	idpCols := func(person string) []string {
		out := make([]string, len(idps))
		for i, n := range idps {
			out[i] = status[person][n]
			if out[i] == "" {
				out[i] = "absent"
			}
		}
		return out
	}
	for _, i := range apps {
		a := &d.Accounts[i]
		fs := append(slices.Clone(byAccount[a.Key()]), byAccount["person:"+a.Person]...)
		var kinds, ids []string
		for _, f := range fs {
			if f.Kind == diff.KindDuplicate && f.Team != a.Team {
				continue
			}
			kinds, ids = append(kinds, f.Kind), append(ids, f.ID)
		}
		p := d.People[a.Person]
		rec := []string{snapID, snapAt, a.Source, a.Team, a.TeamName, a.Email, a.DisplayName, a.Role, string(a.Status), a.Person, p.Email, a.LinkReason}
		rec = append(rec, idpCols(a.Person)...)
		role, why := ExpectedIn(p, d.AppOf(&a.Account), single)
		rec = append(rec, role, why, strings.Join(kinds, ";"), strings.Join(ids, ";"))
		rec = append(rec, d.review(fs)...)
		if err := cw.Write(rec); err != nil {
			return nil, nil, nil, err
		}
		perTeam[a.Team]++
	}
	for _, f := range missing {
		p := d.People[f.Person]
		rec := []string{snapID, snapAt, f.App, f.Team, f.TeamName, "", f.DisplayName, "", "missing", f.Person, p.Email, ""}
		rec = append(rec, idpCols(f.Person)...)
		rec = append(rec, f.ExpectedRole, f.ExpectedWhy, f.Kind, f.ID)
		rec = append(rec, d.review([]diff.Finding{f})...)
		if err := cw.Write(rec); err != nil {
			return nil, nil, nil, err
		}
		perTeam["(missing)"]++
	}
	if err := cw.Flush(); err != nil {
		return nil, nil, nil, err
	}
	return buf.Bytes(), perTeam, cols, nil
}

// FindingsCSV renders the snapshot's findings: the facts, then the
// findings that an incomplete source kept from being re-checked (state
// "unknown"), so that nothing vanishes from the evidence because a source
// failed. A snapshot whose sources were complete has facts only.
func FindingsCSV(d *Data, opt CSVOptions) ([]byte, map[string]int, []string, error) {
	var buf bytes.Buffer
	rows := append(d.Facts(), d.Unknowns()...)
	if err := WriteFindingsCSV(&buf, d.Snapshot.ID, rows, opt); err != nil {
		return nil, nil, nil, err
	}
	per := map[string]int{}
	for _, f := range rows {
		per[f.Team]++
	}
	return buf.Bytes(), per, FindingColumns, nil
}

// BuildExport renders an export of kind "accounts" or "findings" and its
// manifest (which names the file as name), the same bytes that
// WriteExport writes and the UI serves.
func BuildExport(d *Data, kind, name string, opt CSVOptions) (data, manifest []byte, rows int, err error) {
	var per map[string]int
	var cols []string
	switch kind {
	case "accounts":
		data, per, cols, err = AccountsCSV(d, opt)
	case "findings":
		data, per, cols, err = FindingsCSV(d, opt)
	default:
		return nil, nil, 0, fmt.Errorf("export kind must be accounts or findings, not %q", kind)
	}
	if err != nil {
		return nil, nil, 0, err
	}
	sum := sha256.Sum256(data)
	for _, n := range per {
		rows += n
	}
	m := Manifest{File: name, Kind: kind, SHA256: hex.EncodeToString(sum[:]), Bytes: len(data), Rows: rows,
		RowsPerTeam: per, Columns: cols, ConfigSHA256: d.Snapshot.ConfigHash, Generator: "idgraph " + d.Version,
		CollectorVersions: map[string]string{},
		Snapshot: manifestSnapshot{ID: d.Snapshot.ID, FinishedAt: d.Snapshot.FinishedAt.UTC().Format(time.RFC3339),
			Complete: d.Snapshot.Complete, Hash: d.Snapshot.Hash, PrevHash: d.Snapshot.PrevHash}}
	for _, s := range d.Snapshot.Sources {
		m.Sources = append(m.Sources, manifestSource{Name: s.Info.Name, Kind: string(s.Info.Kind), Complete: s.Completeness.Complete,
			Records: s.Completeness.Records, Pages: s.Completeness.Pages, Errors: s.Completeness.Errors})
		m.CollectorVersions[s.Info.Name] = s.Info.Version
	}
	if kind == "findings" {
		m.UnknownRows = len(d.Unknowns())
	}
	if rv := opt.Review; rv != nil {
		n := rv.Count
		m.DecisionsAsOf, m.Decisions, m.ChainHead = rv.AsOf.Format(time.RFC3339Nano), &n, rv.Head
	}
	mj, _ := json.MarshalIndent(m, "", "  ")
	return data, append(mj, '\n'), rows, nil
}

// WriteExport writes an export of kind "accounts" or "findings" to path
// with its manifest at path + ".manifest.json", both mode 0600, each
// written to a temporary file and renamed, so that no reader ever sees half
// a file.
func WriteExport(d *Data, kind, path string, opt CSVOptions) (*Export, error) {
	data, mj, rows, err := BuildExport(d, kind, filepath.Base(path), opt)
	if err != nil {
		return nil, err
	}
	if err := WriteFile(path, data); err != nil {
		return nil, err
	}
	if err := WriteFile(path+".manifest.json", mj); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	return &Export{File: path, Manifest: path + ".manifest.json", Rows: rows, SHA256: hex.EncodeToString(sum[:])}, nil
}

// WriteFile writes data to path with mode 0600 through a temporary file in
// the same folder and a rename.
func WriteFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Render writes report.html, report.md, accounts.csv and findings.csv
// (with manifests) for a snapshot into dir.
func Render(d *Data, dir string, opt CSVOptions) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var out []string
	var html, md bytes.Buffer
	if err := WriteHTML(&html, d); err != nil {
		return nil, err
	}
	if err := WriteMarkdown(&md, d); err != nil {
		return nil, err
	}
	for name, b := range map[string][]byte{"report.html": html.Bytes(), "report.md": md.Bytes()} {
		p := filepath.Join(dir, name)
		if err := WriteFile(p, b); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	for _, kind := range []string{"accounts", "findings"} {
		e, err := WriteExport(d, kind, filepath.Join(dir, kind+".csv"), opt)
		if err != nil {
			return nil, err
		}
		out = append(out, e.File, e.Manifest)
	}
	sort.Strings(out)
	return out, nil
}
