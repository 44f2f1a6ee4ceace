package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/scim/scimtest"
	"github.com/idgraph/idgraph/collectors/stonly/stonlytest"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/internal/browsertest"
	"github.com/idgraph/idgraph/internal/demo"
	"github.com/idgraph/idgraph/remediation"
	"github.com/idgraph/idgraph/store"
)

// csvActor changes the quick start's Stonly export as the application
// would change its members: the next `idgraph run` reads the change. It
// follows collectors.Actor's contract (re-read first, refuse a changed
// row, an account already gone is done) and fails the removal of fail.
type csvActor struct {
	path  string
	fail  string
	calls int
}

func (c *csvActor) Act(_ context.Context, acts []collectors.Action) ([]collectors.ActionResult, error) {
	c.calls++
	f, err := os.ReadFile(c.path)
	if err != nil {
		return nil, err
	}
	rows, err := csv.NewReader(bytes.NewReader(f)).ReadAll()
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	out := make([]collectors.ActionResult, len(acts))
	var stop error
	for i, a := range acts {
		r := collectors.ActionResult{ID: a.ID, Started: time.Now(), Before: []byte("row of " + a.Account.Email), CaptureType: "text/csv"}
		row := -1
		for j, rec := range rows[1:] {
			if strings.EqualFold(rec[col["email"]], a.Account.Email) && rec[col["team"]] == a.Account.Team {
				row = j + 1
			}
		}
		switch {
		case stop != nil:
			r.Outcome, r.Detail = collectors.OutcomeSkipped, "not attempted: the batch stopped before it"
		case strings.EqualFold(a.Account.Email, c.fail):
			r.Outcome, r.Detail = collectors.OutcomeFailed, "the page answered: Something went wrong"
			stop = fmt.Errorf("removing %s: the application answered 500", a.Account.Email)
		case row < 0:
			r.Outcome, r.Detail = collectors.OutcomeAlreadyDone, "the row is gone"
		case rows[row][col["role"]] != a.Account.Role:
			r.Outcome, r.Detail = collectors.OutcomeRefused, fmt.Sprintf("the row changed since the decision: %s is %s now, not %s", a.Account.Email, rows[row][col["role"]], a.Account.Role)
		case a.Op == collectors.OpSetRole:
			rows[row][col["role"]] = a.Role
			r.Outcome, r.Detail = collectors.OutcomeDone, "role changed to "+a.Role
		default:
			rows = append(rows[:row], rows[row+1:]...)
			r.Outcome, r.Detail = collectors.OutcomeDone, "removed"
		}
		r.After, r.Ended = []byte("after "+a.Account.Email), time.Now()
		out[i] = r
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.WriteAll(rows)
	if err := os.WriteFile(c.path, b.Bytes(), 0o600); err != nil {
		return out, err
	}
	return out, stop
}

// runRemediate runs the CLI with the remediate command's Actors replaced
// by actors (nil: the configured sources').
func runRemediate(t *testing.T, actors actorsFunc, args ...string) result {
	t.Helper()
	return runRemediateEnv(t, func(string) string { return "" }, actors, args...)
}

// runRemediateEnv is runRemediate with the environment getenv.
func runRemediateEnv(t *testing.T, getenv func(string) string, actors actorsFunc, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: getenv}
	root := a.root()
	if actors != nil {
		for _, c := range root.Commands() {
			if c.Name() == "remediate" {
				root.RemoveCommand(c)
			}
		}
		root.AddCommand(newRemediateCmdWith(a, actors))
	}
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	code := exitOK
	if err := root.ExecuteContext(context.Background()); err != nil {
		code = exitFailed
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		errb.WriteString(err.Error())
	}
	return result{code, out.String(), errb.String()}
}

func findingID(t *testing.T, cfg, kind, email string) string {
	t.Helper()
	return findingOf(t, cfg, "stonly", kind, email)
}

