package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/review"
	"github.com/idgraph/idgraph/store"
)

// The auditor's evidence pack of a campaign (docs/RULES.md, "Review",
// "Evidence integrity"): the frozen population, the findings and accounts
// of the campaign's snapshot with their review as of a stated moment, every
// decision about the campaign's items, the remediation records, the
// campaign itself, and a manifest with the SHA-256 of every file and the
// chain head. The same campaign as of the same moment gives the same
// bytes, always: nothing in it depends on when it was written.

// Pack file names, in the order the manifest lists them.
const (
	PackPopulation   = "population.csv"
	PackItems        = "items.csv"
	PackFindings     = "findings.csv"
	PackAccounts     = "accounts.csv"
	PackDecisions    = "decisions.csv"
	PackRemediation  = "remediation.csv"
	PackCampaign     = "campaign.json"
	PackSummary      = "summary.html"
	PackManifestFile = "manifest.json"
)

// PopulationColumns is population.csv's header: every frozen account.
var PopulationColumns = []string{"campaign_id", "snapshot_id", "app", "source", "team", "team_name", "account_id", "account_key",
	"account_email", "display_name", "role", "status", "source_status", "person", "person_email", "link_reason", "item_key"}

// ItemColumns is items.csv's header: every item, its reviewer and where
// its review stood as of the pack's moment.
var ItemColumns = []string{"campaign_id", "seq", "item_kind", "item_id", "item_key", "app", "kind", "severity", "team", "email",
	"account", "actual_role", "expected_role", "reviewer", "routed_by", "state", "overdue", "decision_id", "decision", "decision_role",
	"decided_by", "decided_at", "second_reviewer", "justification"}

// PackDecisionColumns is decisions.csv's header: every decision about an
// item's key made by the pack's moment, oldest first.
var PackDecisionColumns = []string{"id", "decided_at", "item_id", "finding_key", "decision", "role", "expires", "reviewer",
	"justification", "needs_second_reviewer", "second_reviewer", "confirmed_at", "state", "snapshot_id", "in_campaign"}

// RemediationColumns is remediation.csv's header: every remediation
// action about an item's key recorded by the pack's moment.
var RemediationColumns = []string{"action_id", "decision_id", "finding_key", "app", "account_key", "op", "role", "decided_by",
	"second_reviewer", "applied_by", "started_at", "ended_at", "outcome", "detail", "proof_state", "proof_snapshot", "proof_at"}

// PackOptions configures an evidence pack.
type PackOptions struct {
	// AsOf is the moment the pack shows; zero: the campaign's sign-off,
	// or Now while it is open.
	AsOf    time.Time
	Now     time.Time
	Version string // idgraph's, for the manifest
}

// PackManifest is manifest.json.
type PackManifest struct {
	Campaign      int64            `json:"campaign"`
	Apps          []string         `json:"apps"`
	Generator     string           `json:"generator"`
	DecisionsAsOf string           `json:"decisions_as_of"`
	SignedOff     bool             `json:"signed_off"`
	Snapshot      manifestSnapshot `json:"snapshot"`
	ChainHead     string           `json:"chain_head"`
	Files         []PackFile       `json:"files"`
}

// PackFile is one file of the pack.
type PackFile struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Bytes  int    `json:"bytes"`
	Rows   int    `json:"rows,omitempty"` // CSV rows after the header
}

// campaignJSON is campaign.json.
type campaignJSON struct {
	ID          int64                       `json:"id"`
	Apps        []string                    `json:"apps"`
	Snapshot    manifestSnapshot            `json:"snapshot"`
	Routing     review.Routing              `json:"routing"`
	Due         string                      `json:"due"`
	StartedBy   string                      `json:"started_by"`
	StartedAt   string                      `json:"started_at"`
	AsOf        string                      `json:"as_of"`
	Accounts    int                         `json:"accounts"`
	Items       int                         `json:"items"`
	Progress    review.Progress             `json:"progress"`
	ByReviewer  map[string]*review.Progress `json:"by_reviewer"`
	Sources     []manifestSource            `json:"sources"`
	Reconciled  map[string]reconciled       `json:"population_by_source"`
	Signoff     *signoffJSON                `json:"signoff"`
	Remediation remediationTimes            `json:"time_to_removal"`
}

