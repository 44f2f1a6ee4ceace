package remediation_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/pipeline"
	"github.com/idgraph/idgraph/remediation"
	"github.com/idgraph/idgraph/report/alert"
	"github.com/idgraph/idgraph/review"
	"github.com/idgraph/idgraph/store"
)

// These tests cover the orchestration's own rules (plan, caps, freshness,
// the decider rule, proof) with in-process sources, through the real
// pipeline and a real SQLite store. The application's side is a small
// fake that keeps the members as state and an Actor that follows the
// contract of collectors.Actor; the real Actors (Stonly in Chromium, SCIM)
// are exercised end to end by cmd/idgraph's tests.

// fakeApp is an application source whose members are state.
type fakeApp struct {
	mu      sync.Mutex
	members []collectors.Account
	fail    string // non-empty: the read fails with this error
}

func (f *fakeApp) Info() collectors.Info {
	return collectors.Info{Name: "stonly", Kind: collectors.KindApp, App: "stonly", Roles: []string{"Member", "Admin", "Owner"}}
}

func (f *fakeApp) Collect(context.Context, collectors.Request) (*collectors.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != "" {
		return &collectors.Result{}, errors.New(f.fail)
	}
	return &collectors.Result{Accounts: slices.Clone(f.members), Completeness: collectors.Completeness{Complete: true, Records: len(f.members)}}, nil
}

func (f *fakeApp) find(key string) int {
	for i, m := range f.members {
		m.Source = "stonly"
		if m.Key() == key {
			return i
		}
	}
	return -1
}

// fakeActor carries out actions on a fakeApp by the contract: it re-reads
// the account first (refused when it differs, already done when gone),
// and stops the batch at a failure, skipping the rest.
type fakeActor struct {
	app   *fakeApp
	calls [][]collectors.Action
	fail  string // the e-mail whose action fails and stops the batch
	lie   bool   // answer done without changing anything
}

func (a *fakeActor) Act(_ context.Context, acts []collectors.Action) ([]collectors.ActionResult, error) {
	a.app.mu.Lock()
	defer a.app.mu.Unlock()
	a.calls = append(a.calls, acts)
	var out []collectors.ActionResult
	var stop error
	for _, act := range acts {
		r := collectors.ActionResult{ID: act.ID, Started: time.Now(), Before: []byte("before " + act.Account.Email), CaptureType: "image/png"}
		i := a.app.find(act.Account.Key())
		switch {
		case stop != nil:
			r.Outcome, r.Detail = collectors.OutcomeSkipped, "not attempted"
		case act.Account.Email == a.fail:
			r.Outcome, r.Detail = collectors.OutcomeFailed, "the page answered: something went wrong"
			stop = fmt.Errorf("removing %s: the application refused", act.Account.Email)
		case i < 0 && act.Op != collectors.OpSetRole:
			r.Outcome, r.Detail = collectors.OutcomeAlreadyDone, "already gone"
		case i < 0:
			r.Outcome, r.Detail = collectors.OutcomeRefused, "the account is gone"
		case a.app.members[i].Role != act.Account.Role || a.app.members[i].Status != act.Account.Status:
			r.Outcome, r.Detail = collectors.OutcomeRefused, fmt.Sprintf("the row changed: %s is %s now", act.Account.Email, a.app.members[i].Role)
		case a.lie:
			r.Outcome, r.Detail = collectors.OutcomeDone, "toast: done"
		case act.Op == collectors.OpSetRole:
			a.app.members[i].Role = act.Role
			r.Outcome, r.Detail = collectors.OutcomeDone, "toast: role changed"
		default:
			a.app.members = slices.Delete(a.app.members, i, i+1)
			r.Outcome, r.Detail = collectors.OutcomeDone, "toast: removed"
		}
		r.After, r.Ended = []byte("after "+act.Account.Email), time.Now()
		out = append(out, r)
	}
	return out, stop
}

type harness struct {
	t     *testing.T
	ctx   context.Context
	st    *store.Store
	dir   string
	cfg   *config.Config
	idp   []collectors.Account
	app   *fakeApp
	actor *fakeActor
}

func idpUser(email string, st collectors.Status, assigned bool, groups ...string) collectors.Account {
	a := collectors.Account{ID: strings.SplitN(email, "@", 2)[0], Email: email, Status: st, Groups: groups,
		Addresses: []collectors.Address{{Field: "login", Value: email}}}
	if assigned {
		a.Assignments = []collectors.Assignment{{App: "stonly", InForce: true, Via: []string{"direct"}}}
	}
	return a
}

