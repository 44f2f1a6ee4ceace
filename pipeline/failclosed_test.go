package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/store"
)

// These tests cover the pipeline's own rules (carrying findings, the part
// guard, the source deadline) with in-process sources that return fixed
// results, against a real SQLite store. The same rules are exercised end to
// end through the simulators, the real SDKs and Chromium by
// cmd/idgraph's TestFaultInjection.

// fixed is a source that returns what its func says.
type fixed struct {
	info collectors.Info
	read func(ctx context.Context) (*collectors.Result, error)
}

func (f *fixed) Info() collectors.Info { return f.info }
func (f *fixed) Collect(ctx context.Context, _ collectors.Request) (*collectors.Result, error) {
	return f.read(ctx)
}

func complete(accs ...collectors.Account) func(context.Context) (*collectors.Result, error) {
	return func(context.Context) (*collectors.Result, error) {
		return &collectors.Result{Accounts: accs, Completeness: collectors.Completeness{Complete: true}}, nil
	}
}

func failing(msg string) func(context.Context) (*collectors.Result, error) {
	return func(context.Context) (*collectors.Result, error) {
		return &collectors.Result{}, errors.New(msg)
	}
}

func oktaUser(id, email string, st collectors.Status, assigned bool) collectors.Account {
	return collectors.Account{ID: id, Email: email, Status: st, RawStatus: strings.ToUpper(string(st)),
		Assignments: []collectors.Assignment{{InForce: assigned, Via: []string{"direct"}}}, Addresses: []collectors.Address{{Field: "login", Value: email}}}
}

func member(team, email, role string) collectors.Account {
	return collectors.Account{ID: email, Team: team, TeamName: "Team " + team, Email: email, Status: collectors.StatusActive, Role: role}
}

type harness struct {
	t     *testing.T
	st    *store.Store
	pol   Policy
	okta  *fixed
	entra *fixed
	app   *fixed
}

func newHarness(t *testing.T) *harness {
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "idgraph.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &harness{t: t, st: st,
		pol: Policy{Apps: map[string]diff.App{"stonly": {Name: "stonly", Ladder: []string{"Member", "Admin", "Owner"},
			Rules: []diff.RoleRule{{Default: true, Role: "Member"}}}}},
		okta:  &fixed{info: collectors.Info{Name: "okta", Kind: collectors.KindIdP}},
		entra: &fixed{info: collectors.Info{Name: "entra", Kind: collectors.KindIdP}},
		app:   &fixed{info: collectors.Info{Name: "stonly", Kind: collectors.KindApp, App: "stonly"}},
	}
}