// reconciled sets the accounts frozen from a source against the records
// it read in the snapshot.
type reconciled struct {
	Frozen int `json:"frozen_accounts"`
	Read   int `json:"records_read"`
}

type signoffJSON struct {
	By       string              `json:"by"`
	At       string              `json:"at"`
	Progress review.Progress     `json:"progress"`
	Revokes  []store.RevokeState `json:"revokes"`
}

// remediationTimes is the time from a revoke decision to the read that
// confirmed the removal, over the campaign's confirmed removals.
type remediationTimes struct {
	Confirmed int    `json:"confirmed"`
	Median    string `json:"median,omitempty"`
	P95       string `json:"p95,omitempty"`
}

// BuildPack renders campaign id's evidence pack: file name -> bytes.
func BuildPack(ctx context.Context, st *store.Store, id int64, opt PackOptions) (map[string][]byte, *PackManifest, error) {
	c, err := st.Campaign(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	asOf := opt.AsOf
	if asOf.IsZero() {
		asOf = opt.Now
		if c.Signoff != nil {
			asOf = c.Signoff.At
		}
	}
	if asOf.IsZero() {
		return nil, nil, errors.New("report: an evidence pack needs the moment it shows")
	}
	asOf = asOf.UTC()
	if asOf.Before(c.StartedAt) {
		return nil, nil, fmt.Errorf("campaign %d started %s, after the moment asked for (%s): there is nothing to show then",
			id, c.StartedAt.UTC().Format(time.RFC3339), asOf.Format(time.RFC3339))
	}
	rv, err := st.ReviewCampaign(ctx, id, asOf)
	if err != nil {
		return nil, nil, err
	}
	pop, err := st.CampaignAccounts(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	d, err := Load(ctx, st, c.SnapshotID, opt.Version)
	if err != nil {
		return nil, nil, err
	}
	shown, err := LoadReview(ctx, st, d, asOf)
	if err != nil {
		return nil, nil, err
	}
	scope(d, c.Apps)

	files := map[string][]byte{}
	rows := map[string]int{}
	var err2 error
	csvFile := func(name string, header []string, recs [][]string) {
		var b bytes.Buffer
		cw, err := NewCSVWriter(&b, CSVOptions{})
		if err == nil {
			err = cw.Write(header)
		}
		for _, r := range recs {
			if err == nil {
				err = cw.Write(r)
			}
		}
		if err == nil {
			err = cw.Flush()
		}
		if err != nil && err2 == nil {
			err2 = fmt.Errorf("report: writing %s: %w", name, err)
		}
		files[name], rows[name] = b.Bytes(), len(recs)
	}
	cid := strconv.FormatInt(c.ID, 10)
	snap := strconv.FormatInt(c.SnapshotID, 10)

	var recs [][]string
	for _, p := range pop {
		recs = append(recs, []string{cid, snap, p.App, p.Source, p.Team, p.TeamName, p.ID, p.Key(), p.Email, p.DisplayName, p.Role,
			string(p.Status), p.RawStatus, p.Person, p.PersonEmail, p.LinkReason, p.ItemKey})
	}
	csvFile(PackPopulation, PopulationColumns, recs)

	recs = nil
	itemOf := map[string]string{}
	for _, it := range rv.Items {
		itemOf[it.Key] = it.ID
		f := it.Finding
		rec := []string{cid, strconv.Itoa(it.Seq), it.Kind, it.ID, it.Key, it.App, f.Kind, f.Severity, f.Team, it.Email, f.Account,
			f.ActualRole, f.ExpectedRole, it.Reviewer, it.RoutedBy, it.State, strconv.FormatBool(it.Overdue)}
		if dec := it.Decision; dec != nil {
			rec = append(rec, strconv.FormatInt(dec.ID, 10), dec.Decision, dec.Role, dec.Reviewer, utc(dec.DecidedAt), dec.ConfirmedBy, dec.Justification)
		} else {
			rec = append(rec, "", "", "", "", "", "", "")
		}
		recs = append(recs, rec)
	}
	csvFile(PackItems, ItemColumns, recs)

	for _, kind := range []string{"findings", "accounts"} {
		data, _, n, err := BuildExport(d, kind, kind+".csv", CSVOptions{Review: shown})
		if err != nil {
			return nil, nil, err
		}
		files[kind+".csv"], rows[kind+".csv"] = data, n
	}

	recs = nil
	var decs []store.Decision
	for key, h := range shown.History {
		if _, ok := itemOf[key]; ok {
			decs = append(decs, h...)
		}
	}
	sort.Slice(decs, func(i, j int) bool { return decs[i].ID < decs[j].ID })
	for _, dec := range decs {
		in := !dec.DecidedAt.Before(c.StartedAt) && !dec.DecidedAt.After(rv.End)
		recs = append(recs, []string{strconv.FormatInt(dec.ID, 10), utc(dec.DecidedAt), itemOf[dec.FindingKey], dec.FindingKey, dec.Decision, dec.Role,
			utc(dec.ExpiresAt), dec.Reviewer, dec.Justification, strconv.FormatBool(dec.NeedsSecond), dec.ConfirmedBy, utc(dec.ConfirmedAt),
			dec.State(asOf), strconv.FormatInt(dec.SnapshotID, 10), strconv.FormatBool(in)})
	}
	csvFile(PackDecisions, PackDecisionColumns, recs)

	acts, err := st.CampaignRemediations(ctx, keysOf(rv.Items), asOf)
	if err != nil {
		return nil, nil, err
	}
	recs = nil
	decidedAt := map[int64]time.Time{}
	for _, dec := range decs {
		decidedAt[dec.ID] = dec.DecidedAt
	}
	var waits []time.Duration
	for _, a := range acts {
		recs = append(recs, []string{strconv.FormatInt(a.ID, 10), strconv.FormatInt(a.DecisionID, 10), a.FindingKey, a.App, a.AccountKey, a.Op, a.Role,
			a.DecidedBy, a.ConfirmedBy, a.AppliedBy, a.StartedAt, a.EndedAt, a.Outcome, a.Detail, a.ProofState, zeroEmpty(a.ProofSnapshot), a.ProofAt})
		if t, ok := decidedAt[a.DecisionID]; ok && a.ProofState == "confirmed" {
			if at, err := time.Parse(time.RFC3339Nano, a.ProofAt); err == nil {
				waits = append(waits, at.Sub(t))
			}
		}
	}
	csvFile(PackRemediation, RemediationColumns, recs)
	if err2 != nil {
		return nil, nil, err2
	}

	ms := manifestSnapshot{ID: d.Snapshot.ID, FinishedAt: d.Snapshot.FinishedAt.UTC().Format(time.RFC3339), Complete: d.Snapshot.Complete,
		Hash: d.Snapshot.Hash, PrevHash: d.Snapshot.PrevHash}
	cj := campaignJSON{ID: c.ID, Apps: c.Apps, Snapshot: ms, Routing: c.Routing, Due: c.Due.UTC().Format(time.RFC3339), StartedBy: c.StartedBy,
		StartedAt: c.StartedAt.UTC().Format(time.RFC3339Nano), AsOf: asOf.Format(time.RFC3339Nano), Accounts: c.Accounts, Items: c.Items,
		Progress: rv.Progress, ByReviewer: rv.ByReviewer, Reconciled: map[string]reconciled{}, Remediation: times(waits)}
	for _, s := range d.Snapshot.Sources {
		cj.Sources = append(cj.Sources, manifestSource{Name: s.Info.Name, Kind: string(s.Info.Kind), Complete: s.Completeness.Complete,
			Records: s.Completeness.Records, Pages: s.Completeness.Pages, Errors: s.Completeness.Errors})
		if s.Info.Kind == collectors.KindApp && slices.Contains(c.Apps, s.Info.App) {
			cj.Reconciled[s.Info.Name] = reconciled{Read: s.Completeness.Records}
		}
	}
	for _, p := range pop {
		r := cj.Reconciled[p.Source]
		r.Frozen++
		cj.Reconciled[p.Source] = r
	}
	if rv.SignedOff {
		so := c.Signoff
		cj.Signoff = &signoffJSON{By: so.By, At: so.At.UTC().Format(time.RFC3339Nano), Progress: so.Progress, Revokes: so.Revokes}
	}
	files[PackCampaign] = indentJSON(cj)
	var sb bytes.Buffer
	if err := packSummary.Execute(&sb, map[string]any{"C": cj, "Head": shown.Head, "Generator": "idgraph " + opt.Version}); err != nil {
		return nil, nil, fmt.Errorf("report: writing %s: %w", PackSummary, err)
	}
	files[PackSummary] = sb.Bytes()

	m := &PackManifest{Campaign: c.ID, Apps: c.Apps, Generator: "idgraph " + opt.Version, DecisionsAsOf: asOf.Format(time.RFC3339Nano),
		SignedOff: rv.SignedOff, Snapshot: ms, ChainHead: shown.Head}
	for _, name := range []string{PackPopulation, PackItems, PackFindings, PackAccounts, PackDecisions, PackRemediation, PackCampaign, PackSummary} {
		sum := sha256.Sum256(files[name])
		m.Files = append(m.Files, PackFile{Name: name, SHA256: hex.EncodeToString(sum[:]), Bytes: len(files[name]), Rows: rows[name]})
	}
	files[PackManifestFile] = indentJSON(m)
	return files, m, nil
}

// scope keeps of d what concerns apps: their findings, their app
// accounts, and every IdP account (the IdP status columns).
func scope(d *Data, apps []string) {
	appOf := map[string]string{}
	idp := map[string]bool{}
	for _, s := range d.Snapshot.Sources {
		appOf[s.Info.Name] = s.Info.App
		idp[s.Info.Name] = s.Info.Kind == collectors.KindIdP
	}
	var fs []diff.Finding
	for _, f := range d.Findings {
		if slices.Contains(apps, f.App) {
			fs = append(fs, f)
		}
	}
	var accs []store.LinkedAccount
	for _, a := range d.Accounts {
		if idp[a.Source] || slices.Contains(apps, appOf[a.Source]) {
			accs = append(accs, a)
		}
	}
	d.Findings, d.Accounts = fs, accs
}

func keysOf(items []store.ItemReview) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Key
	}
	return out
}

