package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/graph"
	"github.com/idgraph/idgraph/review"
)

var campaignDay = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)

// campaignSnapshot is a snapshot of one application: alice (manager
// carol), bob (manager alice, an Admin the mapping does not expect) and
// carol (no manager, an Owner, also known as carol@acquired.net) in Okta
// and Stonly, and erin in Stonly only (orphaned). extra adds app accounts.
func campaignSnap(t *testing.T, at time.Time, oktaComplete bool, extra ...string) *Snapshot {
	t.Helper()
	okta := func(id, email, manager string) collectors.Account {
		a := collectors.Account{Source: "okta", ID: id, Email: email, Status: collectors.StatusActive, Manager: manager}
		a.Assign("stonly").InForce = true
		return a
	}
	stonly := func(email, role string) collectors.Account {
		return collectors.Account{Source: "stonly", ID: email, Team: "t1", TeamName: "Support", Email: email, Status: collectors.StatusActive, Role: role}
	}
	carol := okta("00u3", "carol@acme.com", "")
	carol.Addresses = []collectors.Address{{Field: "secondEmail", Value: "carol@acquired.net"}}
	accs := []collectors.Account{okta("00u1", "alice@acme.com", "Carol@acme.com"), okta("00u2", "bob@acme.com", "alice@acme.com"), carol,
		stonly("alice@acme.com", "Member"), stonly("bob@acme.com", "Admin"), stonly("carol@acme.com", "Owner"), stonly("erin@acme.com", "Member")}
	notion := false
	for _, e := range extra {
		if addr, ok := strings.CutPrefix(e, "notion:"); ok {
			notion = true
			accs = append(accs, collectors.Account{Source: "notion", ID: addr, Email: addr, Status: collectors.StatusActive, Role: "Editor"})
			continue
		}
		accs = append(accs, stonly(e, "Member"))
	}
	graph.SortAccounts(accs)
	g, err := graph.Correlate(accs, graph.Options{IdPs: map[string]bool{"okta": true}})
	if err != nil {
		t.Fatal(err)
	}
	person := func(key string) (string, string) {
		for i := range g.Accounts {
			if g.Accounts[i].Key() == key {
				return g.People[g.Links[i].Person].ID, g.Accounts[i].Email
			}
		}
		t.Fatalf("no account %s", key)
		return "", ""
	}
	finding := func(kind, sev, account, role string) diff.Finding {
		p, email := person(account)
		key := kind + "/stonly/" + account
		return diff.Finding{ID: kind[:3] + email[:3], Key: key, Kind: kind, Severity: sev, State: diff.StateOpen, App: "stonly", Team: "t1",
			Email: email, Person: p, Account: account, ActualRole: role,
			Evidence: []diff.Evidence{{Source: "stonly", Account: account, Email: email}}}
	}
	snap := &Snapshot{StartedAt: at, FinishedAt: at.Add(time.Minute), ConfigHash: "cfg", Version: "test",
		Sources: []Source{
			{Info: collectors.Info{Name: "stonly", Kind: collectors.KindApp, App: "stonly", Version: "1"}, Completeness: collectors.Completeness{Complete: true, Records: 4}},
			{Info: collectors.Info{Name: "okta", Kind: collectors.KindIdP, Version: "1"}, Completeness: collectors.Completeness{Complete: oktaComplete, Records: 3}},
		},
		Graph: g,
		Findings: []diff.Finding{
			finding(diff.KindOrphaned, diff.SevHigh, "stonly:t1:erin@acme.com", "Member"),
			finding(diff.KindRoleMismatch, diff.SevHigh, "stonly:t1:bob@acme.com", "Admin"),
		},
	}
	if notion {
		snap.Sources = append(snap.Sources, Source{Info: collectors.Info{Name: "notion", Kind: collectors.KindApp, App: "notion", Version: "1"},
			Completeness: collectors.Completeness{Complete: true}})
	}
	return snap
}

