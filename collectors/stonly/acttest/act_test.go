package acttest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/stonly"
	"github.com/idgraph/idgraph/collectors/stonly/stonlytest"
	"github.com/idgraph/idgraph/internal/browsertest"
)

const (
	password = "correct horse battery staple"
	bot      = "it-bot@acme.com"
)

// scenario is one team of twelve members (member0 the Owner, member3 an
// Admin, the rest Members), the bot as an Admin, and two invitations
// (invitee0.a a Member, invitee0.b an Admin).
func scenario() *stonlytest.Scenario {
	sc := stonlytest.Generate(12, "Support Center")
	sc.Teams[0].Members = append(sc.Teams[0].Members, stonlytest.Member{Name: "IT Bot", Email: bot, Role: "Admin",
		LastActive: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)})
	return sc
}

// actor is the collector against srv, configured as the run does, with
// the browser it will drive.
func actor(t *testing.T, srv *stonlytest.Server, debug string, mods ...func(*stonly.Config)) *stonly.Collector {
	t.Helper()
	browsertest.Path(t)
	return collector(t, srv, debug, mods...)
}

func collector(t *testing.T, srv *stonlytest.Server, debug string, mods ...func(*stonly.Config)) *stonly.Collector {
	t.Helper()
	cfg := stonly.Config{URL: srv.URL, Email: bot, PasswordEnv: "STONLY_PASSWORD", StepTimeout: 10 * time.Second, Timeout: 2 * time.Minute, DebugDir: debug}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := stonly.NewCollector(cfg, collectors.Env{File: "t.yaml", Getenv: func(k string) string {
		return map[string]string{"STONLY_PASSWORD": password}[k]
	}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// account is the account as the decision saw it: what a read of sc gives.
func account(t *testing.T, sc *stonlytest.Scenario, email string) collectors.Account {
	t.Helper()
	tm := sc.Teams[0]
	for _, m := range tm.Members {
		if m.Email == email {
			return collectors.Account{Source: "stonly", ID: email, Team: tm.ID, TeamName: tm.Name, Email: email, DisplayName: m.Name,
				Role: m.Role, Status: collectors.StatusActive, RawStatus: "active"}
		}
	}
	for _, iv := range tm.Invitations {
		if iv.Email == email {
			return collectors.Account{Source: "stonly", ID: "invite:" + email, Team: tm.ID, TeamName: tm.Name, Email: email,
				Role: iv.Role, Status: collectors.StatusInvited, RawStatus: "invited"}
		}
	}
	t.Fatalf("no %s in the scenario", email)
	return collectors.Account{}
}

func fast(v stonlytest.Variant) stonlytest.Variant {
	if v.RenderDelay == 0 {
		v.RenderDelay = 150 * time.Millisecond
	}
	if v.LoadDelay == 0 {
		v.LoadDelay = 30 * time.Millisecond
	}
	return v
}

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// noSecrets fails when the password, the session cookie or a token the
// replica handed out is in a result's detail or captures, the error, or a
// file of the debug folder.
func noSecrets(t *testing.T, srv *stonlytest.Server, res []collectors.ActionResult, err error, debug string) {
	t.Helper()
	secrets := append([]string{password}, srv.Secrets()...)
	check := func(where string, b []byte) {
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds a secret (%.6s…)", where, s)
			}
		}
	}
	for _, r := range res {
		check(r.ID+" detail", []byte(r.Detail))
		check(r.ID+" before", r.Before)
		check(r.ID+" after", r.After)
	}
	if err != nil {
		check("the error", []byte(err.Error()))
	}
	files, _ := filepath.Glob(filepath.Join(debug, "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		check(f, b)
	}
}

// accounts reads the replica again, as the next run does, by key.
func accounts(t *testing.T, c *stonly.Collector) map[string]collectors.Account {
	t.Helper()
	res, err := c.Collect(context.Background(), collectors.Request{})
	if err != nil || !res.Completeness.Complete {
		t.Fatalf("the next read: %v %+v", err, res.Completeness)
	}
	out := map[string]collectors.Account{}
	for _, a := range res.Accounts {
		out[a.ID] = a
	}
	return out
}

// TestActRemoveSetRoleRevoke removes a member, downgrades an Admin and
// revokes an invitation in every shape of the page's controls, and the
// next read shows all three.
func TestActRemoveSetRoleRevoke(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		v        stonlytest.Variant
		nextRead bool // read the replica again through the collector, not only its state
	}{
		{"inline menus in an HTML table", stonlytest.Variant{}, true},
		{"portal menus that open on pointerdown, ARIA grid, slow removal", stonlytest.Variant{PortalMenus: true, Layout: "grid", RemoveDelay: 2 * time.Second}, true},
		{"invitations as rows of the member list, members behind Load more", stonlytest.Variant{InviteRows: true, Layout: "ariatable", Paging: "loadmore", PageSize: 5}, false},
		{"members on numbered pages", stonlytest.Variant{Paging: "pages", PageSize: 5}, false},
		{"a virtualised member list", stonlytest.Variant{Virtual: true, Layout: "grid"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := scenario()
			srv := stonlytest.NewServer(sc)
			defer srv.Close()
			srv.SetVariant(fast(tt.v))
			debug := t.TempDir()
			team := sc.Teams[0].ID
			acts := []collectors.Action{
				{ID: "a1", Op: collectors.OpRemove, Account: account(t, sc, "member11@acme.com")},
				{ID: "a2", Op: collectors.OpSetRole, Account: account(t, sc, "member3@acme.com"), Role: "Member"},
				{ID: "a3", Op: collectors.OpRevokeInvitation, Account: account(t, sc, "invitee0.b@acme.com")},
			}
			c := actor(t, srv, debug)
			res, err := c.Act(context.Background(), acts)
			if err != nil {
				t.Fatalf("Act: %v", err)
			}
			if len(res) != len(acts) {
				t.Fatalf("%d results for %d actions", len(res), len(acts))
			}
			want := []string{`"Member removed"`, `"Role updated"`, `"Invitation revoked"`}
			for i, r := range res {
				if r.ID != acts[i].ID || r.Outcome != collectors.OutcomeDone || !strings.Contains(r.Detail, want[i]) {
					t.Errorf("%s: %s %q, want done with %s", r.ID, r.Outcome, r.Detail, want[i])
				}
				if !bytes.HasPrefix(r.Before, pngMagic) || !bytes.HasPrefix(r.After, pngMagic) || r.CaptureType != "image/png" {
					t.Errorf("%s: want PNG screenshots before and after, got %d and %d bytes of %q", r.ID, len(r.Before), len(r.After), r.CaptureType)
				}
				if r.Started.IsZero() || r.Ended.Before(r.Started) {
					t.Errorf("%s: started %v, ended %v", r.ID, r.Started, r.Ended)
				}
			}
			noSecrets(t, srv, res, err, debug)
			for _, tok := range srv.Issued() {
				if srv.SessionValid(tok) {
					t.Error("a session is still alive after Act: it signs out")
				}
			}
			// The replica's state, then the next read.
			if _, ok := srv.Member(team, "member11@acme.com"); ok {
				t.Error("member11 is still a member of the replica")
			}
			if m, _ := srv.Member(team, "member3@acme.com"); m.Role != "Member" {
				t.Errorf("member3 is %s in the replica", m.Role)
			}
			if n := len(srv.Invitations(team)); n != 1 {
				t.Errorf("%d invitations left, want 1", n)
			}
			if !tt.nextRead {
				return
			}
			got := accounts(t, c)
			if _, ok := got["member11@acme.com"]; ok {
				t.Error("the next read still shows member11")
			}
			if _, ok := got["invite:invitee0.b@acme.com"]; ok {
				t.Error("the next read still shows the invitation of invitee0.b")
			}
			if a := got["member3@acme.com"]; a.Role != "Member" {
				t.Errorf("the next read shows member3 as %q", a.Role)
			}
			if _, ok := got["invite:invitee0.a@acme.com"]; !ok || len(got) != 13 {
				t.Errorf("the next read has %d accounts (want 12 members and invitee0.a's invitation): others were touched", len(got))
			}
		})
	}
}

// TestActRefusesWhatDiffers: an action whose row changed since the
// decision, or that would touch a protected account, changes nothing and
// does not stop the batch; an account already gone is already done.
func TestActRefusesWhatDiffers(t *testing.T) {
	t.Parallel()
	sc := scenario()
	acc := func(email string) collectors.Account { return account(t, sc, email) }
	renamedBot := acc(bot)
	renamedBot.Email = "IT-Bot@Acme.COM"
	tests := []struct {
		name   string
		act    collectors.Action
		change func(*stonlytest.Team)
		want   collectors.Outcome
		detail string
	}{
		{"the role changed since the decision", collectors.Action{Op: collectors.OpRemove, Account: acc("member5@acme.com")},
			func(t *stonlytest.Team) { t.Members[5].Role = "Admin" }, collectors.OutcomeRefused, "changed since the decision: the page shows Admin, the decision saw Member"},
		{"the member is already gone", collectors.Action{Op: collectors.OpRemove, Account: acc("member6@acme.com")},
			func(t *stonlytest.Team) { t.Members = append(t.Members[:6:6], t.Members[7:]...) }, collectors.OutcomeAlreadyDone, "no longer a member"},
		{"the invitation is already gone", collectors.Action{Op: collectors.OpRevokeInvitation, Account: acc("invitee0.a@acme.com")},
			func(t *stonlytest.Team) { t.Invitations = t.Invitations[1:] }, collectors.OutcomeAlreadyDone, "no invitation for invitee0.a@acme.com is pending"},
		{"the team's Owner", collectors.Action{Op: collectors.OpRemove, Account: acc("member0@acme.com")}, nil, collectors.OutcomeRefused, "protected"},
		{"Owner since the decision", collectors.Action{Op: collectors.OpSetRole, Account: acc("member4@acme.com"), Role: "Admin"},
			func(t *stonlytest.Team) { t.Members[4].Role = "Owner" }, collectors.OutcomeRefused, "protected: member4@acme.com is now the Owner"},
		{"the bot", collectors.Action{Op: collectors.OpRemove, Account: acc(bot)}, nil, collectors.OutcomeRefused, "protected: it-bot@acme.com is the account idgraph signs in with"},
		{"the bot, written otherwise", collectors.Action{Op: collectors.OpSetRole, Account: renamedBot, Role: "Member"}, nil, collectors.OutcomeRefused, "protected"},
		// The new name is the password: what the page shows is evidence,
		// and secrets are removed from it.
		{"another person at the address", collectors.Action{Op: collectors.OpRemove, Account: acc("member7@acme.com")},
			func(t *stonlytest.Team) { t.Members[7].Name = password }, collectors.OutcomeRefused, `the page shows the name "[REDACTED]", the decision saw "Member 7"`},
		{"already at the role", collectors.Action{Op: collectors.OpSetRole, Account: acc("member8@acme.com"), Role: "member"}, nil, collectors.OutcomeAlreadyDone, "already has the role Member"},
		{"never make an Owner", collectors.Action{Op: collectors.OpSetRole, Account: acc("member9@acme.com"), Role: "Owner"}, nil, collectors.OutcomeRefused, "never makes anyone Owner"},
		{"a role Stonly does not have", collectors.Action{Op: collectors.OpSetRole, Account: acc("member9@acme.com"), Role: "Editor"}, nil, collectors.OutcomeRefused, `"Editor" is not a Stonly role`},
		{"the invitation was accepted", collectors.Action{Op: collectors.OpRevokeInvitation, Account: acc("invitee0.b@acme.com")},
			func(t *stonlytest.Team) {
				t.Invitations = t.Invitations[:1]
				t.Members = append(t.Members, stonlytest.Member{Name: "Invitee B", Email: "invitee0.b@acme.com", Role: "Admin"})
			}, collectors.OutcomeRefused, "is now a member of team Support Center with role Admin"},
	}
	srv := stonlytest.NewServer(sc)
	defer srv.Close()
	srv.SetVariant(fast(stonlytest.Variant{}))
	var acts []collectors.Action
	for _, tt := range tests {
		a := tt.act
		a.ID = tt.name
		acts = append(acts, a)
	}
	// Apply the changes in reverse order, so that a removal does not move
	// the rows that later edits name by index.
	for i := len(tests) - 1; i >= 0; i-- {
		if ch := tests[i].change; ch != nil {
			srv.Update(func(s *stonlytest.Scenario) { ch(&s.Teams[0]) })
		}
	}
	debug := t.TempDir()
	res, err := actor(t, srv, debug).Act(context.Background(), acts)
	if err != nil {
		t.Fatalf("refusals must not stop the batch: %v", err)
	}
	for i, tt := range tests {
		r := res[i]
		if r.ID != tt.name || r.Outcome != tt.want || !strings.Contains(r.Detail, tt.detail) {
			t.Errorf("%s: %s %q, want %s with %q", tt.name, r.Outcome, r.Detail, tt.want, tt.detail)
		}
		if r.Outcome == collectors.OutcomeRefused && !strings.Contains(r.Detail, "nothing was changed") {
			t.Errorf("%s: a refusal says that nothing was changed: %q", tt.name, r.Detail)
		}
	}
	if ch := srv.Changes(); len(ch) != 0 {
		t.Errorf("the app was asked for changes: %+v", ch)
	}
	if m, ok := srv.Member(sc.Teams[0].ID, "member5@acme.com"); !ok || m.Role != "Admin" {
		t.Errorf("member5 was touched: %+v %v", m, ok)
	}
	if files, _ := filepath.Glob(filepath.Join(debug, "*")); len(files) != 0 {
		t.Errorf("captures of failures, but nothing failed: %v", files)
	}
	noSecrets(t, srv, res, err, debug)
}

// TestActStopsTheBatch: at the first unexpected state the action under
// way fails with a capture, the ones before it stay done, the ones after
// are skipped, and the replica holds exactly what was done.
func TestActStopsTheBatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		v       stonlytest.Variant
		outcome []collectors.Outcome
		detail  string // of the failed action
		gone    []string
		changes int           // asked of the app
		step    time.Duration // stonly.step_timeout, when the test waits it out
	}{
		{"the app refuses one removal", stonlytest.Variant{RefuseRemove: "member6@acme.com"},
			[]collectors.Outcome{collectors.OutcomeDone, collectors.OutcomeFailed, collectors.OutcomeSkipped},
			`Stonly answered "Something went wrong. Please try again."`, []string{"member5@acme.com"}, 2, 0},
		{"the session expires at the second change", stonlytest.Variant{ExpireAtChange: 2},
			[]collectors.Outcome{collectors.OutcomeDone, collectors.OutcomeFailed, collectors.OutcomeSkipped},
			"the session expired", []string{"member5@acme.com"}, 2, 0},
		{"the menu no longer offers the item", stonlytest.Variant{RenamedMenu: true},
			[]collectors.Outcome{collectors.OutcomeFailed, collectors.OutcomeSkipped, collectors.OutcomeSkipped},
			`offers Change role, Deactivate member but no "Remove from team"; nothing was changed`, nil, 0, 0},
		{"the page is not recognised", stonlytest.Variant{Renamed: true},
			[]collectors.Outcome{collectors.OutcomeFailed, collectors.OutcomeSkipped, collectors.OutcomeSkipped},
			"the Team Management page was not recognised", nil, 0, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := scenario()
			srv := stonlytest.NewServer(sc)
			defer srv.Close()
			srv.SetVariant(fast(tt.v))
			team := sc.Teams[0].ID
			var acts []collectors.Action
			for i, e := range []string{"member5@acme.com", "member6@acme.com", "member7@acme.com"} {
				acts = append(acts, collectors.Action{ID: string(rune('a'+i)) + "-remove", Op: collectors.OpRemove, Account: account(t, sc, e)})
			}
			debug := t.TempDir()
			c := actor(t, srv, debug, func(c *stonly.Config) {
				if tt.step > 0 {
					c.StepTimeout = tt.step
				}
			})
			res, err := c.Act(context.Background(), acts)
			failed := -1
			for i, r := range res {
				if r.Outcome != tt.outcome[i] {
					t.Errorf("%s: %s %q, want %s", r.ID, r.Outcome, r.Detail, tt.outcome[i])
				}
				if r.Outcome == collectors.OutcomeFailed {
					failed = i
				}
			}
			if failed < 0 {
				t.Fatal("no action failed")
			}
			f := res[failed]
			if !strings.Contains(f.Detail, tt.detail) || !strings.Contains(f.Detail, "capture: "+debug) {
				t.Errorf("the failed action says %q; want %q and the capture", f.Detail, tt.detail)
			}
			if err == nil || !strings.Contains(err.Error(), "the batch stopped at action "+f.ID) || !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("error %v: want it to say where the batch stopped and why", err)
			}
			files, _ := filepath.Glob(filepath.Join(debug, "action-"+f.ID+"-*"))
			if len(files) != 2 {
				t.Errorf("captures %v: want a screenshot and the page's HTML", files)
			}
			for _, file := range files {
				if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
					t.Errorf("%s mode %o", file, fi.Mode().Perm())
				}
			}
			noSecrets(t, srv, res, err, debug)
			for _, e := range []string{"member5@acme.com", "member6@acme.com", "member7@acme.com"} {
				_, there := srv.Member(team, e)
				if gone := strings.Contains(strings.Join(tt.gone, " "), e); there == gone {
					t.Errorf("%s: in the replica %v, want %v", e, there, !gone)
				}
			}
			if ch := srv.Changes(); len(ch) != tt.changes {
				t.Errorf("the app was asked for %d changes, want %d: %+v", len(ch), tt.changes, ch)
			}
		})
	}
}