func zeroEmpty(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// times summarises durations by their median and 95th percentile (nearest
// rank), in whole seconds.
func times(ds []time.Duration) remediationTimes {
	out := remediationTimes{Confirmed: len(ds)}
	if len(ds) == 0 {
		return out
	}
	slices.Sort(ds)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(ds))+0.999999) - 1
		return ds[min(max(i, 0), len(ds)-1)]
	}
	out.Median, out.P95 = rank(0.5).Round(time.Second).String(), rank(0.95).Round(time.Second).String()
	return out
}

func indentJSON(v any) []byte {
	b, _ := json.MarshalIndent(v, "", "  ")
	return append(b, '\n')
}

// WritePack writes campaign id's evidence pack into dir, which must not
// exist or be empty: a pack is never mixed with other files or an older
// pack. Files are mode 0600, the folder 0700.
func WritePack(ctx context.Context, st *store.Store, id int64, dir string, opt PackOptions) (*PackManifest, error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	case len(entries) > 0:
		return nil, fmt.Errorf("%w: %s is not empty (%d entries): an evidence pack goes into a new or empty folder", ErrNotEmpty, dir, len(entries))
	}
	files, m, err := BuildPack(ctx, st, id, opt)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if n == PackManifestFile {
			continue
		}
		if err := WriteFile(filepath.Join(dir, n), files[n]); err != nil {
			return nil, fmt.Errorf("writing %s: %w", filepath.Join(dir, n), err)
		}
	}
	// The manifest last: a pack with a manifest is a whole pack.
	if err := WriteFile(filepath.Join(dir, PackManifestFile), files[PackManifestFile]); err != nil {
		return nil, fmt.Errorf("writing %s: %w", filepath.Join(dir, PackManifestFile), err)
	}
	return m, nil
}