// findingOf returns the ID of app's finding of kind about email.
func findingOf(t *testing.T, cfg, app, kind, email string) string {
	t.Helper()
	r := run(t, nil, "findings", "--config", cfg, "--format", "json")
	var fs []struct{ ID, Kind, Email, App string }
	if err := json.Unmarshal([]byte(r.stdout), &fs); err != nil {
		t.Fatal(err, r.stdout)
	}
	for _, f := range fs {
		// The demo reads two applications.
		if f.Kind == kind && f.Email == email && f.App == app {
			return f.ID
		}
	}
	t.Fatalf("no %s finding about %s in %s", kind, email, r.stdout)
	return ""
}

func mustRun(t *testing.T, r result, what string) result {
	t.Helper()
	if r.code != exitOK {
		t.Fatalf("%s: exit %d\n%s\n%s", what, r.code, r.stdout, r.stderr)
	}
	return r
}

// quickstartDecisions records, on the quick start: the leaver Bob's Admin
// account revoked (four eyes), Carol's bypass revoked, Frank's Admin
// downgraded to Member (four eyes) and Erin's invitation revoked; all by
// rita, confirmed by sam.
func quickstartDecisions(t *testing.T, cfg string) {
	t.Helper()
	decide := func(kind, email string, args ...string) {
		id := findingID(t, cfg, kind, email)
		mustRun(t, run(t, nil, append([]string{"decide", id, "--config", cfg, "--justification", "review", "--reviewer", "rita@acme.com"}, args...)...), "decide "+email)
	}
	confirm := func(kind, email string) {
		mustRun(t, run(t, nil, "decide", findingID(t, cfg, kind, email), "--config", cfg, "--confirm", "--reviewer", "sam@acme.com"), "confirm "+email)
	}
	decide("orphaned", "bob@acme.com", "--decision", "revoke")
	confirm("orphaned", "bob@acme.com")
	decide("unassigned", "carol@acme.com", "--decision", "revoke")
	decide("role_mismatch", "frank@acme.com", "--decision", "modify", "--role", "Member")
	confirm("role_mismatch", "frank@acme.com")
	decide("missing", "erin@acme.com", "--decision", "revoke")
}

