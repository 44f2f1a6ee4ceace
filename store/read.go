package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/diff"
)

// ErrNoSnapshot is returned when the store has no snapshot (yet) or not
// the one asked for.
var ErrNoSnapshot = errors.New("no such snapshot")

// Summary describes a snapshot without its rows.
type Summary struct {
	ID         int64     `json:"id"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Complete   bool      `json:"complete"`
	ConfigHash string    `json:"config_hash"`
	Version    string    `json:"version"`
	Accounts   int       `json:"accounts"`
	Findings   int       `json:"findings"`
	Hash       string    `json:"hash"`
	PrevHash   string    `json:"prev_hash"`
	Sources    []Source  `json:"sources"`
	// Format is how the snapshot was written: 1 before applications were
	// a dimension, 2 since (store.go).
	Format int `json:"format"`
}

const summaryCols = `id, started_at, finished_at, complete, config_hash, version, accounts, findings, hash, prev_hash, format`

func scanSummary(sc interface{ Scan(...any) error }) (*Summary, error) {
	var s Summary
	var st, fin string
	if err := sc.Scan(&s.ID, &st, &fin, &s.Complete, &s.ConfigHash, &s.Version, &s.Accounts, &s.Findings, &s.Hash, &s.PrevHash, &s.Format); err != nil {
		return nil, err
	}
	s.StartedAt, s.FinishedAt = parseTS(st), parseTS(fin)
	return &s, nil
}

// List returns every snapshot, newest first, with its sources.
func (s *Store) List(ctx context.Context) ([]Summary, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+summaryCols+` FROM snapshots ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: listing snapshots: %w", err)
	}
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		sum, err := scanSummary(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *sum)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Sources, err = s.Sources(ctx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Get returns one snapshot's summary; id 0 means the latest.
func (s *Store) Get(ctx context.Context, id int64) (*Summary, error) {
	q := `SELECT ` + summaryCols + ` FROM snapshots WHERE id = ?`
	args := []any{id}
	if id == 0 {
		q, args = `SELECT `+summaryCols+` FROM snapshots ORDER BY id DESC LIMIT 1`, nil
	}
	sum, err := scanSummary(s.db.QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		if id == 0 {
			return nil, fmt.Errorf("%w: the store %s has no snapshot yet", ErrNoSnapshot, s.path)
		}
		return nil, fmt.Errorf("%w: snapshot %d is not in %s", ErrNoSnapshot, id, s.path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: reading snapshot: %w", err)
	}
	if sum.Sources, err = s.Sources(ctx, sum.ID); err != nil {
		return nil, err
	}
	return sum, nil
}

// Sources returns the sources of a snapshot, by name.
func (s *Store) Sources(ctx context.Context, id int64) ([]Source, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, kind, app, version, completeness, state, title, roles FROM sources WHERE snapshot_id = ? ORDER BY name`, id)
	if err != nil {
		return nil, fmt.Errorf("store: reading sources: %w", err)
	}
	defer rows.Close()
	var out []Source
	for rows.Next() {
		var src Source
		var c, ladder string
		if err := rows.Scan(&src.Info.Name, &src.Info.Kind, &src.Info.App, &src.Info.Version, &c, &src.State, &src.Info.Title, &ladder); err != nil {
			return nil, err
		}
		switch {
		case ladder != "":
			if err := json.Unmarshal([]byte(ladder), &src.Info.Roles); err != nil {
				return nil, fmt.Errorf("store: snapshot %d source %s: role ladder: %w", id, src.Info.Name, err)
			}
		case src.Info.Kind == collectors.KindApp:
			src.Info.Roles = legacyLadder // a format 1 snapshot
		}
		if err := json.Unmarshal([]byte(c), &src.Completeness); err != nil {
			return nil, fmt.Errorf("store: snapshot %d source %s: %w", id, src.Info.Name, err)
		}
		out = append(out, src)
	}
	return out, rows.Err()
}

// Findings returns a snapshot's findings in stored (report) order.
func (s *Store) Findings(ctx context.Context, id int64) ([]diff.Finding, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM findings WHERE snapshot_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("store: reading findings: %w", err)
	}
	defer rows.Close()
	var out []diff.Finding
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var f diff.Finding
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, fmt.Errorf("store: snapshot %d: corrupt finding: %w", id, err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// LinkedAccount is a stored account with its person and link reason.
type LinkedAccount struct {
	collectors.Account
	Person     string `json:"person"`
	LinkReason string `json:"link_reason"`
}

// Accounts returns a snapshot's accounts, optionally of some sources only.
func (s *Store) Accounts(ctx context.Context, id int64, sources ...string) ([]LinkedAccount, error) {
	q := `SELECT data, person_id, link_reason FROM accounts WHERE id >= ? AND id < ?`
	args := accountRange(id)
	if len(sources) > 0 {
		q += ` AND source IN (?` + strings.Repeat(",?", len(sources)-1) + `)`
		for _, s := range sources {
			args = append(args, s)
		}
	}
	// A format 1 snapshot's assignments name no application: they were
	// all of its one application.
	var legacyApp string
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE((SELECT MIN(app) FROM sources WHERE snapshot_id = ?1 AND kind = 'app' AND app != ''
		AND (SELECT format FROM snapshots WHERE id = ?1) < `+strconv.Itoa(formatApps)+`), '')`, id).Scan(&legacyApp); err != nil {
		return nil, fmt.Errorf("store: reading snapshot %d's application: %w", id, err)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: reading accounts: %w", err)
	}
	defer rows.Close()
	var out []LinkedAccount
	for rows.Next() {
		var data []byte
		var la LinkedAccount
		if err := rows.Scan(&data, &la.Person, &la.LinkReason); err != nil {
			return nil, err
		}
		if legacyApp != "" {
			acc, err := legacyAccount(data, legacyApp)
			if err != nil {
				return nil, fmt.Errorf("store: snapshot %d: corrupt account: %w", id, err)
			}
			la.Account = acc
			out = append(out, la)
			continue
		}
		// The JSON v2 decoder (the module behind encoding/json/v2, which
		// chromedp already brings in) decodes accounts about 2.5 times as
		// fast as encoding/json; an incremental run and drift read every
		// account of the previous snapshot. The rows were written by
		// encoding/json, whose output v2 reads unchanged.
		if err := jsonv2.Unmarshal(data, &la.Account); err != nil {
			return nil, fmt.Errorf("store: snapshot %d: corrupt account: %w", id, err)
		}

		out = append(out, la)
	}
	return out, rows.Err()
}

// SourceAccounts returns a snapshot's accounts as their sources reported
// them, without the person and link reason correlation gave each.
func (s *Store) SourceAccounts(ctx context.Context, id int64) ([]collectors.Account, error) {
	las, err := s.Accounts(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]collectors.Account, len(las))
	for i := range las {
		out[i] = las[i].Account
	}
	return out, nil
}