func write(t *testing.T, s *Store, snap *Snapshot) {
	t.Helper()
	if err := s.WriteSnapshot(context.Background(), snap); err != nil {
		t.Fatal(err)
	}
}

func routing(route review.Route) review.Routing {
	return review.Routing{Route: route, Owners: map[string]string{"stonly": "carol@acme.com"}, Reviewer: "alice@acme.com", Fallback: "frank@acme.com"}
}

func start(t *testing.T, s *Store, rt review.Routing) *Campaign {
	t.Helper()
	c, _, err := s.StartCampaign(context.Background(), CampaignSpec{Apps: []string{"stonly"}, Due: campaignDay.Add(7 * 24 * time.Hour),
		Routing: rt, StartedBy: "lead@acme.com", Now: campaignDay.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// reviewers maps each item's e-mail (and kind) to its reviewer.
func reviewers(t *testing.T, s *Store, id int64) map[string]string {
	t.Helper()
	items, err := s.CampaignItems(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, it := range items {
		out[it.Kind+" "+it.Email] = it.Reviewer
	}
	return out
}

func TestCampaignRoutesByRule(t *testing.T) {
	for _, tc := range []struct {
		route review.Route
		want  map[string]string
	}{
		{review.RouteOwner, map[string]string{
			"access alice@acme.com": "carol@acme.com", "finding bob@acme.com": "carol@acme.com",
			"access carol@acme.com": "frank@acme.com", // the owner's own access
			"finding erin@acme.com": "carol@acme.com"}},
		{review.RouteManager, map[string]string{
			"access alice@acme.com": "carol@acme.com", // Carol@acme.com as Okta records it
			"finding bob@acme.com":  "alice@acme.com",
			"access carol@acme.com": "frank@acme.com",   // no manager
			"finding erin@acme.com": "frank@acme.com"}}, // no IdP account at all
		{review.RouteReviewer, map[string]string{
			"access alice@acme.com": "frank@acme.com", // the reviewer's own access
			"finding bob@acme.com":  "alice@acme.com", "access carol@acme.com": "alice@acme.com", "finding erin@acme.com": "alice@acme.com"}},
	} {
		t.Run(string(tc.route), func(t *testing.T) {
			s, _ := open(t)
			write(t, s, campaignSnap(t, campaignDay, true))
			c := start(t, s, routing(tc.route))
			// Bob and erin have findings, which are their items; alice and
			// carol are reviewed as access.
			if c.Items != 4 || c.Accounts != 4 {
				t.Fatalf("campaign = %d items, %d accounts; want 4 and 4", c.Items, c.Accounts)
			}
			got := reviewers(t, s, c.ID)
			for k, want := range tc.want {
				if got[k] != want {
					t.Errorf("%s: reviewer %q, want %q (all: %v)", k, got[k], want, got)
				}
			}
		})
	}
}

func TestCampaignSelfReviewByAlias(t *testing.T) {
	s, _ := open(t)
	write(t, s, campaignSnap(t, campaignDay, true))
	rt := routing(review.RouteOwner)
	rt.Owners["stonly"] = "Carol@Acquired.net" // carol's second address
	c := start(t, s, rt)
	if got := reviewers(t, s, c.ID)["access carol@acme.com"]; got != "frank@acme.com" {
		t.Fatalf("carol's access went to %q, want the fallback", got)
	}
	_, _, err := s.DecideItem(context.Background(), Reviewing{}, c.ID, "access/stonly/stonly:t1:carol@acme.com",
		review.Request{Decision: "approve", Justification: "ok", Reviewer: "carol@acquired.net", Expires: campaignDay.Add(30 * 24 * time.Hour), Now: campaignDay.Add(2 * time.Hour)})
	if !errors.Is(err, review.ErrSelfReview) {
		t.Fatalf("carol deciding her own access through an alias: %v, want the self-review refusal", err)
	}
}

func TestCampaignWithoutReviewerRefuses(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	write(t, s, campaignSnap(t, campaignDay, true))
	rt := review.Routing{Route: review.RouteManager}
	_, _, err := s.StartCampaign(ctx, CampaignSpec{Apps: []string{"stonly"}, Routing: rt, Now: campaignDay.Add(time.Hour), Due: campaignDay.Add(48 * time.Hour)})
	if !errors.Is(err, ErrUnrouted) {
		t.Fatalf("err = %v, want ErrUnrouted", err)
	}
	for _, want := range []string{"carol@acme.com", "erin@acme.com", "fallback_reviewer", "2 of 4"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal does not say %q: %v", want, err)
		}
	}
	if cs, _ := s.Campaigns(ctx); len(cs) != 0 {
		t.Fatalf("a refused start recorded %d campaigns", len(cs))
	}
}

func TestCampaignNeedsCompleteSources(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	write(t, s, campaignSnap(t, campaignDay, false))
	_, _, err := s.StartCampaign(ctx, CampaignSpec{Apps: []string{"stonly"}, Routing: routing(review.RouteOwner), Now: campaignDay.Add(time.Hour)})
	if !errors.Is(err, ErrNoCompleteSnapshot) || !strings.Contains(err.Error(), "okta") {
		t.Fatalf("err = %v, want ErrNoCompleteSnapshot naming okta", err)
	}
	_, _, err = s.StartCampaign(ctx, CampaignSpec{Apps: []string{"notion"}, Routing: routing(review.RouteOwner), Now: campaignDay.Add(time.Hour)})
	if !errors.Is(err, ErrNoCompleteSnapshot) || !strings.Contains(err.Error(), "no source of notion") {
		t.Fatalf("err = %v, want ErrNoCompleteSnapshot naming the missing application", err)
	}
	// A complete snapshot, then an incomplete one: the campaign takes the
	// complete one and says why it passed over the newer.
	s2, _ := open(t)
	write(t, s2, campaignSnap(t, campaignDay, true))
	write(t, s2, campaignSnap(t, campaignDay.Add(24*time.Hour), false))
	c, note, err := s2.StartCampaign(ctx, CampaignSpec{Apps: []string{"stonly"}, Routing: routing(review.RouteOwner), Now: campaignDay.Add(25 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if c.SnapshotID != 1 || !strings.Contains(note, "snapshot 2: okta") {
		t.Fatalf("campaign froze snapshot %d (note %q), want 1, passing over 2", c.SnapshotID, note)
	}
}

func TestCampaignPopulationIsFrozen(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	write(t, s, campaignSnap(t, campaignDay, true))
	c := start(t, s, routing(review.RouteOwner))
	before, _ := s.CampaignItems(ctx, c.ID)
	pop, _ := s.CampaignAccounts(ctx, c.ID)
	write(t, s, campaignSnap(t, campaignDay.Add(24*time.Hour), true, "zoe@acme.com", "yan@acme.com"))
	after, err := s.CampaignItems(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	pop2, _ := s.CampaignAccounts(ctx, c.ID)
	if len(after) != len(before) || len(pop2) != len(pop) || len(pop) != 4 {
		t.Fatalf("after a later snapshot: %d items (was %d), %d accounts (was %d)", len(after), len(before), len(pop2), len(pop))
	}
	for _, p := range pop2 {
		if strings.HasPrefix(p.Email, "zoe") || strings.HasPrefix(p.Email, "yan") {
			t.Fatalf("a later snapshot's account %s entered the frozen population", p.Email)
		}
	}
	// The rows cannot be changed through SQL either.
	if _, err := s.DB().ExecContext(ctx, `UPDATE campaign_items SET reviewer = 'mallory@acme.com'`); err == nil {
		t.Fatal("an update of a frozen item was accepted")
	}
}

func TestCampaignSignoffAndReadOnly(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	write(t, s, campaignSnap(t, campaignDay, true))
	c := start(t, s, routing(review.RouteOwner))
	now := campaignDay.Add(2 * time.Hour)
	decide := func(item, kind, who string, exp time.Time) error {
		_, _, err := s.DecideItem(ctx, Reviewing{}, c.ID, item, review.Request{Decision: kind, Justification: "reviewed", Reviewer: who, Expires: exp, Now: now})
		now = now.Add(time.Minute)
		return err
	}
	if err := decide("access/stonly/stonly:t1:alice@acme.com", "approve", "carol@acme.com", now.Add(90*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := decide("orphaned/stonly/stonly:t1:erin@acme.com", "revoke", "carol@acme.com", time.Time{}); err != nil {
		t.Fatal(err)
	}
	// Revoking bob's Admin needs four eyes: pending, not decided.
	if err := decide("role_mismatch/stonly/stonly:t1:bob@acme.com", "revoke", "carol@acme.com", time.Time{}); err != nil {
		t.Fatal(err)
	}
	// A decision made before the campaign started would not count; one
	// after its due date makes nothing overdue that is decided.
	rv, err := s.ReviewCampaign(ctx, c.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if p := rv.Progress; p.Total != 4 || p.Decided != 2 || p.Pending != 1 || p.Undecided != 1 || p.Overdue != 0 {
		t.Fatalf("progress = %+v", p)
	}
	late := c.Due.Add(time.Hour)
	so, err := s.SignOff(ctx, c.ID, "Lead@acme.com", late, "")
	if err != nil {
		t.Fatal(err)
	}
	if p := so.Progress; p.Decided != 2 || p.Pending != 1 || p.Undecided != 1 || p.Overdue != 2 {
		t.Fatalf("sign-off progress = %+v, want 2 decided, 1 pending, 1 undecided, 2 overdue", p)
	}
	if len(so.Revokes) != 1 || so.Revokes[0].Remediation != "not planned" || so.Revokes[0].Key != "orphaned/stonly/stonly:t1:erin@acme.com" {
		t.Fatalf("revokes = %+v", so.Revokes)
	}
	got, _ := s.Campaign(ctx, c.ID)
	if got.Signoff == nil || got.Signoff.By != "lead@acme.com" || got.Signoff.Progress != so.Progress {
		t.Fatalf("stored sign-off = %+v", got.Signoff)
	}
	// Read-only: through the campaign, through Submit's path (Record), and
	// for the pending decision's confirmation.
	err = decide("access/stonly/stonly:t1:carol@acme.com", "approve", "frank@acme.com", late.Add(24*time.Hour))
	if !errors.Is(err, review.ErrRefused) || !strings.Contains(err.Error(), "signed off") {
		t.Fatalf("decision after sign-off: %v, want a refusal that says it is signed off", err)
	}
	if err := s.CheckCampaignOpen(ctx, "access/stonly/stonly:t1:carol@acme.com"); !errors.Is(err, review.ErrRefused) {
		t.Fatalf("CheckCampaignOpen = %v, want a refusal", err)
	}
	d := &Decision{FindingKey: "access/stonly/stonly:t1:carol@acme.com", Decision: "revoke", Justification: "x", Reviewer: "frank@acme.com", DecidedAt: late.Add(time.Minute), SnapshotID: 1}
	if err := s.Decide(ctx, d); err == nil || !strings.Contains(err.Error(), "signed-off campaign") {
		t.Fatalf("a decision recorded around the campaign after sign-off: %v, want it refused", err)
	}
	_, all, _ := s.Decisions(ctx, true)
	if err := s.Confirm(ctx, all[0].ID, "frank@acme.com", late.Add(2*time.Minute), ""); err == nil {
		t.Fatal("a confirmation after sign-off was accepted")
	}
	if _, err := s.SignOff(ctx, c.ID, "lead@acme.com", late.Add(time.Hour), ""); !errors.Is(err, review.ErrRefused) {
		t.Fatalf("a second sign-off: %v, want refused", err)
	}
	// A key outside any campaign is decided as before.
	if err := s.CheckCampaignOpen(ctx, "missing/stonly/someone"); err != nil {
		t.Fatal(err)
	}
	res := verified(t, s)
	if res.Entries != 5 { // start, 3 decisions, sign-off
		t.Fatalf("verify checked %d entries, want 5", res.Entries)
	}
	// The campaign review as it stood before the sign-off is kept.
	old, err := s.ReviewCampaign(ctx, c.ID, campaignDay.Add(2*time.Hour+30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if old.SignedOff || old.Progress.Decided != 1 {
		t.Fatalf("review as of before the second decision: %+v signed off %v", old.Progress, old.SignedOff)
	}
}

func TestCampaignTamperingIsFound(t *testing.T) {
	for _, tc := range []struct {
		name string
		sql  []string
	}{
		{"reviewer of an item changed", []string{`DROP TRIGGER campaign_items_frozen`, `UPDATE campaign_items SET reviewer = 'mallory@acme.com' WHERE seq = 0`}},
		{"account removed from the population", []string{`DROP TRIGGER campaign_accounts_kept`, `DELETE FROM campaign_accounts WHERE seq = 1`}},
		{"due date moved", []string{`UPDATE campaigns SET due_at = '2027-06-01T00:00:00Z'`}},
		{"sign-off counts edited", []string{`UPDATE campaign_signoffs SET undecided = 0`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s, _ := open(t)
			write(t, s, campaignSnap(t, campaignDay, true))
			c := start(t, s, routing(review.RouteOwner))
			if _, err := s.SignOff(ctx, c.ID, "lead@acme.com", campaignDay.Add(3*time.Hour), ""); err != nil {
				t.Fatal(err)
			}
			verified(t, s)
			for _, q := range tc.sql {
				if _, err := s.DB().ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			res, err := s.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verified() || res.BadEntry == 0 || !strings.Contains(res.Problem, "edited") {
				t.Fatalf("tampering not found: %+v", res)
			}
		})
	}
}

func TestRemediationStateWithoutRecords(t *testing.T) {
	s, _ := open(t)
	got, err := RemediationState(context.Background(), s.DB(), 42)
	if err != nil || got != "not planned" {
		t.Fatalf("RemediationState = %q, %v; want not planned", got, err)
	}
}

func TestCampaignFourEyes(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	write(t, s, campaignSnap(t, campaignDay, true))
	c := start(t, s, routing(review.RouteOwner))
	bob := "role_mismatch/stonly/stonly:t1:bob@acme.com"
	now := campaignDay.Add(2 * time.Hour)
	d, _, err := s.DecideItem(ctx, Reviewing{}, c.ID, bob, review.Request{Decision: "revoke", Justification: "not needed", Reviewer: "carol@acme.com", Now: now})
	if err != nil || !d.Pending() {
		t.Fatalf("revoking an Admin: %+v, %v; want a pending decision", d, err)
	}
	if _, _, err := s.ConfirmItem(ctx, Reviewing{}, c.ID, bob, "carol@acme.com", now.Add(time.Minute)); !errors.Is(err, review.ErrRefused) {
		t.Fatalf("the decider confirming: %v, want refused", err)
	}
	if _, _, err := s.ConfirmItem(ctx, Reviewing{}, c.ID, bob, "bob@acme.com", now.Add(time.Minute)); !errors.Is(err, review.ErrSelfReview) {
		t.Fatalf("bob confirming his own revoke: %v, want the self-review refusal", err)
	}
	if _, _, err := s.ConfirmItem(ctx, Reviewing{}, c.ID, bob, "frank@acme.com", now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	rv, err := s.ReviewCampaign(ctx, c.ID, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if rv.Progress.Decided != 1 || rv.Progress.Pending != 0 {
		t.Fatalf("after the confirmation: %+v", rv.Progress)
	}
	verified(t, s)
}

func TestCampaignRowsOutsideTheChainDoNotCount(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	write(t, s, campaignSnap(t, campaignDay, true))
	c := start(t, s, routing(review.RouteOwner))
	for _, q := range []string{
		`INSERT INTO campaigns (apps, snapshot_id, snapshot_hash, routing, due_at, started_by, started_at, accounts, items) SELECT apps, snapshot_id, snapshot_hash, routing, due_at, 'mallory', started_at, 0, 0 FROM campaigns`,
		`INSERT INTO campaign_signoffs (campaign_id, reviewer, signed_at, decided, undecided, overdue, detail) VALUES (1, 'mallory@acme.com', '2026-12-01T05:00:00Z', 4, 0, 0, '{}')`,
	} {
		if _, err := s.DB().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := s.Campaigns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].ID != c.ID || cs[0].Signoff != nil {
		t.Fatalf("campaigns = %+v, want campaign %d only, not signed off", cs, c.ID)
	}
}

func TestCampaignOfTwoApplications(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	write(t, s, campaignSnap(t, campaignDay, true, "notion:alice@acme.com", "notion:zoe@acme.com"))
	rt := routing(review.RouteOwner)
	rt.Owners["notion"] = "bob@acme.com"
	c, _, err := s.StartCampaign(ctx, CampaignSpec{Apps: []string{"notion", "stonly", "notion"}, Due: campaignDay.Add(48 * time.Hour), Routing: rt, Now: campaignDay.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Apps) != 2 || c.Accounts != 6 || c.Items != 6 {
		t.Fatalf("campaign of two apps: %+v", c)
	}
	items, _ := s.CampaignItems(ctx, c.ID)
	for _, it := range items {
		want := "carol@acme.com"
		switch {
		case it.App == "notion":
			want = "bob@acme.com"
		case it.Email == "carol@acme.com":
			want = "frank@acme.com"
		}
		if it.Reviewer != want {
			t.Errorf("%s item %s: reviewer %s, want %s", it.App, it.Email, it.Reviewer, want)
		}
	}
	// One app alone leaves the other out.
	c2, _, err := s.StartCampaign(ctx, CampaignSpec{Apps: []string{"notion"}, Due: campaignDay.Add(48 * time.Hour), Routing: rt, Now: campaignDay.Add(2 * time.Hour)})
	if err != nil || c2.Accounts != 2 || c2.Items != 2 {
		t.Fatalf("campaign of notion: %+v, %v", c2, err)
	}
}

func TestRemediationStateFollowsTheRecords(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	var n int
	if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info('remediation')`).Scan(&n); err != nil || n == 0 {
		t.Skip("the store has no remediation records yet (migration 9)")
	}
	state := func(id int64) string {
		t.Helper()
		got, err := RemediationState(ctx, s.DB(), id)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.DB().ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	if got := state(7); got != "not planned" {
		t.Fatalf("no action: %q", got)
	}
	exec(`INSERT INTO remediation (id, record, decision_id, outcome, recorded_at) VALUES (1, 'action', 7, 'failed', '2026-12-01T03:00:00Z')`)
	if got := state(7); got != "failed" {
		t.Fatalf("a failed action: %q", got)
	}
	exec(`INSERT INTO remediation (id, record, decision_id, outcome, recorded_at) VALUES (2, 'action', 7, 'done', '2026-12-01T04:00:00Z')`)
	if got := state(7); !strings.HasPrefix(got, "done, waiting") {
		t.Fatalf("a done action before the next read: %q", got)
	}
	exec(`INSERT INTO remediation (id, record, action_id, state, snapshot_id, recorded_at) VALUES (3, 'proof', 2, 'confirmed', 5, '2026-12-02T02:00:00Z')`)
	if got := state(7); got != "confirmed in snapshot 5" {
		t.Fatalf("a confirmed action: %q", got)
	}
}