func setRemediation(t *testing.T, cfg, yaml string) {
	t.Helper()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if i := strings.Index(string(b), "\nremediation:"); i >= 0 {
		b = b[:i+1]
	}
	if err := os.WriteFile(cfg, append(b, []byte("\nremediation:\n"+yaml)...), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRemediateEndToEnd: on the quick start, with an Actor that changes
// the export the next run reads: plan from decisions, dry run by default,
// the kill switch, --yes needing a reviewer, the decider refused, the cap
// and the stale read refusing before anything runs, apply, the next run
// confirming every action, status with times, and verify over the records.
func TestRemediateEndToEnd(t *testing.T) {
	cfg := quickstart(t)
	members := filepath.Join(filepath.Dir(cfg), "stonly-members.csv")
	actor := &csvActor{path: members}
	actors := func(*config.Config) (map[string]collectors.Actor, map[string]string, error) {
		return map[string]collectors.Actor{"stonly": actor}, nil, nil
	}
	mustRun(t, run(t, nil, "run", "--config", cfg), "run")
	quickstartDecisions(t, cfg)

	// Without an Actor (the quick start reads a CSV export) the plan is manual.
	r := mustRun(t, runRemediate(t, nil, "remediate", "plan", "--config", cfg), "plan")
	if !strings.Contains(r.stdout, "manual") || !strings.Contains(r.stdout, "cannot change it") {
		t.Errorf("plan without an Actor does not say manual:\n%s", r.stdout)
	}
	r = mustRun(t, runRemediate(t, actors, "remediate", "plan", "--config", cfg, "--format", "json"), "plan json")
	var plan struct {
		Snapshot int64
		Apps     []struct {
			App    string
			CanAct bool `json:"can_act"`
			Items  []struct{ ID string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil || len(plan.Apps) != 1 || !plan.Apps[0].CanAct || len(plan.Apps[0].Items) != 4 {
		t.Fatalf("plan json: %v\n%s", err, r.stdout)
	}
	r = mustRun(t, runRemediate(t, actors, "remediate", "plan", "--config", cfg, "--format", "csv"), "plan csv")
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(recs) != 5 {
		t.Fatalf("plan csv: %v\n%s", err, r.stdout)
	}
	ops := map[string]string{}
	for _, rec := range recs[1:] {
		ops[rec[3]] = rec[4] + " " + rec[5]
	}
	want := map[string]string{"bob@acme.com": "remove ", "carol@acme.com": "remove ", "frank@acme.com": "set_role Member", "erin@acme.com": "revoke_invitation "}
	if fmt.Sprint(ops) != fmt.Sprint(want) {
		t.Fatalf("plan: %v, want %v", ops, want)
	}
	before, _ := os.ReadFile(members)
	unchanged := func(what string) {
		t.Helper()
		if now, _ := os.ReadFile(members); !bytes.Equal(now, before) || actor.calls != 0 {
			t.Fatalf("%s changed the application (%d calls)", what, actor.calls)
		}
	}

	// The kill switch is the default.
	r = runRemediate(t, actors, "remediate", "apply", "--config", cfg, "--yes", "--reviewer", "ops@acme.com")
	if r.code != exitUsage || !strings.Contains(r.stderr, "remediation.enabled") {
		t.Fatalf("apply with remediation disabled: %d\n%s", r.code, r.stderr)
	}
	unchanged("a disabled apply")
	setRemediation(t, cfg, "  enabled: true\n  max_share: 0.5\n")
	// A dry run by default.
	r = mustRun(t, runRemediate(t, actors, "remediate", "apply", "--config", cfg), "dry run")
	if !strings.Contains(r.stdout, "dry run: nothing was changed") || strings.Count(r.stdout, "-> would run") != 4 {
		t.Fatalf("dry run:\n%s", r.stdout)
	}
	unchanged("a dry run")
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"--yes without a reviewer", []string{"--yes"}, exitUsage, "--yes needs --reviewer"},
		{"the decider", []string{"--yes", "--reviewer", "Rita@acme.com"}, exitUsage, "another reviewer must apply them"},
		{"the cap", []string{"--yes", "--reviewer", "ops@acme.com", "--max", "3"}, exitUsage, "more than the cap of 3"},
	} {
		r = runRemediate(t, actors, append([]string{"remediate", "apply", "--config", cfg}, c.args...)...)
		if r.code != c.code || !strings.Contains(r.stderr+r.stdout, c.want) {
			t.Fatalf("%s: exit %d, want %d saying %q\n%s\n%s", c.name, r.code, c.code, c.want, r.stdout, r.stderr)
		}
		unchanged(c.name)
	}
	// Not while a run holds the store.
	unlock, err := store.Lock(storeOf(cfg))
	if err != nil {
		t.Fatal(err)
	}
	r = runRemediate(t, actors, "remediate", "apply", "--config", cfg, "--yes", "--reviewer", "ops@acme.com")
	unlock()
	if r.code != exitUsage || !strings.Contains(r.stderr, "holds the store") {
		t.Fatalf("apply during a run: %d\n%s", r.code, r.stderr)
	}
	unchanged("an apply during a run")
	setRemediation(t, cfg, "  enabled: true\n  max_share: 0.5\n  max_age: 1ns\n")
	r = runRemediate(t, actors, "remediate", "apply", "--config", cfg, "--yes", "--reviewer", "ops@acme.com")
	if r.code != exitUsage || !strings.Contains(r.stderr, "older than remediation.max_age") {
		t.Fatalf("stale read: %d\n%s", r.code, r.stderr)
	}
	unchanged("a stale read")
	setRemediation(t, cfg, "  enabled: true\n  max_share: 0.5\n")

	r = mustRun(t, runRemediate(t, actors, "remediate", "apply", "--config", cfg, "--yes", "--reviewer", "ops@acme.com"), "apply")
	if strings.Count(r.stdout, "-> done") != 4 || !strings.Contains(r.stdout, "pending until the next complete read") || !strings.Contains(r.stdout, "capture") {
		t.Fatalf("apply:\n%s", r.stdout)
	}
	r = mustRun(t, runRemediate(t, nil, "remediate", "status", "--config", cfg), "status")
	if strings.Count(r.stdout, "pending") != 4 {
		t.Fatalf("status before the next run:\n%s", r.stdout)
	}
	// The next run reads the export as the actions left it.
	mustRun(t, run(t, nil, "run", "--config", cfg), "second run")
	runRemediate(t, nil, "remediate", "confirm", "--config", cfg) // the run may have confirmed them already
	r = mustRun(t, runRemediate(t, nil, "remediate", "status", "--config", cfg, "--format", "json"), "status json")
	var status struct {
		Actions []struct {
			Email, State string
			AppliedBy    string `json:"applied_by"`
			DecidedBy    string `json:"decided_by"`
			Proof        *struct {
				SnapshotID int64 `json:"snapshot_id"`
			} `json:"proof"`
		}
		Times []struct {
			App       string
			Confirmed int
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &status); err != nil {
		t.Fatal(err, r.stdout)
	}
	if len(status.Actions) != 4 || len(status.Times) != 1 || status.Times[0].Confirmed != 4 {
		t.Fatalf("status after the next run:\n%s", r.stdout)
	}
	for _, a := range status.Actions {
		if a.State != "confirmed" || a.Proof == nil || a.Proof.SnapshotID != 2 || a.AppliedBy != "ops@acme.com" || a.DecidedBy != "rita@acme.com" {
			t.Errorf("action %+v", a)
		}
	}
	r = mustRun(t, runRemediate(t, nil, "remediate", "status", "--config", cfg), "status table")
	if !strings.Contains(r.stdout, "median") || !strings.Contains(r.stdout, "95th percentile") {
		t.Errorf("status table has no times:\n%s", r.stdout)
	}
	// Nothing is planned any more.
	r = mustRun(t, runRemediate(t, actors, "remediate", "plan", "--config", cfg), "plan after")
	if !strings.Contains(r.stdout, "nothing to change") {
		t.Errorf("plan after the confirmed actions:\n%s", r.stdout)
	}
	mustRun(t, run(t, nil, "verify", "--config", cfg), "verify")
	// An action record edited around idgraph fails verify.
	db, err := sql.Open("sqlite", storeOf(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE remediation SET applied_by = 'rita@acme.com' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if r := run(t, nil, "verify", "--config", cfg); r.code == exitOK || !strings.Contains(r.stdout+r.stderr, "edited") {
		t.Fatalf("verify after editing an action: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestRemediateFailureMidBatch: a failure stops the batch; the action
// before it is recorded done, the failed one failed with its capture, the
// rest skipped; exit 1; the next run confirms the one carried out and the
// others are planned again.
func TestRemediateFailureMidBatch(t *testing.T) {
	cfg := quickstart(t)
	members := filepath.Join(filepath.Dir(cfg), "stonly-members.csv")
	actor := &csvActor{path: members, fail: "erin@acme.com"}
	actors := func(*config.Config) (map[string]collectors.Actor, map[string]string, error) {
		return map[string]collectors.Actor{"stonly": actor}, nil, nil
	}
	mustRun(t, run(t, nil, "run", "--config", cfg), "run")
	quickstartDecisions(t, cfg)
	setRemediation(t, cfg, "  enabled: true\n  max_share: 0.5\n")
	// The plan runs in team and e-mail order: bob, carol, erin, frank.
	r := runRemediate(t, actors, "remediate", "apply", "--config", cfg, "--yes", "--reviewer", "ops@acme.com")
	if r.code != exitFailed || !strings.Contains(r.stderr, "answered 500") || !strings.Contains(r.stdout, "the batch stopped") {
		t.Fatalf("apply with a failure: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = mustRun(t, runRemediate(t, nil, "remediate", "status", "--config", cfg, "--format", "csv"), "status")
	recs, _ := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	states := map[string]string{}
	for _, rec := range recs[1:] {
		states[rec[3]] = rec[14]
		if rec[3] == "erin@acme.com" && !strings.Contains(rec[20], "sha256:") {
			t.Errorf("the failed action has no capture: %v", rec)
		}
	}
	want := map[string]string{"bob@acme.com": "pending", "carol@acme.com": "pending", "erin@acme.com": "failed", "frank@acme.com": "skipped"}
	if fmt.Sprint(states) != fmt.Sprint(want) {
		t.Fatalf("states %v, want %v", states, want)
	}
	mustRun(t, run(t, nil, "run", "--config", cfg), "second run")
	runRemediate(t, nil, "remediate", "confirm", "--config", cfg)
	r = mustRun(t, runRemediate(t, actors, "remediate", "plan", "--config", cfg, "--format", "csv"), "plan")
	recs, _ = csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	var again []string
	for _, rec := range recs[1:] {
		again = append(again, rec[3]+" "+rec[18])
	}
	if fmt.Sprint(again) != "[erin@acme.com failed frank@acme.com skipped]" {
		t.Fatalf("planned again: %v", again)
	}
}

// TestRemediateStonlyInChromium drives the Stonly Actor in a real
// Chromium against the replica, through the commands an operator types:
// the leaver Bob's Admin account removed, Frank's Admin downgraded to
// Member, Erin's invitation revoked and Carol's bypass removed, each
// confirmed by the next run; Mallory's removal refused because her row
// changed since the decision; the batch stopped by the cap before
// anything ran; and a removal the replica refuses stopping the batch,
// with the actions before it carried out and those after it skipped.
func TestRemediateStonlyInChromium(t *testing.T) {
	browsertest.Path(t)
	dir := t.TempDir()
	env, err := demo.Start(demo.New(60), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	cfg := env.Config
	setRole := func(email, role string) {
		env.Stonly.Update(func(sc *stonlytest.Scenario) {
			for i := range sc.Teams {
				for j := range sc.Teams[i].Members {
					if sc.Teams[i].Members[j].Email == email {
						sc.Teams[i].Members[j].Role = role
					}
				}
			}
		})
	}
	// Frank is an Admin whom the IdPs expect as Member: a downgrade. The
	// Owner of Support Center signs in with an address no IdP knows, and
	// the account idgraph signs in with is a member: both are orphaned,
	// and both are protected from any action.
	setRole("frank.excess@acme.com", "Admin")
	env.Stonly.Update(func(sc *stonlytest.Scenario) {
		for i := range sc.Teams {
			if sc.Teams[i].ID != demo.Teams[0].ID {
				continue
			}
			for j := range sc.Teams[i].Members {
				if sc.Teams[i].Members[j].Role == "Owner" {
					sc.Teams[i].Members[j].Email = "olivia.private@gmail.com"
				}
			}
			sc.Teams[i].Members = append(sc.Teams[i].Members, stonlytest.Member{Name: "IT Bot", Email: "it-bot@acme.com", Role: "Admin"})
		}
	})
	runIt := func(what string) {
		t.Helper()
		var out, errb strings.Builder
		if code := Main(context.Background(), []string{"run", "-c", cfg}, strings.NewReader(""), &out, &errb, env.Getenv); code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", what, code, out.String(), errb.String())
		}
	}
	remediate := func(args ...string) result {
		t.Helper()
		return runRemediateEnv(t, env.Getenv, nil, append([]string{"remediate"}, append(args, "--config", cfg)...)...)
	}
	runIt("first run")
	decide := func(kind, email, decision, role string, four bool) {
		t.Helper()
		id := findingID(t, cfg, kind, email)
		args := []string{"decide", id, "--config", cfg, "--decision", decision, "--justification", "access review", "--reviewer", "rita@acme.com"}
		if role != "" {
			args = append(args, "--role", role)
		}
		r := mustRun(t, run(t, nil, args...), "decide "+email)
		if four != strings.Contains(r.stdout, "needs a second reviewer") {
			t.Logf("decide %s: four eyes %v expected, the review rules say: %s", email, four, r.stdout)
		}
		if strings.Contains(r.stdout, "needs a second reviewer") {
			mustRun(t, run(t, nil, "decide", id, "--config", cfg, "--confirm", "--reviewer", "sam@acme.com"), "confirm "+email)
		}
	}
	decide("orphaned", "bob.leaver@acme.com", "revoke", "", true)
	decide("role_mismatch", "frank.excess@acme.com", "modify", "Member", true)
	decide("missing", "erin.invited@acme.com", "revoke", "", false)
	decide("unassigned", "carol.bypass@acme.com", "revoke", "", false)
	decide("orphaned", "mallory.ext@gmail.com", "revoke", "", true)
	decide("orphaned", "olivia.private@gmail.com", "revoke", "", true)
	decide("orphaned", "it-bot@acme.com", "revoke", "", true)
	setRemediation(t, cfg, "  enabled: true\n  max_share: 0.2\n")

	// A dry run by default, then the cap: nothing reaches the application.
	if r := mustRun(t, remediate("apply", "--app", "stonly"), "dry run"); strings.Count(r.stdout, "-> would run") != 7 {
		t.Fatalf("dry run:\n%s", r.stdout)
	}
	if r := remediate("apply", "--app", "stonly", "--yes", "--reviewer", "ops@acme.com", "--max", "3"); r.code != exitUsage || !strings.Contains(r.stderr, "cap of 3") {
		t.Fatalf("apply over the cap: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if ch := env.Stonly.Changes(); len(ch) != 0 {
		t.Fatalf("the application was changed before the batch started: %+v", ch)
	}
	// Mallory's row changes after the decision: her removal is refused.
	setRole("mallory.ext@gmail.com", "Member")
	r := mustRun(t, remediate("apply", "--app", "stonly", "--yes", "--reviewer", "ops@acme.com"), "apply")
	outcome := func(st string) map[string]string {
		t.Helper()
		r := mustRun(t, remediate("status", "--app", "stonly", "--format", "csv"), "status")
		recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, rec := range recs[1:] {
			out[rec[3]] = rec[14]
			if st != "" && rec[14] == st && !strings.Contains(rec[20], "sha256:") {
				t.Errorf("action of %s has no capture: %v", rec[3], rec)
			}
		}
		return out
	}
	want := map[string]string{"bob.leaver@acme.com": "pending", "frank.excess@acme.com": "pending", "erin.invited@acme.com": "pending",
		"carol.bypass@acme.com": "pending", "mallory.ext@gmail.com": "refused", "olivia.private@gmail.com": "refused", "it-bot@acme.com": "refused"}
	if got := outcome("pending"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after apply: %v, want %v\n%s", got, want, r.stdout)
	}
	for _, why := range []string{"is the Owner of team Support Center", "the account idgraph signs in with"} {
		if !strings.Contains(r.stdout, why) {
			t.Errorf("apply does not say %q:\n%s", why, r.stdout)
		}
	}
	runIt("second run")
	remediate("confirm") // the run may have confirmed them already
	for k, v := range want {
		if v == "pending" {
			want[k] = "confirmed"
		}
	}
	if got := outcome(""); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after the next run: %v, want %v", got, want)
	}
	if r := mustRun(t, remediate("plan", "--app", "stonly", "--format", "csv"), "plan"); !strings.Contains(r.stdout, "mallory.ext@gmail.com") ||
		strings.Contains(r.stdout, "bob.leaver") {
		t.Errorf("plan after the confirmed actions:\n%s", r.stdout)
	}

	// A failure mid-batch: the replica refuses Peggy's removal.
	decide("orphaned", "peggy.suspended@acme.com", "revoke", "", false)
	decide("orphaned", "ken.staged@acme.com", "revoke", "", false)
	v := stonlytest.Variant{RefuseRemove: "peggy.suspended@acme.com"}
	env.Stonly.SetVariant(v)
	// Mallory's decision stays refused; only the new ones and hers run.
	r = remediate("apply", "--app", "stonly", "--yes", "--reviewer", "ops@acme.com")
	if r.code != exitFailed || !strings.Contains(r.stderr, "stopped") {
		t.Fatalf("apply with a refused removal: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	got := outcome("")
	if got["peggy.suspended@acme.com"] != "failed" {
		t.Fatalf("peggy's removal: %v\n%s", got, r.stdout)
	}
	env.Stonly.SetVariant(stonlytest.Variant{})
	runIt("third run")
	remediate("confirm")
	got = outcome("")
	for _, e := range []string{"bob.leaver@acme.com", "frank.excess@acme.com", "erin.invited@acme.com", "carol.bypass@acme.com"} {
		if got[e] != "confirmed" {
			t.Errorf("%s is %s after the failed batch, want confirmed", e, got[e])
		}
	}
	if s := got["ken.staged@acme.com"]; s != "confirmed" && s != "skipped" {
		t.Errorf("ken's action is %s: want confirmed (before peggy's) or skipped (after it)", s)
	}
	mustRun(t, run(t, nil, "verify", "--config", cfg), "verify")
}

// TestRemediateSCIM drives the SCIM Actor against scimtest (the demo's
// second application, read and changed through SCIM 2.0): the leaver's
// account deactivated and a Workspace Owner downgraded, each confirmed by
// the next run; a changed user refused; the provisioning bot (the token's
// own account, /Me) protected; the cap; and a write the service provider
// answers 500 stopping the batch, the rest skipped.
func TestRemediateSCIM(t *testing.T) {
	browsertest.Path(t) // the demo's run reads Stonly in Chromium too
	dir := t.TempDir()
	env, err := demo.Start(demo.New(60), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	cfg := env.Config
	runIt := func(what string) {
		t.Helper()
		var out, errb strings.Builder
		if code := Main(context.Background(), []string{"run", "-c", cfg}, strings.NewReader(""), &out, &errb, env.Getenv); code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", what, code, out.String(), errb.String())
		}
	}
	remediate := func(args ...string) result {
		t.Helper()
		return runRemediateEnv(t, env.Getenv, nil, append([]string{"remediate"}, append(args, "--config", cfg)...)...)
	}
	runIt("first run")
	decide := func(kind, email, decision, role string) {
		t.Helper()
		id := findingOf(t, cfg, "notion", kind, email)
		args := []string{"decide", id, "--config", cfg, "--decision", decision, "--justification", "access review", "--reviewer", "rita@acme.com"}
		if role != "" {
			args = append(args, "--role", role)
		}
		r := mustRun(t, run(t, nil, args...), "decide "+email)
		if strings.Contains(r.stdout, "needs a second reviewer") {
			mustRun(t, run(t, nil, "decide", id, "--config", cfg, "--confirm", "--reviewer", "sam@acme.com"), "confirm "+email)
		}
	}
	decide("orphaned", "bob.leaver@acme.com", "revoke", "")
	decide("role_mismatch", "grace.shortfall@acme.com", "modify", "Member")
	decide("unassigned", "carol.bypass@acme.com", "revoke", "")
	decide("orphaned", "scim-bot@acme.com", "revoke", "")
	setRemediation(t, cfg, "  enabled: true\n  max_share: 0.5\n")
	writes := func() int { return len(env.Notion.Writes()) }
	if r := remediate("apply", "--app", "notion", "--yes", "--reviewer", "ops@acme.com", "--max", "3"); r.code != exitUsage || !strings.Contains(r.stderr, "cap of 3") || writes() != 0 {
		t.Fatalf("apply over the cap: %d (%d writes)\n%s%s", r.code, writes(), r.stdout, r.stderr)
	}
	// Carol's role changes after the decision: refused.
	carol := ""
	for _, u := range env.Notion.Users() {
		if u.UserName == "carol.bypass@acme.com" {
			carol = u.ID
		}
	}
	env.Notion.Update(carol, func(u *scimtest.User) { u.Roles[0].Value = "Workspace Admin" })
	r := mustRun(t, remediate("apply", "--app", "notion", "--yes", "--reviewer", "ops@acme.com"), "apply")
	status := func() map[string]string {
		t.Helper()
		r := mustRun(t, remediate("status", "--app", "notion", "--format", "csv"), "status")
		recs, _ := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		out := map[string]string{}
		for _, rec := range recs[1:] {
			out[rec[3]] = rec[14]
		}
		return out
	}
	want := map[string]string{"bob.leaver@acme.com": "pending", "grace.shortfall@acme.com": "pending", "carol.bypass@acme.com": "refused", "scim-bot@acme.com": "refused"}
	if got := status(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after apply: %v, want %v\n%s", got, want, r.stdout)
	}
	if !strings.Contains(r.stdout, "GET /Me") {
		t.Errorf("the bot's refusal does not say it is the token's own account:\n%s", r.stdout)
	}
	runIt("second run")
	remediate("confirm")
	want["bob.leaver@acme.com"], want["grace.shortfall@acme.com"] = "confirmed", "confirmed"
	if got := status(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after the next run: %v, want %v", got, want)
	}
	// Carol is back at the role the decision saw, and the service
	// provider answers 500 to her write: the batch stops there.
	env.Notion.Update(carol, func(u *scimtest.User) { u.Roles[0].Value = "Member" })
	env.Notion.SetFaults(scimtest.Faults{RefuseWrite: map[string]int{carol: 500}})
	r = remediate("apply", "--app", "notion", "--yes", "--reviewer", "ops@acme.com")
	if r.code != exitFailed || !strings.Contains(r.stderr, "stopped") {
		t.Fatalf("apply with a refused write: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	want["carol.bypass@acme.com"], want["scim-bot@acme.com"] = "failed", "skipped"
	if got := status(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after the failed batch: %v, want %v\n%s", got, want, r.stdout)
	}
	mustRun(t, run(t, nil, "verify", "--config", cfg), "verify")
}

// TestRemediationOptionsForServe: the service's plan is the CLI's, and
// its apply holds the run lock: refused while a run holds the store.
func TestRemediationOptionsForServe(t *testing.T) {
	cfg := quickstart(t)
	mustRun(t, run(t, nil, "run", "--config", cfg), "run")
	quickstartDecisions(t, cfg)
	setRemediation(t, cfg, "  enabled: true\n  max_share: 0.5\n")
	a := &app{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, log: slog.New(slog.DiscardHandler), configPath: cfg}
	c, err := a.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), c.Path(c.Store))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	o, err := a.remediationOptions(c, st)
	if err != nil {
		t.Fatal(err)
	}
	p, err := o.Plan(context.Background(), "")
	if err != nil || !o.Enabled || len(p.Apps) != 1 || p.Apps[0].CanAct || len(p.Apps[0].Items) != 4 {
		t.Fatalf("plan for the service: %+v %v", p, err)
	}
	unlock, err := store.Lock(c.Path(c.Store))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := o.Apply(context.Background(), remediation.Request{Yes: true, Applier: "ops@acme.com"}); !errors.Is(err, remediation.ErrRefused) ||
		!strings.Contains(err.Error(), "holds the store") {
		t.Fatalf("apply while a run holds the store: %v", err)
	}
}