// Baseline returns the newest snapshot before `before` (0: any) in which
// every named source was recorded complete, or 0 when there is none.
func (s *Store) Baseline(ctx context.Context, before int64, sources []string) (int64, error) {
	if len(sources) == 0 {
		return 0, nil
	}
	if before == 0 {
		before = 1<<62 - 1
	}
	q := `SELECT s.id FROM snapshots s WHERE s.id < ? AND (SELECT COUNT(*) FROM sources c WHERE c.snapshot_id = s.id AND c.complete
		AND c.name IN (?` + strings.Repeat(",?", len(sources)-1) + `)) = ? ORDER BY s.id DESC LIMIT 1`
	args := []any{before}
	for _, n := range sources {
		args = append(args, n)
	}
	args = append(args, len(sources))
	var id int64
	err := s.db.QueryRowContext(ctx, q, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// LastComplete returns the newest complete record of a source, or nil.
func (s *Store) LastComplete(ctx context.Context, source string) (int64, *Source, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT snapshot_id FROM sources WHERE name = ? AND complete ORDER BY snapshot_id DESC LIMIT 1`, source).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, err
	}
	srcs, err := s.Sources(ctx, id)
	if err != nil {
		return 0, nil, err
	}
	for i := range srcs {
		if srcs[i].Info.Name == source {
			return id, &srcs[i], nil
		}
	}
	return 0, nil, nil
}

// FirstSeen returns, for every finding key of a snapshot, when it was
// first seen.
func (s *Store) FirstSeen(ctx context.Context, id int64) (map[string]diff.Finding, error) {
	fs, err := s.Findings(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make(map[string]diff.Finding, len(fs))
	for _, f := range fs {
		out[f.Key] = diff.Finding{FirstSeen: f.FirstSeen, FirstSnap: f.FirstSnap}
	}
	return out, nil
}

// VerifyResult is the outcome of walking the hash chains.
type VerifyResult struct {
	Checked  int    `json:"checked"`                // snapshots that verified
	Entries  int    `json:"evidence_entries"`       // evidence entries that verified
	BadID    int64  `json:"bad_snapshot,omitempty"` // first snapshot that does not match
	BadEntry int64  `json:"bad_entry,omitempty"`    // first evidence entry that does not match
	BadRow   string `json:"bad_row,omitempty"`      // a row outside the chain ("decision 7")
	Problem  string `json:"problem,omitempty"`
	// Head is the store's head as recomputed: compare it with one
	// recorded elsewhere (reports and manifests print it).
	Head string `json:"head,omitempty"`
}

// Verified reports whether the store verified: at least one snapshot, and
// no problem. An empty store is never verified: it is more likely a
// truncated one than a new one.
func (r VerifyResult) Verified() bool { return r.Checked > 0 && r.Problem == "" }

// Verify recomputes every snapshot's hash from its rows and checks the
// chain of previous hashes, then does the same for the evidence chain
// (decisions and confirmations); it reports the first entry that fails.
func (s *Store) Verify(ctx context.Context) (VerifyResult, error) {
	return s.VerifyWith(ctx, VerifyOptions{})
}

// VerifyWith is Verify, anchored outside the store by a head recorded
// elsewhere and by the evidence log file.
func (s *Store) VerifyWith(ctx context.Context, opt VerifyOptions) (VerifyResult, error) {
	var res VerifyResult
	list, err := s.List(ctx)
	if err != nil {
		return res, err
	}
	prev := ""
	snaps := map[int64]*Summary{}
	for i := len(list) - 1; i >= 0; i-- {
		sum := list[i]
		bad := func(p string) (VerifyResult, error) {
			res.BadID, res.Problem = sum.ID, p
			return res, nil
		}
		if sum.PrevHash != prev {
			return bad("its previous-hash does not match the snapshot before it")
		}
		got, err := s.recompute(ctx, &sum)
		if err != nil {
			return res, err
		}
		if got != sum.Hash {
			return bad("its content does not match its stored hash (a row was changed, added or removed)")
		}
		if p, err := s.checkPriors(ctx, sum.ID); err != nil {
			return res, err
		} else if p != "" {
			return bad(p)
		}
		prev = sum.Hash
		snaps[sum.ID] = &list[i]
		res.Checked++
	}
	latest := &Summary{}
	if len(list) > 0 {
		latest = &list[0]
	}
	if err := s.verifyEvidence(ctx, &res, snaps, latest, opt); err != nil {
		return res, err
	}
	if res.Problem == "" && res.Checked == 0 {
		res.Problem = "the store holds no snapshot, so nothing is verified (an empty store is more likely truncated than new)"
	}
	return res, nil
}

func (s *Store) recompute(ctx context.Context, sum *Summary) (string, error) {
	h := newHasher(&Snapshot{PrevHash: sum.PrevHash, StartedAt: sum.StartedAt, FinishedAt: sum.FinishedAt,
		ConfigHash: sum.ConfigHash, Version: sum.Version})
	byID := []any{sum.ID}
	queries := []struct {
		q    string
		args []any
		tag  string
	}{
		{`SELECT name, completeness FROM sources WHERE snapshot_id = ? ORDER BY name`, byID, "source"},
		{`SELECT data, person_id, link_reason FROM accounts WHERE id >= ? AND id < ? ORDER BY id`, accountRange(sum.ID), "account"},
		{`SELECT person_id, email, display_name, expected_role, expected_why FROM people WHERE snapshot_id = ? ORDER BY person_id`, byID, "person"},
		{`SELECT data FROM findings WHERE snapshot_id = ? ORDER BY seq`, byID, "finding"},
	}
	if sum.Format >= formatApps {
		queries[0].q = `SELECT name, completeness, title, roles FROM sources WHERE snapshot_id = ? ORDER BY name`
		queries = slices.Insert(queries, 3, struct {
			q    string
			args []any
			tag  string
		}{`SELECT person_id, app, role, why FROM expectations WHERE snapshot_id = ? ORDER BY person_id, app`, byID, "expect"})
	} else {
		// The expected roles of a format 1 snapshot were copied into
		// per-application rows by migration 7; its hash covers the people
		// columns they came from, so the copies must agree with them.
		var differ int
		if err := s.db.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM people p WHERE p.snapshot_id = ?1 AND (p.expected_role != '' OR p.expected_why != '') AND NOT EXISTS
				(SELECT 1 FROM expectations e WHERE e.snapshot_id = p.snapshot_id AND e.person_id = p.person_id AND e.role = p.expected_role AND e.why = p.expected_why))
			+ (SELECT COUNT(*) FROM expectations e WHERE e.snapshot_id = ?1 AND NOT EXISTS
				(SELECT 1 FROM people p WHERE p.snapshot_id = e.snapshot_id AND p.person_id = e.person_id AND e.role = p.expected_role AND e.why = p.expected_why))`,
			sum.ID).Scan(&differ); err != nil {
			return "", err
		}
		if differ > 0 {
			return "expected roles differ from the people rows they were copied from", nil
		}
	}
	for _, q := range queries {
		rows, err := s.db.QueryContext(ctx, q.q, q.args...)
		if err != nil {
			return "", err
		}
		cols, _ := rows.Columns()
		vals := make([]string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return "", err
			}
			h.row(append([]string{q.tag}, vals...)...)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", err
		}
	}
	return h.sum(), nil
}