func (h *harness) run(opts ...func(*Options)) *Outcome {
	h.t.Helper()
	o := Options{Policy: h.pol, Store: h.st, Sources: []collectors.Collector{h.okta, h.entra, h.app}}
	for _, f := range opts {
		f(&o)
	}
	out, err := Run(context.Background(), o)
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

func byKey(fs []diff.Finding) map[string]diff.Finding {
	m := map[string]diff.Finding{}
	for _, f := range fs {
		m[f.Key] = f
	}
	return m
}

// TestNothingVanishes: a leaver who is still a Stonly Admin is a critical
// finding. When the sources fail, the finding is carried as unknown with
// its last known facts, first-seen and last-confirmed snapshot, through
// any number of failed runs; a complete run that no longer sees it
// resolves it.
func TestNothingVanishes(t *testing.T) {
	h := newHarness(t)
	bob := oktaUser("00u2", "bob@acme.com", collectors.StatusInactive, false)
	amy := oktaUser("00u1", "amy@acme.com", collectors.StatusActive, true)
	h.okta.read = complete(bob, amy)
	h.entra.read = complete()
	h.app.read = complete(member("t1", "bob@acme.com", "Admin"), member("t1", "amy@acme.com", "Member"))
	first := h.run()
	orphan := "orphaned/stonly/stonly:t1:bob@acme.com"
	f0, ok := byKey(first.Snapshot.Findings)[orphan]
	if !ok || f0.State != diff.StateOpen || f0.Severity != diff.SevCritical {
		t.Fatalf("first run: %+v", first.Snapshot.Findings)
	}

	steps := []struct {
		name      string
		okta, app func(context.Context) (*collectors.Result, error)
		unchecked []string
	}{
		{"okta fails", failing("okta: Okta answered 500 on /api/v1/users"), h.app.read, []string{"okta"}},
		{"every source fails", failing("okta: connection refused"), failing("stonly: connection refused"), []string{"stonly", "okta"}},
		{"stonly fails", h.okta.read, failing("stonly: layout changed"), []string{"stonly"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			h.okta.read, h.app.read = s.okta, s.app
			if s.name == "every source fails" {
				h.entra.read = failing("entra: connection refused")
				defer func() { h.entra.read = complete() }()
			}
			out := h.run()
			f, ok := byKey(out.Snapshot.Findings)[orphan]
			if !ok {
				t.Fatalf("the leaver's finding vanished: %+v", out.Snapshot.Findings)
			}
			if f.State != diff.StateUnknown || !f.Carried || f.LastConfirmed != first.Snapshot.ID ||
				f.FirstSnap != first.Snapshot.ID || f.Severity != diff.SevCritical || f.Explanation != f0.Explanation {
				t.Errorf("carried finding: %+v", f)
			}
			for _, u := range s.unchecked {
				if !slices.Contains(f.Unchecked, u) {
					t.Errorf("unchecked %v lacks %s", f.Unchecked, u)
				}
			}
			for _, f := range out.Snapshot.Findings {
				if f.State == diff.StateOpen {
					for _, d := range f.DependsOn {
						for _, src := range out.Snapshot.Sources {
							if src.Info.Name == d && !src.Completeness.Complete {
								t.Errorf("%s is a fact but depends on incomplete %s", f.Key, d)
							}
						}
					}
				}
			}
			// The stored snapshot says the same as the one in memory.
			stored, err := h.st.Findings(context.Background(), out.Snapshot.ID)
			if err != nil {
				t.Fatal(err)
			}
			if g := byKey(stored)[orphan]; !g.Carried || g.LastConfirmed != first.Snapshot.ID {
				t.Errorf("stored: %+v", g)
			}
		})
	}

	// Bob is removed from Stonly and every source reads: resolved.
	h.okta.read = complete(bob, amy)
	h.app.read = complete(member("t1", "amy@acme.com", "Member"))
	out := h.run(func(o *Options) { o.AcceptDrop = []string{"stonly"} }) // 2 accounts to 1
	if _, ok := byKey(out.Snapshot.Findings)[orphan]; ok || len(out.Incomplete) > 0 {
		t.Errorf("after a complete run without bob: %+v %v", out.Snapshot.Findings, out.Incomplete)
	}
}

// TestPersonIDsAndKeysSurviveAFailedIdP: a person known to both IdPs keeps
// their ID when one fails, so the carried finding is the same finding (one
// key, no twin), and review decisions keep following it.
func TestPersonIDsAndKeysSurviveAFailedIdP(t *testing.T) {
	h := newHarness(t)
	cat := oktaUser("00u9", "cat@acme.com", collectors.StatusActive, true)
	catE := collectors.Account{ID: "e1", Email: "cat@acme.com", Status: collectors.StatusActive,
		Assignments: []collectors.Assignment{{InForce: true, Via: []string{"direct"}}}}
	h.okta.read = complete(cat)
	h.entra.read = complete(catE)
	h.app.read = complete()
	first := h.run()
	var key string
	for _, f := range first.Snapshot.Findings {
		if f.Kind == diff.KindMissing {
			key = f.Key
		}
	}
	if key != "missing/stonly/entra:e1" {
		t.Fatalf("first run: %+v", first.Snapshot.Findings)
	}
	h.entra.read = failing("entra: AADSTS7000215: invalid client secret")
	out := h.run()
	var keys []string
	for _, f := range out.Snapshot.Findings {
		if f.Kind == diff.KindMissing {
			keys = append(keys, f.Key+"/"+f.State)
		}
	}
	if !slices.Equal(keys, []string{key + "/unknown"}) {
		t.Errorf("missing findings with entra failed: %v, want exactly %s unknown", keys, key)
	}
}

// TestPartGuard: one team of ten that vanishes, or shows a tenth of its
// members, moves the total by a tenth only; the part guard makes the
// source incomplete, naming the team and the fix, and the team's findings
// are carried, not resolved. Accepting the part (NAME:PART) lets it pass.
func TestPartGuard(t *testing.T) {
	teams := func(sizes map[string]int) func(context.Context) (*collectors.Result, error) {
		return func(context.Context) (*collectors.Result, error) {
			res := &collectors.Result{Completeness: collectors.Completeness{Complete: true}}
			for _, team := range []string{"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"} {
				n, ok := sizes[team]
				if !ok {
					n = 10
				}
				if n < 0 {
					continue // the team is not visible
				}
				for i := range n {
					res.Accounts = append(res.Accounts, member(team, fmt.Sprintf("u%d.%s@gmail.com", i, team), "Member"))
				}
				res.Completeness.AddPart(collectors.Part{Kind: "team", ID: team, Name: "Team " + team, Records: n,
					Fix: "give it-bot@acme.com the Admin role in Team " + team + " again"})
			}
			return res, nil
		}
	}
	tests := []struct {
		name   string
		sizes  map[string]int
		accept []string
		msg    string // "" when the source must stay complete
	}{
		{"a team vanished", map[string]int{"t3": -1}, nil, `team "Team t3" (t3): read in snapshot 1 (10 records) but not now: it is no longer visible or readable; give it-bot@acme.com the Admin role in Team t3 again`},
		{"a team shows a tenth", map[string]int{"t3": 1}, nil, `team "Team t3" (t3): fell from 10 to 1 records`},
		{"ordinary attrition", map[string]int{"t3": 8}, nil, ""},
		{"accepted by part", map[string]int{"t3": -1}, []string{"stonly:t3"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.okta.read, h.entra.read = complete(), complete()
			h.app.read = teams(nil)
			first := h.run()
			h.app.read = teams(tt.sizes)
			out := h.run(func(o *Options) { o.AcceptDrop = tt.accept })
			var app store.Source
			for _, s := range out.Snapshot.Sources {
				if s.Info.Name == "stonly" {
					app = s
				}
			}
			if tt.msg == "" {
				if !app.Completeness.Complete {
					t.Fatalf("incomplete: %v", app.Completeness.Errors)
				}
				return
			}
			if app.Completeness.Complete || !strings.Contains(strings.Join(app.Completeness.Errors, "\n"), tt.msg) ||
				!strings.Contains(strings.Join(app.Completeness.Errors, "\n"), "--accept-drop stonly:t3") {
				t.Fatalf("errors %q, want %q", app.Completeness.Errors, tt.msg)
			}
			before, now := byKey(first.Snapshot.Findings), byKey(out.Snapshot.Findings)
			for k := range before {
				if f, ok := now[k]; !ok || f.State != diff.StateUnknown {
					t.Errorf("%s: %+v", k, f)
				}
			}
		})
	}
}

// TestSourceDeadline: a source that never finishes is stopped at the
// deadline and recorded as incomplete; one that ignores its context is
// abandoned after the grace period; the run goes on and stores a snapshot.
func TestSourceDeadline(t *testing.T) {
	tests := []struct {
		name string
		read func(ctx context.Context) (*collectors.Result, error)
		msg  string
	}{
		{"stops at the deadline", func(ctx context.Context) (*collectors.Result, error) {
			<-ctx.Done()
			return &collectors.Result{Completeness: collectors.Completeness{Complete: true}}, nil
		}, "did not finish within 1s (guard.source_timeout)"},
		{"ignores its context", func(ctx context.Context) (*collectors.Result, error) {
			time.Sleep(10 * time.Second)
			return &collectors.Result{}, nil
		}, "did not stop within 500ms and was abandoned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.pol.SourceTimeout = time.Second
			h.okta.read, h.entra.read, h.app.read = tt.read, complete(), complete()
			out := h.run(func(o *Options) { o.Policy.StopGrace = 500 * time.Millisecond })
			if len(out.Incomplete) != 1 || !strings.Contains(out.Incomplete[0], tt.msg) {
				t.Errorf("incomplete %q, want %q", out.Incomplete, tt.msg)
			}
			if out.Snapshot.ID == 0 {
				t.Error("no snapshot stored")
			}
		})
	}
}

// TestOpenAccessPolicy: an IdP's open-access policy reaches the findings.
func TestOpenAccessPolicy(t *testing.T) {
	h := newHarness(t)
	h.okta.read = complete()
	h.entra.read = func(context.Context) (*collectors.Result, error) {
		return &collectors.Result{
			Accounts:     []collectors.Account{{ID: "e1", Email: "ann@acme.com", Status: collectors.StatusActive}},
			Completeness: collectors.Completeness{Complete: true},
			Policies:     []collectors.AppPolicy{{AppID: "sp1", OpenAccess: true, Detail: "appRoleAssignmentRequired is false on service principal Stonly (sp1)"}},
		}, nil
	}
	h.app.read = complete(member("t1", "ann@acme.com", "Member"))
	out := h.run()
	var kinds []string
	for _, f := range out.Snapshot.Findings {
		kinds = append(kinds, f.Kind)
	}
	if !slices.Equal(kinds, []string{diff.KindOpenAccess}) {
		t.Errorf("findings %v, want only open_access", kinds)
	}
}
