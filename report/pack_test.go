package report_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/pipeline/pipelinetest"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/review"
	"github.com/idgraph/idgraph/store"
)

// packStore runs the quick start once and starts a campaign of stonly,
// every item to one reviewer.
func packStore(t *testing.T) (*store.Store, *pipelinetest.Quickstart, *store.Campaign, func() time.Time) {
	t.Helper()
	ctx := context.Background()
	q := pipelinetest.New(t)
	st := q.Store(t)
	clock := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	tick := func() time.Time { clock = clock.Add(time.Minute); return clock }
	q.Now = tick
	if _, err := q.Run(ctx, st); err != nil {
		t.Fatal(err)
	}
	c, _, err := st.StartCampaign(ctx, store.CampaignSpec{Apps: []string{"stonly"}, Due: clock.Add(7 * 24 * time.Hour), StartedBy: "lead@acme.com", Now: tick(),
		Routing: review.Routing{Route: review.RouteReviewer, Reviewer: "rita@example.com", Fallback: "fred@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	return st, q, c, tick
}

func TestEvidencePackIsReproducible(t *testing.T) {
	ctx := context.Background()
	st, q, c, tick := packStore(t)
	items, err := st.CampaignItems(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var access, finding *store.CampaignItem
	for i := range items {
		switch {
		case items[i].Kind == store.KindAccess && access == nil:
			access = &items[i]
		case items[i].Kind == "finding" && items[i].Finding.Severity != "critical" && items[i].Finding.ActualRole != "Admin" && items[i].Finding.ActualRole != "Owner" && finding == nil:
			finding = &items[i]
		}
	}
	if access == nil || finding == nil {
		t.Fatalf("the quick start's campaign needs an access item and a plain finding item: %+v", items)
	}
	decide := func(it *store.CampaignItem, kind string) {
		t.Helper()
		now := tick()
		req := review.Request{Decision: kind, Justification: "reviewed in the campaign", Reviewer: "rita@example.com", Now: now}
		if kind == "approve" {
			req.Expires = now.Add(90 * 24 * time.Hour)
		}
		if _, _, err := st.DecideItem(ctx, store.Reviewing{}, c.ID, it.Key, req); err != nil {
			t.Fatal(err)
		}
	}
	decide(access, "approve")
	decide(finding, "revoke")

	// An open campaign as of a stated moment: later decisions change nothing.
	mid := tick()
	open1, _, err := report.BuildPack(ctx, st, c.ID, report.PackOptions{AsOf: mid, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SignOff(ctx, c.ID, "lead@acme.com", tick(), ""); err != nil {
		t.Fatal(err)
	}
	signed1, m1, err := report.BuildPack(ctx, st, c.ID, report.PackOptions{Now: tick(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	// Later: a decision about a finding outside the campaign, and another
	// snapshot with a new account.
	d, err := report.Load(ctx, st, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range d.Findings {
		if f.App != "stonly" {
			continue
		}
		if err := st.CheckCampaignOpen(ctx, f.Key); err != nil {
			continue
		}
		t.Fatalf("finding %s of the campaign's app is outside the campaign", f.Key)
	}
	csv, _ := os.ReadFile(q.Stonly)
	lines := strings.Split(strings.TrimRight(string(csv), "\n"), "\n")
	extra := strings.Replace(lines[len(lines)-1], strings.Split(lines[len(lines)-1], ",")[0], "zed@acme.com", 1)
	os.WriteFile(q.Stonly, []byte(string(csv)+extra+"\n"), 0o600)
	if _, err := q.Run(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := st.Decide(ctx, &store.Decision{FindingKey: "missing/other/someone", Decision: "revoke", Justification: "later", Reviewer: "x@acme.com", DecidedAt: tick(), SnapshotID: 2}); err != nil {
		t.Fatal(err)
	}

	open2, _, err := report.BuildPack(ctx, st, c.ID, report.PackOptions{AsOf: mid, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	signed2, m2, err := report.BuildPack(ctx, st, c.ID, report.PackOptions{Now: tick(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range signed1 {
		if !bytes.Equal(b, signed2[name]) {
			t.Errorf("%s of the signed-off campaign changed after later decisions and snapshots:\n%s\n---\n%s", name, b, signed2[name])
		}
		if !bytes.Equal(open1[name], open2[name]) {
			t.Errorf("%s as of %s changed after later decisions:\n%s\n---\n%s", name, mid, open1[name], open2[name])
		}
	}
	if m1.ChainHead != m2.ChainHead || !m1.SignedOff || !strings.HasPrefix(m1.ChainHead, "s1.e4.") {
		t.Fatalf("manifest head %s / %s, signed off %v; want the head at the sign-off (snapshot 1, entry 4)", m1.ChainHead, m2.ChainHead, m1.SignedOff)
	}
	if !strings.Contains(string(open1[report.PackCampaign]), `"signoff": null`) {
		t.Fatal("the pack as of before the sign-off shows a sign-off")
	}

	// What the pack says.
	var cj struct {
		Progress review.Progress `json:"progress"`
		Signoff  *struct {
			By      string              `json:"by"`
			Revokes []store.RevokeState `json:"revokes"`
		} `json:"signoff"`
		Reconciled map[string]struct {
			Frozen int `json:"frozen_accounts"`
			Read   int `json:"records_read"`
		} `json:"population_by_source"`
	}
	if err := json.Unmarshal(signed1[report.PackCampaign], &cj); err != nil {
		t.Fatal(err)
	}
	if cj.Progress.Decided != 2 || cj.Signoff == nil || cj.Signoff.By != "lead@acme.com" || len(cj.Signoff.Revokes) != 1 ||
		cj.Signoff.Revokes[0].Remediation != "not planned" || cj.Reconciled["stonly"].Frozen == 0 {
		t.Fatalf("campaign.json = %s", signed1[report.PackCampaign])
	}
	rows := readCSV(t, signed1[report.PackDecisions])
	if len(rows) != 3 || rows[0][0] != "id" || rows[1][14] != "true" || rows[2][4] != "revoke" {
		t.Fatalf("decisions.csv = %v", rows)
	}
	pop := readCSV(t, signed1[report.PackPopulation])
	if len(pop)-1 != c.Accounts || slices.ContainsFunc(pop, func(r []string) bool { return r[8] == "zed@acme.com" }) {
		t.Fatalf("population.csv has %d accounts (campaign froze %d) or a later account", len(pop)-1, c.Accounts)
	}
	if rem := readCSV(t, signed1[report.PackRemediation]); len(rem) != 1 || rem[0][0] != "action_id" {
		t.Fatalf("remediation.csv without actions = %v, want its header only", rem)
	}
	var m report.PackManifest
	if err := json.Unmarshal(signed1[report.PackManifestFile], &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 8 || m.DecisionsAsOf == "" || m.Snapshot.Hash == "" {
		t.Fatalf("manifest = %+v", m)
	}
	for _, f := range m.Files {
		sum := sha256.Sum256(signed1[f.Name])
		if hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Errorf("manifest's SHA-256 of %s does not match the file", f.Name)
		}
	}
	if res, err := st.Verify(ctx); err != nil || !res.Verified() {
		t.Fatalf("verify after a campaign: %+v, %v", res, err)
	}
}

func TestWritePackRefusesAFolderInUse(t *testing.T) {
	ctx := context.Background()
	st, _, c, tick := packStore(t)
	dir := filepath.Join(t.TempDir(), "pack")
	m, err := report.WritePack(ctx, st, c.ID, dir, report.PackOptions{Now: tick(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(m.Files, report.PackFile{Name: report.PackManifestFile}) {
		fi, err := os.Stat(filepath.Join(dir, f.Name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v", f.Name, err, fi)
		}
	}
	if _, err := report.WritePack(ctx, st, c.ID, dir, report.PackOptions{Now: tick(), Version: "test"}); !errors.Is(err, report.ErrNotEmpty) {
		t.Fatalf("a second pack into the same folder: %v, want ErrNotEmpty", err)
	}
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