// Person is a stored person.
type Person struct {
	ID          string `json:"id"`
	Email       string `json:"email"`
	DisplayName string `json:"display_name"`
	// ExpectedRole and ExpectedWhy are the person's expected role when the
	// IdPs imply one in exactly one application (every single-application
	// store); Expected lists them all.
	ExpectedRole string             `json:"expected_role"`
	ExpectedWhy  string             `json:"expected_why"`
	Expected     []diff.Expectation `json:"expected,omitempty"`
}

// ExpectedIn returns the role the IdPs imply for the person in app, and
// why.
func (p *Person) ExpectedIn(app string) (role, why string) {
	for _, e := range p.Expected {
		if e.App == app {
			return e.Role, e.Why
		}
	}
	return "", ""
}

// People returns a snapshot's people by ID.
func (s *Store) People(ctx context.Context, id int64) (map[string]Person, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT person_id, email, display_name FROM people WHERE snapshot_id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("store: reading people: %w", err)
	}
	defer rows.Close()
	out := map[string]Person{}
	for rows.Next() {
		var p Person
		if err := rows.Scan(&p.ID, &p.Email, &p.DisplayName); err != nil {
			return nil, err
		}
		out[p.ID] = p
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	exps, err := s.db.QueryContext(ctx, `SELECT person_id, app, role, why FROM expectations WHERE snapshot_id = ? ORDER BY person_id, app`, id)
	if err != nil {
		return nil, fmt.Errorf("store: reading expected roles: %w", err)
	}
	defer exps.Close()
	for exps.Next() {
		var pid string
		var e diff.Expectation
		if err := exps.Scan(&pid, &e.App, &e.Role, &e.Why); err != nil {
			return nil, err
		}
		p, ok := out[pid]
		if !ok {
			continue
		}
		p.Expected = append(p.Expected, e)
		p.ExpectedRole, p.ExpectedWhy = "", ""
		if len(p.Expected) == 1 {
			p.ExpectedRole, p.ExpectedWhy = e.Role, e.Why
		}
		out[pid] = p
	}
	return out, exps.Err()
}