// TestActNeedsTheBotsAddress: without stonly.email the account idgraph
// signs in with cannot be protected, so nothing is attempted.
func TestActNeedsTheBotsAddress(t *testing.T) {
	srv := stonlytest.NewServer(scenario())
	defer srv.Close()
	c, err := stonly.NewCollector(stonly.Config{URL: srv.URL, SessionCookieEnv: "S"}, collectors.Env{File: "t.yaml", Getenv: func(string) string { return srv.NewSession() }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Act(context.Background(), []collectors.Action{{ID: "x", Op: collectors.OpRemove}})
	if err == nil || !strings.Contains(err.Error(), "stonly.email") || len(res) != 1 || res[0].Outcome != collectors.OutcomeSkipped {
		t.Fatalf("err %v, results %+v", err, res)
	}
}

func TestInfo(t *testing.T) {
	srv := stonlytest.NewServer(scenario())
	defer srv.Close()
	info := collector(t, srv, t.TempDir()).Info()
	if info.Title != "Stonly" || info.Type != "stonly" || strings.Join(info.Roles, " < ") != "Member < Admin < Owner" {
		t.Fatalf("%+v", info)
	}
}

// TestActRespectsContext: a context that has ended starts nothing.
func TestActRespectsContext(t *testing.T) {
	srv := stonlytest.NewServer(scenario())
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := actor(t, srv, t.TempDir()).Act(ctx, []collectors.Action{{ID: "x", Op: collectors.OpRemove}, {ID: "y", Op: collectors.OpRemove}})
	if err == nil || !strings.Contains(err.Error(), "no action was attempted") || len(res) != 2 || res[0].Outcome != collectors.OutcomeSkipped || res[1].Outcome != collectors.OutcomeSkipped {
		t.Fatalf("err %v, results %+v", err, res)
	}
	if srv.Logins() != 0 || len(srv.Changes()) != 0 {
		t.Errorf("%d logins, %d changes", srv.Logins(), len(srv.Changes()))
	}
}