// packSummary is summary.html: the pack on one page, for the auditor to
// read; every value comes from campaign.json.
var packSummary = template.Must(template.New("summary").Funcs(template.FuncMap{"clean": func(s string) string { return Terminal(s, 300) }}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Access review campaign {{.C.ID}}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1b1f24}table{border-collapse:collapse}th,td{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}
th{font-size:12px;text-transform:uppercase;color:#57606a}.bad{color:#b42318;font-weight:600}code{font-size:12px}</style></head><body>
<h1>Access review campaign {{.C.ID}}: {{range $i, $a := .C.Apps}}{{if $i}}, {{end}}{{clean $a}}{{end}}</h1>
<p>Population frozen from snapshot {{.C.Snapshot.ID}} ({{.C.Snapshot.FinishedAt}}, hash <code>{{.C.Snapshot.Hash}}</code>) when the campaign started,
{{.C.StartedAt}}{{with .C.StartedBy}} by {{clean .}}{{end}}: {{.C.Accounts}} accounts, {{.C.Items}} items to review, due {{.C.Due}}.
Routing: {{.C.Routing.Route}}{{with .C.Routing.Reviewer}} ({{clean .}}){{end}}{{with .C.Routing.Fallback}}; fallback reviewer {{clean .}}{{end}}.</p>
<p>This page shows the review as of <strong>{{.C.AsOf}}</strong>; the evidence chain's head then was <code>{{.Head}}</code>
(check it with <code>idgraph verify --head</code>).</p>
<h2>Sign-off</h2>
{{with .C.Signoff}}<p>Signed off by <strong>{{clean .By}}</strong> on {{.At}}: {{.Progress.Decided}} of {{.Progress.Total}} items decided,
{{.Progress.Undecided}} undecided, {{.Progress.Pending}} waiting for a second reviewer, <span {{if .Progress.Overdue}}class="bad"{{end}}>{{.Progress.Overdue}} overdue</span>.</p>
{{if .Revokes}}<table><tr><th>Decision</th><th>Item</th><th>Remediation</th></tr>{{range .Revokes}}<tr><td>{{.Decision}}{{with .Role}} to {{clean .}}{{end}} ({{.DecisionID}})</td><td><code>{{clean .Key}}</code></td><td>{{clean .Remediation}}</td></tr>{{end}}</table>
{{else}}<p>No access was revoked or changed.</p>{{end}}{{else}}<p class="bad">Not signed off by this moment: the campaign was open.</p>{{end}}
<h2>Progress by reviewer</h2>
<table><tr><th>Reviewer</th><th>Items</th><th>Decided</th><th>Waiting for a second reviewer</th><th>Undecided</th><th>Overdue</th></tr>
{{range $who, $p := .C.ByReviewer}}<tr><td>{{clean $who}}</td><td>{{$p.Total}}</td><td>{{$p.Decided}}</td><td>{{$p.Pending}}</td><td>{{$p.Undecided}}</td><td>{{$p.Overdue}}</td></tr>{{end}}
<tr><th>All</th><th>{{.C.Progress.Total}}</th><th>{{.C.Progress.Decided}}</th><th>{{.C.Progress.Pending}}</th><th>{{.C.Progress.Undecided}}</th><th>{{.C.Progress.Overdue}}</th></tr></table>
<h2>Sources</h2>
<table><tr><th>Source</th><th>Kind</th><th>Complete</th><th>Records read</th><th>Accounts frozen</th></tr>
{{range .C.Sources}}<tr><td>{{clean .Name}}</td><td>{{.Kind}}</td><td>{{if .Complete}}yes{{else}}<span class="bad">no</span>{{end}}</td><td>{{.Records}}</td><td>{{if eq .Kind "app"}}{{(index $.C.Reconciled .Name).Frozen}}{{end}}</td></tr>{{end}}</table>
<h2>Time from revoke decision to confirmed removal</h2>
{{if .C.Remediation.Confirmed}}<p>{{.C.Remediation.Confirmed}} removals confirmed by a later read: median {{.C.Remediation.Median}}, 95th percentile {{.C.Remediation.P95}}.</p>
{{else}}<p>No removal has been confirmed by a later read yet.</p>{{end}}
<p>The files beside this page hold every row: population.csv, items.csv, findings.csv, accounts.csv, decisions.csv, remediation.csv, campaign.json;
manifest.json has the SHA-256 of each. Written by {{.Generator}}.</p>
</body></html>
`))

// ErrNotEmpty: the pack's folder holds files already.
var ErrNotEmpty = errors.New("folder not empty")