// Drift computes what changed from snapshot a to snapshot b. Accounts of a
// source incomplete in either snapshot are not compared, so a failed read
// never shows as removals.
func (s *Store) Drift(ctx context.Context, a, b int64) (*diff.Drift, error) {
	cur, err := s.diffSnapshot(ctx, b, nil)
	if err != nil {
		return nil, err
	}
	return s.DriftTo(ctx, a, nil, cur)
}

// DriftTo computes what changed from stored snapshot a to cur, which the
// caller already holds (a run compares the snapshot it just wrote).
// accounts, when not nil, are snapshot a's accounts as the caller holds
// them too, which saves reading them again.
func (s *Store) DriftTo(ctx context.Context, a int64, accounts []collectors.Account, cur diff.Snapshot) (*diff.Drift, error) {
	prev, err := s.diffSnapshot(ctx, a, accounts)
	if err != nil {
		return nil, err
	}
	d := diff.Compare(prev, cur)
	return &d, nil
}

// diffSnapshot reads what drift compares of one snapshot; acc, when not
// nil, are its accounts.
func (s *Store) diffSnapshot(ctx context.Context, id int64, acc []collectors.Account) (diff.Snapshot, error) {
	sum, err := s.Get(ctx, id)
	if err != nil {
		return diff.Snapshot{}, err
	}
	fs, err := s.Findings(ctx, id)
	if err != nil {
		return diff.Snapshot{}, err
	}
	if acc == nil {
		if acc, _, err = s.PriorAccounts(ctx, id); err != nil {
			return diff.Snapshot{}, err
		}
	}
	inc := map[string]bool{}
	apps := map[string]*diff.App{}
	for _, src := range sum.Sources {
		if !src.Completeness.Complete {
			inc[src.Info.Name] = true
		}
		if src.Info.Kind == collectors.KindApp {
			apps[src.Info.Name] = &diff.App{Name: src.Info.App, Title: src.Info.Title, Ladder: src.Info.Roles}
		}
	}
	return diff.Snapshot{ID: id, Findings: fs, Accounts: acc, Incomplete: inc, Apps: apps}, nil
}