func member(email, role string) collectors.Account {
	return collectors.Account{ID: "u-" + email, Team: "t1", TeamName: "Support", Email: email, Status: collectors.StatusActive, Role: role}
}

func invitation(email string) collectors.Account {
	return collectors.Account{ID: "i-" + email, Team: "t1", TeamName: "Support", Email: email, Status: collectors.StatusInvited, Role: "Member"}
}

// newHarness: an IdP and a team of 40 with a leaver who is still Admin,
// a Member who bypassed the IdP, an Admin whom the IdP expects as Member,
// and a pending invitation.
func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(dir, "idgraph.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{t: t, ctx: context.Background(), st: st, dir: dir, app: &fakeApp{},
		cfg: &config.Config{Roles: map[string][]config.RoleRule{"": {{OktaGroup: "Stonly Admins", Role: "Admin"}, {Default: "Member"}}}}}
	h.actor = &fakeActor{app: h.app}
	h.idp = []collectors.Account{
		idpUser("leaver@acme.com", collectors.StatusInactive, true, "Stonly Admins"),
		idpUser("bypass@acme.com", collectors.StatusActive, false),
		idpUser("over@acme.com", collectors.StatusActive, true),
		idpUser("invited@acme.com", collectors.StatusActive, true),
		idpUser("owner@acme.com", collectors.StatusActive, true),
	}
	h.app.members = []collectors.Account{member("leaver@acme.com", "Admin"), member("bypass@acme.com", "Member"),
		member("over@acme.com", "Admin"), invitation("invited@acme.com"), member("owner@acme.com", "Owner")}
	for i := range 35 {
		e := fmt.Sprintf("user%02d@acme.com", i)
		h.idp = append(h.idp, idpUser(e, collectors.StatusActive, true))
		h.app.members = append(h.app.members, member(e, "Member"))
	}
	return h
}

type idpSource struct{ h *harness }

func (s idpSource) Info() collectors.Info {
	return collectors.Info{Name: "okta", Kind: collectors.KindIdP}
}
func (s idpSource) Collect(context.Context, collectors.Request) (*collectors.Result, error) {
	return &collectors.Result{Accounts: slices.Clone(s.h.idp), Completeness: collectors.Completeness{Complete: true}}, nil
}

// run is one pipeline run; it returns the snapshot's id.
func (h *harness) run() int64 {
	h.t.Helper()
	srcs := []collectors.Collector{idpSource{h}, h.app}
	pol, err := pipeline.PolicyOf(h.cfg, srcs)
	if err != nil {
		h.t.Fatal(err)
	}
	out, err := pipeline.Run(h.ctx, pipeline.Options{Policy: pol, Store: h.st, Sources: srcs})
	if err != nil {
		h.t.Fatal(err)
	}
	return out.Snapshot.ID
}

func (h *harness) engine(enabled bool) *remediation.Engine {
	return &remediation.Engine{Store: h.st, Actors: map[string]collectors.Actor{"stonly": h.actor},
		Limits:     remediation.Limits{Enabled: enabled, MaxActions: 10, MaxShare: 0.5, MaxAge: 24 * time.Hour},
		CaptureDir: filepath.Join(h.dir, "captures"), ConfigFile: "idgraph.yaml"}
}