// BaselineOf returns the snapshot a snapshot's drift compares with: the
// newest earlier one in which the sources complete in it were complete too.
func (s *Store) BaselineOf(ctx context.Context, sum *Summary) (int64, error) {
	var complete []string
	for _, src := range sum.Sources {
		if src.Completeness.Complete {
			complete = append(complete, src.Info.Name)
		}
	}
	return s.Baseline(ctx, sum.ID, complete)
}

// PersonIDs maps every account key of a snapshot to the ID of the person
// it belonged to, so that the next correlation keeps people's IDs while an
// IdP's accounts are missing. It reads two short columns, no JSON.
func (s *Store) PersonIDs(ctx context.Context, id int64) (map[string]string, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT accounts FROM snapshots WHERE id = ?`, id).Scan(&n); err != nil {
		return nil, fmt.Errorf("store: snapshot %d: %w", id, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT account_key, person_id FROM accounts WHERE id >= ? AND id < ?`, accountRange(id)...)
	if err != nil {
		return nil, fmt.Errorf("store: reading snapshot %d's people: %w", id, err)
	}
	defer rows.Close()
	out := make(map[string]string, n)
	for rows.Next() {
		var k, p string
		if err := rows.Scan(&k, &p); err != nil {
			return nil, err
		}
		out[k] = p
	}
	return out, rows.Err()
}

// legacyAccount decodes an account of a format 1 snapshot, whose one
// assignment (assigned, assigned_via, app_roles) was of its one
// application.
func legacyAccount(data []byte, app string) (collectors.Account, error) {
	var v struct {
		collectors.Account
		Assigned    bool     `json:"assigned"`
		AssignedVia []string `json:"assigned_via"`
		AppRoles    []string `json:"app_roles"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return collectors.Account{}, err
	}
	a := v.Account
	if len(a.Assignments) == 0 && (v.Assigned || len(v.AssignedVia) > 0 || len(v.AppRoles) > 0) {
		a.Assignments = []collectors.Assignment{{App: app, InForce: v.Assigned, Via: v.AssignedVia, Roles: v.AppRoles}}
	}
	a.ResolveApp(app)
	return a, nil
}