// finding returns the latest snapshot's finding about email of kind.
func (h *harness) finding(kind, email string) diff.Finding {
	h.t.Helper()
	sum, err := h.st.Get(h.ctx, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	fs, err := h.st.Findings(h.ctx, sum.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, f := range fs {
		if f.Kind == kind && f.Email == email {
			return f
		}
	}
	var have []string
	for _, f := range fs {
		have = append(have, f.Kind+" "+f.Email)
	}
	h.t.Fatalf("no %s finding about %s; have %v", kind, email, have)
	return diff.Finding{}
}

func (h *harness) decide(kind, email, decision, who, role string) *store.Decision {
	h.t.Helper()
	f := h.finding(kind, email)
	d, _, err := h.st.Submit(h.ctx, store.Reviewing{}, f.Key, review.Request{Decision: decision, Justification: "test", Reviewer: who, Role: role, Now: time.Now()})
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

func (h *harness) confirm(kind, email, who string) {
	h.t.Helper()
	if _, _, err := h.st.ConfirmFinding(h.ctx, store.Reviewing{}, h.finding(kind, email).Key, who, time.Now()); err != nil {
		h.t.Fatal(err)
	}
}

// decideAll records the four decisions of the scenario: every one in
// force (the privileged ones confirmed by a second reviewer).
func (h *harness) decideAll() {
	h.decide(diff.KindOrphaned, "leaver@acme.com", "revoke", "rita@acme.com", "")
	h.confirm(diff.KindOrphaned, "leaver@acme.com", "sam@acme.com")
	h.decide(diff.KindUnassigned, "bypass@acme.com", "revoke", "rita@acme.com", "")
	h.decide(diff.KindRoleMismatch, "over@acme.com", "modify", "rita@acme.com", "Member")
	h.confirm(diff.KindRoleMismatch, "over@acme.com", "sam@acme.com")
	h.decide(diff.KindMissing, "invited@acme.com", "revoke", "rita@acme.com", "")
}

func changes(p *remediation.Plan) []string {
	var out []string
	for _, ap := range p.Apps {
		for _, it := range ap.Items {
			s := ap.App + ": " + string(it.Op) + " " + it.Email
			if it.Role != "" {
				s += " to " + it.Role
			}
			if it.Manual != "" {
				s += " (manual)"
			}
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func TestPlanFromDecisions(t *testing.T) {
	h := newHarness(t)
	h.run()
	e := h.engine(true)
	// A privileged revoke waits for its second reviewer: not planned.
	h.decide(diff.KindOrphaned, "leaver@acme.com", "revoke", "rita@acme.com", "")
	h.decide(diff.KindUnassigned, "bypass@acme.com", "revoke", "rita@acme.com", "")
	h.decide(diff.KindRoleMismatch, "over@acme.com", "modify", "rita@acme.com", "Member")
	h.decide(diff.KindMissing, "invited@acme.com", "revoke", "rita@acme.com", "")
	p, err := e.Plan(h.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"stonly: remove bypass@acme.com", "stonly: revoke_invitation invited@acme.com"}
	if got := changes(p); !slices.Equal(got, want) {
		t.Fatalf("plan with two decisions waiting for a second reviewer = %v, want %v", got, want)
	}
	h.confirm(diff.KindOrphaned, "leaver@acme.com", "sam@acme.com")
	h.confirm(diff.KindRoleMismatch, "over@acme.com", "sam@acme.com")
	p, err = e.Plan(h.ctx, "stonly")
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"stonly: remove bypass@acme.com", "stonly: remove leaver@acme.com", "stonly: revoke_invitation invited@acme.com",
		"stonly: set_role over@acme.com to Member"}
	if got := changes(p); !slices.Equal(got, want) {
		t.Fatalf("plan = %v, want %v", got, want)
	}
	ap := p.App("stonly")
	for _, it := range ap.Items {
		if it.Email == "leaver@acme.com" {
			if it.DecidedBy != "rita@acme.com" || it.ConfirmedBy != "sam@acme.com" || it.Account.Role != "Admin" || it.DecisionID == 0 || it.DecidedAt.IsZero() {
				t.Errorf("leaver's item does not carry the decision and the account as read: %+v", it)
			}
		}
	}
	if ap.Accounts != 40 || !ap.CanAct || ap.Read.Problem != "" {
		t.Errorf("app plan: accounts %d can act %v problem %q", ap.Accounts, ap.CanAct, ap.Read.Problem)
	}
	if p2, _ := e.Plan(h.ctx, "notion"); len(p2.Apps) != 0 {
		t.Errorf("--app notion planned %v", changes(p2))
	}
	// A later approval supersedes the revoke: no longer planned.
	if _, _, err := h.st.Submit(h.ctx, store.Reviewing{}, h.finding(diff.KindUnassigned, "bypass@acme.com").Key, review.Request{Decision: "approve",
		Justification: "keeps it", Reviewer: "rita@acme.com", Expires: time.Now().Add(24 * time.Hour), Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	p, err = e.Plan(h.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := changes(p); slices.Contains(got, "stonly: remove bypass@acme.com") || len(got) != 3 {
		t.Fatalf("plan after a later approval = %v", got)
	}
	// Without an Actor, the application is planned as manual.
	manual := &remediation.Engine{Store: h.st, Limits: e.Limits, Manual: map[string]string{"stonly": "csvfile reads an export"}}
	p, err = manual.Plan(h.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if ap := p.App("stonly"); ap == nil || ap.CanAct || ap.Manual != "csvfile reads an export" || len(ap.Auto()) != 0 {
		t.Fatalf("plan without an Actor: %+v", ap)
	}
}

func records(t *testing.T, st *store.Store) []store.Action {
	t.Helper()
	acts, _, err := st.Remediations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return acts
}

func TestDryRunByDefaultAndTheKillSwitch(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.decideAll()
	res, err := h.engine(true).Apply(h.ctx, remediation.Request{Applier: "ops@acme.com"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.DryRun || res.Counts()["would run"] != 4 || len(res.Refused) != 0 {
		t.Fatalf("dry run: %+v refused %v", res.Counts(), res.Refused)
	}
	if len(h.actor.calls) != 0 || len(records(t, h.st)) != 0 {
		t.Fatalf("a dry run acted (%d calls) or recorded (%d)", len(h.actor.calls), len(records(t, h.st)))
	}
	// The kill switch: nothing runs, and the refusal names the key.
	res, err = h.engine(false).Apply(h.ctx, remediation.Request{Yes: true, Applier: "ops@acme.com"})
	if !errors.Is(err, remediation.ErrDisabled) || !strings.Contains(err.Error(), "remediation.enabled") {
		t.Fatalf("disabled apply: %v", err)
	}
	if res != nil && res.Counts()["done"] > 0 {
		t.Fatalf("a disabled apply reports actions done: %+v", res.Counts())
	}
	if len(h.actor.calls) != 0 || len(records(t, h.st)) != 0 {
		t.Fatal("a disabled apply acted")
	}
	// A dry run says what --yes would refuse, without failing.
	res, err = h.engine(false).Apply(h.ctx, remediation.Request{})
	if err != nil || len(res.Refused) == 0 {
		t.Fatalf("disabled dry run: %v %v", err, res.Refused)
	}
	// --yes needs a named reviewer.
	if _, err := h.engine(true).Apply(h.ctx, remediation.Request{Yes: true}); !errors.Is(err, remediation.ErrRefused) {
		t.Fatalf("apply without an applier: %v", err)
	}
}

func TestCapStopsTheBatchBeforeItStarts(t *testing.T) {
	cases := []struct {
		name    string
		limits  func(*remediation.Limits)
		max     int
		refusal string
	}{
		{"max_actions", func(l *remediation.Limits) { l.MaxActions = 3 }, 0, "more than the cap of 3"},
		{"--max lowers it", nil, 2, "more than the cap of 2"},
		{"--max cannot raise it", nil, 11, "can only lower the cap"},
		{"max_share", func(l *remediation.Limits) { l.MaxShare = 0.05 }, 0, "above remediation.max_share"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.run()
			h.decideAll()
			e := h.engine(true)
			if c.limits != nil {
				c.limits(&e.Limits)
			}
			_, err := e.Apply(h.ctx, remediation.Request{Yes: true, Applier: "ops@acme.com", Max: c.max})
			if !errors.Is(err, remediation.ErrRefused) || !strings.Contains(err.Error(), c.refusal) {
				t.Fatalf("apply: %v, want a refusal saying %q", err, c.refusal)
			}
			if len(h.actor.calls) != 0 || len(records(t, h.st)) != 0 {
				t.Fatal("a capped batch started")
			}
		})
	}
}

func TestStaleOrIncompleteReadRefuses(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.decideAll()
	e := h.engine(true)
	e.Now = func() time.Time { return time.Now().Add(25 * time.Hour) }
	_, err := e.Apply(h.ctx, remediation.Request{Yes: true, Applier: "ops@acme.com"})
	if !errors.Is(err, remediation.ErrRefused) || !strings.Contains(err.Error(), "older than remediation.max_age") {
		t.Fatalf("stale read: %v", err)
	}
	// The application's latest read is incomplete: actions wait, even
	// though an earlier read was complete and fresh.
	h.app.fail = "the team page did not load"
	h.run()
	_, err = h.engine(true).Apply(h.ctx, remediation.Request{Yes: true, Applier: "ops@acme.com"})
	if !errors.Is(err, remediation.ErrRefused) || !strings.Contains(err.Error(), "was incomplete") {
		t.Fatalf("incomplete read: %v", err)
	}
	if len(h.actor.calls) != 0 {
		t.Fatal("actions ran on a stale or incomplete read")
	}
}

func TestApplyConfirmAndProve(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.decideAll()
	e := h.engine(true)
	// The decider cannot apply their own decisions; everything else runs.
	res, err := e.Apply(h.ctx, remediation.Request{Yes: true, Applier: "rita@acme.com"})
	if !errors.Is(err, remediation.ErrRefused) {
		t.Fatalf("apply by the decider of every action: %v", err)
	}
	if c := res.Counts(); c["refused"] != 4 || len(h.actor.calls) != 0 {
		t.Fatalf("apply by the decider: %v, %d calls", c, len(h.actor.calls))
	}
	res, err = e.Apply(h.ctx, remediation.Request{Yes: true, Applier: "Ops@acme.com"})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Counts(); c["done"] != 4 {
		t.Fatalf("apply: %v", c)
	}
	recs := records(t, h.st)
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4", len(recs))
	}
	for _, r := range recs {
		if r.AppliedBy != "ops@acme.com" || r.DecidedBy != "rita@acme.com" || r.DecisionID == 0 || r.StartedAt.IsZero() || len(r.Captures) != 2 {
			t.Errorf("record %+v", r)
		}
		for _, c := range r.Captures {
			if b, err := os.ReadFile(c.File); err != nil || !strings.Contains(string(b), r.Email) || len(c.SHA256) != 64 {
				t.Errorf("capture %+v: %v", c, err)
			}
		}
	}
	// Until the next read, they are pending, and not planned again.
	status, err := remediation.StatusOf(h.ctx, h.st, "")
	if err != nil {
		t.Fatal(err)
	}
	if status.Counts()[remediation.StatePending] != 4 {
		t.Fatalf("status before the next read: %v", status.Counts())
	}
	if p, _ := e.Plan(h.ctx, ""); p.Items(false) != 0 || len(p.Unplanned) < 4 {
		t.Fatalf("pending actions planned again: %v", changes(p))
	}
	// A read of the application before the actions ended proves nothing;
	// the next complete one does.
	snap := h.run()
	cr, err := remediation.Confirm(h.ctx, h.st, snap)
	if err != nil {
		t.Fatal(err)
	}
	if len(cr.Confirmed) != 4 || len(cr.Unconfirmed) != 0 {
		t.Fatalf("confirm: %d confirmed, %d unconfirmed: %+v", len(cr.Confirmed), len(cr.Unconfirmed), cr.Unconfirmed)
	}
	status, _ = remediation.StatusOf(h.ctx, h.st, "stonly")
	if status.Counts()[remediation.StateConfirmed] != 4 || len(status.Times) != 1 || status.Times[0].Confirmed != 4 || status.Times[0].P95 <= 0 ||
		status.Times[0].Median > status.Times[0].P95 {
		t.Fatalf("status after the next read: %v %+v", status.Counts(), status.Times)
	}
	for _, a := range status.Actions {
		if a.Proof == nil || a.Proof.SnapshotID != snap {
			t.Errorf("action %d: proof %+v", a.ID, a.Proof)
		}
	}
	// Confirming again records nothing new.
	if cr, _ := remediation.Confirm(h.ctx, h.st, snap); len(cr.Confirmed)+len(cr.Unconfirmed) != 0 {
		t.Fatal("a second confirmation recorded proofs again")
	}
	if v, err := h.st.Verify(h.ctx); err != nil || !v.Verified() {
		t.Fatalf("verify: %+v %v", v, err)
	}
}

func TestUnconfirmedAndWaiting(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.decideAll()
	h.actor.lie = true // the application says done and changes nothing
	if _, err := h.engine(true).Apply(h.ctx, remediation.Request{Yes: true, Applier: "ops@acme.com"}); err != nil {
		t.Fatal(err)
	}
	// An incomplete read proves nothing: still pending.
	h.app.fail = "timeout"
	snap := h.run()
	cr, err := remediation.Confirm(h.ctx, h.st, snap)
	if err != nil {
		t.Fatal(err)
	}
	if cr.Waiting != 4 || len(cr.Confirmed)+len(cr.Unconfirmed) != 0 {
		t.Fatalf("confirm on an incomplete read: %+v", cr)
	}
	h.app.fail = ""
	snap = h.run()
	if cr, err = remediation.ConfirmWith(h.ctx, h.st, snap, remediation.ConfirmOptions{Sinks: []alert.Sink{namedSink("webhook")}}); err != nil {
		t.Fatal(err)
	}
	// The alert waits in the outbox for the run's delivery.
	pending, err := h.st.Pending(h.ctx)
	if err != nil || len(pending) != 1 || pending[0].Sink != "webhook" || pending[0].SnapshotID != snap ||
		!strings.Contains(pending[0].Payload, remediation.ChangeUnconfirmed) {
		t.Fatalf("outbox after unconfirmed actions: %+v %v", pending, err)
	}
	if len(cr.Unconfirmed) != 4 {
		t.Fatalf("confirm after a lie: %+v", cr)
	}
	for _, u := range cr.Unconfirmed {
		if !strings.Contains(u.Proof.Detail, "still shows") && !strings.Contains(u.Proof.Detail, "not Member") {
			t.Errorf("unconfirmed detail: %q", u.Proof.Detail)
		}
	}
	// Unconfirmed actions are planned again, with their last attempt.
	p, _ := h.engine(true).Plan(h.ctx, "")
	if p.Items(true) != 4 {
		t.Fatalf("after unconfirmed actions the plan is %v", changes(p))
	}
	for _, it := range p.Apps[0].Items {
		if it.Last == nil || it.Last.Outcome != "unconfirmed" {
			t.Errorf("item %s: last attempt %+v", it.ID, it.Last)
		}
	}
	a := remediation.AlertOf(cr, nil)
	if a == nil || len(a.Findings) != 4 || a.Findings[0].Change != "remediation unconfirmed" {
		t.Fatalf("alert of unconfirmed actions: %+v", a)
	}
}

func TestFailureMidBatchAndRowChanged(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.decideAll()
	// The row changed since the decision: refused, and the batch goes on.
	h.app.mu.Lock()
	h.app.members[h.app.find("stonly:t1:u-bypass@acme.com")].Role = "Admin"
	h.app.mu.Unlock()
	// The third action (sorted by e-mail: bypass, invited, leaver, over)
	// fails and stops the batch.
	h.actor.fail = "leaver@acme.com"
	res, err := h.engine(true).Apply(h.ctx, remediation.Request{Yes: true, Applier: "ops@acme.com"})
	if !errors.Is(err, remediation.ErrStopped) || !strings.Contains(err.Error(), "the application refused") {
		t.Fatalf("apply with a failure: %v", err)
	}
	got := map[string]string{}
	for _, r := range records(t, h.st) {
		got[r.Email] = r.Outcome
	}
	want := map[string]string{"bypass@acme.com": "refused", "invited@acme.com": "done", "leaver@acme.com": "failed", "over@acme.com": "skipped"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("records %v, want %v", got, want)
	}
	if res.Batches[0].Stopped == "" {
		t.Error("the batch is not reported as stopped")
	}
	// The next read confirms the one carried out; the others are planned
	// again.
	snap := h.run()
	cr, err := remediation.Confirm(h.ctx, h.st, snap)
	if err != nil || len(cr.Confirmed) != 1 || cr.Confirmed[0].Action.Email != "invited@acme.com" {
		t.Fatalf("confirm: %+v %v", cr, err)
	}
	p, _ := h.engine(true).Plan(h.ctx, "")
	if got := changes(p); len(got) != 2 {
		// bypass's finding is now a role_mismatch? It is still unassigned
		// (its revoke stays in force); leaver failed; over skipped.
		t.Logf("plan after the failure: %v", got)
	}
	if p.Items(true) < 2 {
		t.Fatalf("failed and skipped actions are not planned again: %v", changes(p))
	}
}

func TestChainEntriesAndATamperedRecord(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.decideAll()
	if _, err := h.engine(true).Apply(h.ctx, remediation.Request{Yes: true, Applier: "ops@acme.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := remediation.Confirm(h.ctx, h.st, h.run()); err != nil {
		t.Fatal(err)
	}
	v, err := h.st.Verify(h.ctx)
	if err != nil || !v.Verified() || v.Entries < 6+8 {
		t.Fatalf("verify: %+v %v", v, err)
	}
	for _, c := range []struct{ name, sql, want string }{
		{"rewritten unchanged", `UPDATE remediation SET outcome = outcome`, ""},
		{"applier edited", `UPDATE remediation SET applied_by = 'nobody@acme.com' WHERE id = (SELECT MIN(id) FROM remediation)`, "edited"},
		{"proof deleted", `DELETE FROM remediation WHERE record = 'proof' AND id = (SELECT MAX(id) FROM remediation)`, "deleted"},
	} {
		if _, err := h.st.DB().ExecContext(h.ctx, c.sql); err != nil {
			t.Fatal(c.name, err)
		}
		v, err := h.st.Verify(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.want == "" {
			if !v.Verified() {
				t.Fatalf("%s (no change): %s", c.name, v.Problem)
			}
			continue
		}
		if v.Verified() || !strings.Contains(v.Problem, c.want) {
			t.Fatalf("%s: verify says %q", c.name, v.Problem)
		}
		break // the first problem is what verify reports
	}
}

// namedSink is a sink that is only ever queued for, never sent to.
type namedSink string

func (s namedSink) Name() string { return string(s) }
func (s namedSink) Send(context.Context, *alert.Alert, int64) error {
	return errors.New("not delivered in this test")
}

// TestPlanSkipsWhatCannotOrNeedNotRun: a role change of an invitation is
// manual (an invitation has no role to change), a decision whose finding
// is resolved plans nothing and says why.
func TestPlanSkipsWhatCannotOrNeedNotRun(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.decide(diff.KindMissing, "invited@acme.com", "modify", "rita@acme.com", "Admin")
	h.confirm(diff.KindMissing, "invited@acme.com", "sam@acme.com")
	h.decide(diff.KindUnassigned, "bypass@acme.com", "revoke", "rita@acme.com", "")
	p, err := h.engine(true).Plan(h.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"stonly: remove bypass@acme.com", "stonly: set_role invited@acme.com to Admin (manual)"}
	if got := changes(p); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("plan = %v, want %v", got, want)
	}
	// Bypass leaves by hand; the next read resolves the finding.
	h.app.mu.Lock()
	h.app.members = slices.DeleteFunc(h.app.members, func(a collectors.Account) bool { return a.Email == "bypass@acme.com" })
	h.app.mu.Unlock()
	h.run()
	if p, err = h.engine(true).Plan(h.ctx, ""); err != nil {
		t.Fatal(err)
	}
	if got := changes(p); len(got) != 1 || len(p.Unplanned) != 1 || !strings.Contains(p.Unplanned[0].Why, "resolved") {
		t.Fatalf("plan after the account left: %v, unplanned %+v", got, p.Unplanned)
	}
	res, err := h.engine(true).Apply(h.ctx, remediation.Request{Yes: true, Applier: "ops@acme.com"})
	if err != nil || res.Counts()["manual"] != 1 || len(h.actor.calls) != 0 {
		t.Fatalf("apply of a manual item: %v %v, %d calls", res.Counts(), err, len(h.actor.calls))
	}
}

// TestActionCarriesTheAccountAsDecided: a read between the decision and
// the apply that shows another role is said in the plan, and the action
// still carries the account as the decision saw it, so that the source
// refuses it.
func TestActionCarriesTheAccountAsDecided(t *testing.T) {
	h := newHarness(t)
	h.run()
	h.decide(diff.KindUnassigned, "bypass@acme.com", "revoke", "rita@acme.com", "")
	h.app.mu.Lock()
	h.app.members[h.app.find("stonly:t1:u-bypass@acme.com")].Role = "Admin"
	h.app.mu.Unlock()
	h.run()
	p, err := h.engine(true).Plan(h.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Items(true) != 1 {
		t.Fatalf("plan: %v", changes(p))
	}
	it := p.Apps[0].Items[0]
	if it.Account.Role != "Member" || !strings.Contains(it.Changed, "changed since the decision") {
		t.Fatalf("item: role %s, changed %q", it.Account.Role, it.Changed)
	}
	res, err := h.engine(true).Apply(h.ctx, remediation.Request{Yes: true, Applier: "ops@acme.com"})
	if err != nil || res.Counts()["refused"] != 1 {
		t.Fatalf("apply: %v %v", res.Counts(), err)
	}
	if acts := records(t, h.st); len(acts) != 1 || acts[0].Outcome != "refused" || !strings.Contains(acts[0].Detail, "row changed") {
		t.Fatalf("records: %+v", acts)
	}
}
