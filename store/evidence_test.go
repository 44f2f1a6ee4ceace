package store

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
)

// decided is when the test decisions are made: after testSnapshot's
// snapshots finished (2026-12-01 02:01 UTC).
var decided = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// chained returns a store with two snapshots, three decisions (the second
// pending four eyes) and one confirmation, all through the store's API.
func chained(t *testing.T, logFile string) *Store {
	t.Helper()
	ctx := context.Background()
	s, _ := open(t)
	for range 2 {
		if err := s.WriteSnapshot(ctx, testSnapshot(t, 4, true)); err != nil {
			t.Fatal(err)
		}
	}
	for i, d := range []Decision{
		{FindingKey: "orphaned/stonly/a", Decision: "approve", Justification: "contractor until March", Reviewer: "ann@acme.com", ExpiresAt: decided.AddDate(0, 3, 0)},
		{FindingKey: "orphaned/stonly/b", Decision: "revoke", Justification: "left in November", Reviewer: "ann@acme.com", NeedsSecond: true},
		{FindingKey: "orphaned/stonly/a", Decision: "revoke", Justification: "contract ended early", Reviewer: "bob@acme.com"},
	} {
		d.DecidedAt, d.SnapshotID = decided.Add(time.Duration(i)*time.Minute), 2
		if err := s.Record(ctx, &d, logFile); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Confirm(ctx, 2, "bob@acme.com", decided.Add(10*time.Minute), logFile); err != nil {
		t.Fatal(err)
	}
	return s
}

func tamperSQL(t *testing.T, s *Store, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestEvidenceChainFindsTampering: every way of changing the evidence
// behind idgraph's back is found and named, and an untouched store
// verifies, with the head that reports print.
func TestEvidenceChainFindsTampering(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		tamper func(t *testing.T, s *Store) VerifyOptions
		want   string // in the problem; "" for none
		entry  int64
		row    string
	}{
		{name: "untouched", tamper: func(*testing.T, *Store) VerifyOptions { return VerifyOptions{} }},
		{name: "justification edited", tamper: func(t *testing.T, s *Store) VerifyOptions {
			tamperSQL(t, s, `UPDATE decisions SET justification = 'approved by the CISO' WHERE id = 2`)
			return VerifyOptions{}
		}, want: "decision 2): the decision was edited", entry: 2},
		{name: "reviewer edited", tamper: func(t *testing.T, s *Store) VerifyOptions {
			tamperSQL(t, s, `UPDATE decisions SET reviewer = 'ciso@acme.com' WHERE id = 1`)
			return VerifyOptions{}
		}, want: "was edited", entry: 1},
		{name: "decision deleted", tamper: func(t *testing.T, s *Store) VerifyOptions {
			tamperSQL(t, s, `DELETE FROM decisions WHERE id = 3`)
			return VerifyOptions{}
		}, want: "decision was deleted", entry: 3},
		{name: "entry and decision deleted", tamper: func(t *testing.T, s *Store) VerifyOptions {
			tamperSQL(t, s, `DELETE FROM evidence WHERE seq = 1`, `DELETE FROM decisions WHERE id = 1`)
			return VerifyOptions{}
		}, want: "evidence entry 1 is missing", entry: 1},
		{name: "confirmation deleted", tamper: func(t *testing.T, s *Store) VerifyOptions {
			tamperSQL(t, s, `DELETE FROM confirmations`)
			return VerifyOptions{}
		}, want: "confirmation was deleted", entry: 4},
		{name: "entry edited", tamper: func(t *testing.T, s *Store) VerifyOptions {
			tamperSQL(t, s, `UPDATE evidence SET snapshot_id = 1, snapshot_hash = (SELECT hash FROM snapshots WHERE id = 1) WHERE seq = 2`)
			return VerifyOptions{}
		}, want: "does not match its stored hash", entry: 2},
		{name: "decision inserted by a stranger, backdated", tamper: func(t *testing.T, s *Store) VerifyOptions {
			tamperSQL(t, s, `INSERT INTO decisions (finding_key, decision, justification, expires_at, reviewer, decided_at, snapshot_id)
				VALUES ('orphaned/stonly/b', 'approve', 'fine', '2027-12-01T00:00:00Z', 'ciso@acme.com', '2026-11-15T09:00:00Z', 1)`)
			return VerifyOptions{}
		}, want: "decision 4 (approve by ciso@acme.com, dated 2026-11-15T09:00:00Z) is not in the evidence chain", row: "decision 4"},
		{name: "decision inserted with a forged entry, backdated", tamper: func(t *testing.T, s *Store) VerifyOptions {
			// The forger knows the algorithm and appends a well-formed
			// entry: its date gives it away.
			at := "2026-11-15T09:00:00Z"
			tamperSQL(t, s, `INSERT INTO decisions (finding_key, decision, justification, expires_at, reviewer, decided_at, snapshot_id)
				VALUES ('orphaned/stonly/b', 'approve', 'fine', '2027-12-01T00:00:00Z', 'ciso@acme.com', '`+at+`', 1)`)
			forge(t, s, 4, at)
			return VerifyOptions{}
		}, want: "before the entry before it", entry: 5},
		{name: "newest snapshot deleted, head recorded", tamper: func(t *testing.T, s *Store) VerifyOptions {
			head := verified(t, s).Head
			tamperSQL(t, s, `DELETE FROM evidence`, `DELETE FROM confirmations`, `DELETE FROM decisions`,
				`DELETE FROM findings WHERE snapshot_id = 2`, `DELETE FROM people WHERE snapshot_id = 2`, `DELETE FROM accounts WHERE snapshot_id = 2`,
				`DELETE FROM sources WHERE snapshot_id = 2`, `DELETE FROM priors WHERE snapshot_id = 2`, `DELETE FROM expectations WHERE snapshot_id = 2`, `DELETE FROM snapshots WHERE id = 2`)
			return VerifyOptions{Head: head}
		}, want: "names snapshot 2, but the newest snapshot in the store is 1: snapshots were deleted"},
		{name: "newest snapshot deleted, decisions name it", tamper: func(t *testing.T, s *Store) VerifyOptions {
			tamperSQL(t, s, `DELETE FROM findings WHERE snapshot_id = 2`, `DELETE FROM people WHERE snapshot_id = 2`, `DELETE FROM accounts WHERE snapshot_id = 2`,
				`DELETE FROM sources WHERE snapshot_id = 2`, `DELETE FROM priors WHERE snapshot_id = 2`, `DELETE FROM expectations WHERE snapshot_id = 2`, `DELETE FROM snapshots WHERE id = 2`)
			return VerifyOptions{}
		}, want: "snapshot 2 was the latest, and that snapshot is no longer in the store", entry: 1},
		{name: "head from another store", tamper: func(t *testing.T, s *Store) VerifyOptions {
			return VerifyOptions{Head: Head(2, strings.Repeat("0", 64), 4, strings.Repeat("1", 64))}
		}, want: "does not match snapshot 2 and evidence entry 4"},
		{name: "not a head", tamper: func(t *testing.T, s *Store) VerifyOptions { return VerifyOptions{Head: "abc"} }, want: "is not a chain head"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := chained(t, "")
			opt := tc.tamper(t, s)
			res, err := s.VerifyWith(ctx, opt)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if !res.Verified() || res.Checked != 2 || res.Entries != 4 {
					t.Fatalf("untouched store: %+v", res)
				}
				if head, _ := s.ChainHead(ctx); head != res.Head || !strings.HasPrefix(head, "s2.e4.") {
					t.Errorf("head %q, recomputed %q", head, res.Head)
				}
				return
			}
			if res.Verified() || !strings.Contains(res.Problem, tc.want) {
				t.Fatalf("problem %q, want it to say %q", res.Problem, tc.want)
			}
			if res.BadEntry != tc.entry || res.BadRow != tc.row {
				t.Errorf("named entry %d row %q, want %d %q", res.BadEntry, res.BadRow, tc.entry, tc.row)
			}
		})
	}
}

// forge appends a well-formed chain entry for decision ref, as someone who
// knows the algorithm would.
func forge(t *testing.T, s *Store, ref int64, at string) {
	t.Helper()
	ctx := context.Background()
	entries, err := chainEntries(ctx, s.db)
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1]
	body, err := decisionBody(ctx, s.db, ref)
	if err != nil {
		t.Fatal(err)
	}
	e := Entry{Seq: last.Seq + 1, Kind: "decision", Ref: ref, At: at, SnapshotID: last.SnapshotID, SnapshotHash: last.SnapshotHash, Body: body, PrevHash: last.Hash}
	e.Hash = e.sum()
	if _, err := s.db.Exec(`INSERT INTO evidence VALUES (?,?,?,?,?,?,?,?,?)`, e.Seq, e.Kind, e.Ref, e.At, e.SnapshotID, e.SnapshotHash, e.Body, e.PrevHash, e.Hash); err != nil {
		t.Fatal(err)
	}
}

func verified(t *testing.T, s *Store) VerifyResult {
	t.Helper()
	res, err := s.Verify(context.Background())
	if err != nil || !res.Verified() {
		t.Fatalf("verify: %+v %v", res, err)
	}
	return res
}

// TestEmptyStoreIsNeverVerified: a store without a snapshot (new, or
// truncated to its schema) does not verify.
func TestEmptyStoreIsNeverVerified(t *testing.T) {
	s, _ := open(t)
	res, err := s.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Verified() || !strings.Contains(res.Problem, "holds no snapshot") {
		t.Fatalf("empty store: %+v", res)
	}
}

// TestEvidenceLog: every entry becomes a line of the log file; a log
// shipped elsewhere finds an entry deleted from the end of the chain,
// which the store alone cannot.
func TestEvidenceLog(t *testing.T) {
	ctx := context.Background()
	log := filepath.Join(t.TempDir(), "evidence.log")
	s := chained(t, log)
	if err := s.AnchorSnapshot(ctx, log); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(data), "\n"); lines != 5 {
		t.Fatalf("%d log lines, want 4 entries and 1 snapshot:\n%s", lines, data)
	}
	if fi, _ := os.Stat(log); fi.Mode().Perm() != 0o600 {
		t.Errorf("log mode %o", fi.Mode().Perm())
	}
	if res, err := s.VerifyWith(ctx, VerifyOptions{Log: bytes.NewReader(data)}); err != nil || !res.Verified() {
		t.Fatalf("untouched store against its log: %+v %v", res, err)
	}
	// A decision appended with a well-formed entry by someone who knows
	// the algorithm: the store alone cannot tell, the log can.
	at := "2026-12-01T11:00:00Z"
	tamperSQL(t, s, `INSERT INTO decisions (finding_key, decision, justification, expires_at, reviewer, decided_at, snapshot_id)
		VALUES ('orphaned/stonly/b', 'approve', 'fine', '2027-12-01T00:00:00Z', 'ciso@acme.com', '`+at+`', 2)`)
	forge(t, s, 4, at)
	verified(t, s)
	res, err := s.VerifyWith(ctx, VerifyOptions{Log: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verified() || res.BadEntry != 5 || !strings.Contains(res.Problem, "evidence entry 5 (decision 4) is in the store but not in the evidence log") {
		t.Fatalf("forged entry at the end: %+v", res)
	}
	tamperSQL(t, s, `DELETE FROM evidence WHERE seq = 5`, `DELETE FROM decisions WHERE id = 4`)

	// The last entry and its row removed: the store's own chain is still
	// consistent, the log is not.
	tamperSQL(t, s, `DELETE FROM evidence WHERE seq = 4`, `DELETE FROM confirmations`)
	if res := verified(t, s); res.Entries != 3 {
		t.Fatalf("after the deletion the store alone has %d entries", res.Entries)
	}
	res, err = s.VerifyWith(ctx, VerifyOptions{Log: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verified() || !strings.Contains(res.Problem, "line 4 of the evidence log (confirmation 1): evidence entry 4 is not in the store") {
		t.Fatalf("deleted last entry: %+v", res)
	}
}

// TestLegacyDecisionsAreChained: decisions recorded before the chain
// existed become its first entries when the store is upgraded; the chain
// verifies before and after the next write seals them, with the same
// hashes either way.
func TestLegacyDecisionsAreChained(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	if err := s.WriteSnapshot(ctx, testSnapshot(t, 4, true)); err != nil {
		t.Fatal(err)
	}
	sub, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectSQLite3, s.db, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 5); err != nil {
		t.Fatalf("down: %v", err)
	}
	tamperSQL(t, s, `INSERT INTO decisions (finding_key, decision, justification, expires_at, reviewer, decided_at, snapshot_id) VALUES
		('k1', 'approve', 'ok', '2027-01-01T00:00:00Z', 'ann@acme.com', '2026-12-01T03:00:00Z', 1),
		('k2', 'exception', 'service account', '', 'ann@acme.com', '2026-12-01T04:00:00Z', 1)`)
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	// Migration 7's Down forgets that the snapshot was written in format
	// 2 (it has neither titles nor expected roles, so nothing else is lost).
	tamperSQL(t, s, `UPDATE snapshots SET format = 2`)
	before := verified(t, s)
	if before.Entries != 2 {
		t.Fatalf("legacy entries %d, want 2", before.Entries)
	}
	if head, err := s.ChainHead(ctx); err != nil || head != before.Head {
		t.Fatalf("head of the unsealed chain %q (%v), verify computes %q", head, err, before.Head)
	}
	if err := s.SealEvidence(ctx); err != nil {
		t.Fatal(err)
	}
	if sealed := verified(t, s); sealed.Head != before.Head {
		t.Fatalf("sealing changed the head: %q, was %q", sealed.Head, before.Head)
	}
	d := Decision{FindingKey: "k1", Decision: "revoke", Justification: "gone", Reviewer: "bob@acme.com", DecidedAt: decided, SnapshotID: 1}
	if err := s.Decide(ctx, &d); err != nil {
		t.Fatal(err)
	}
	var unsealed int
	s.db.QueryRow(`SELECT COUNT(*) FROM evidence WHERE hash = ''`).Scan(&unsealed)
	if unsealed != 0 {
		t.Errorf("%d entries left unsealed by a write", unsealed)
	}
	after, err := s.VerifyWith(ctx, VerifyOptions{Head: before.Head})
	if err != nil || !after.Verified() || after.Entries != 3 {
		t.Fatalf("after sealing, against the head before: %+v %v", after, err)
	}
	// A legacy entry edited before it was sealed is found once sealed.
	tamperSQL(t, s, `UPDATE decisions SET reviewer = 'ciso@acme.com' WHERE id = 2`)
	if res, _ := s.Verify(ctx); res.Verified() || res.BadEntry != 2 {
		t.Errorf("edited legacy decision: %+v", res)
	}
}

// TestDecisionsAsOf: the review as it stood at a moment. A pending
// decision is not in force, and never hides the one before it; a
// confirmation made later is not shown.
func TestDecisionsAsOf(t *testing.T) {
	ctx := context.Background()
	s := chained(t, "")
	tests := []struct {
		asOf         time.Time
		n            int
		a, b         string // decision in force for a and b ("" none)
		bConfirmedBy string
	}{
		{decided.Add(-time.Second), 0, "", "", ""},
		{decided, 1, "approve", "", ""},
		{decided.Add(time.Minute), 2, "approve", "", ""}, // b's revoke waits for its second reviewer
		{decided.Add(2 * time.Minute), 3, "revoke", "", ""},
		{decided.Add(10 * time.Minute), 3, "revoke", "revoke", "bob@acme.com"},
		{time.Time{}, 3, "revoke", "revoke", "bob@acme.com"},
	}
	for _, tc := range tests {
		cur, all, err := s.DecisionsAsOf(ctx, tc.asOf)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != tc.n || cur["orphaned/stonly/a"].Decision != tc.a || cur["orphaned/stonly/b"].Decision != tc.b ||
			cur["orphaned/stonly/b"].ConfirmedBy != tc.bConfirmedBy {
			t.Errorf("as of %v: %d decisions, in force %+v", tc.asOf, len(all), cur)
		}
	}
	// A decision and a confirmation written around idgraph count for
	// nothing: no list, export or alert shows them.
	tamperSQL(t, s, `INSERT INTO decisions (finding_key, decision, justification, expires_at, reviewer, decided_at, snapshot_id)
		VALUES ('orphaned/stonly/c', 'approve', 'fine', '2027-12-01T00:00:00Z', 'ciso@acme.com', '2026-12-01T09:30:00Z', 2)`,
		`INSERT INTO decisions (finding_key, decision, justification, reviewer, decided_at, snapshot_id, needs_second)
		VALUES ('orphaned/stonly/d', 'revoke', 'gone', 'ann@acme.com', '2026-12-01T09:30:00Z', 2, 1)`)
	if cur, all, _ := s.DecisionsAsOf(ctx, time.Time{}); len(all) != 3 || cur["orphaned/stonly/c"].ID != 0 {
		t.Errorf("decisions outside the chain are shown: %+v", all)
	}
	h, err := s.History(ctx, "orphaned/stonly/a")
	if err != nil || len(h) != 2 || h[0].Decision != "approve" || h[1].Decision != "revoke" {
		t.Errorf("history of a: %+v %v", h, err)
	}
	// The chain only moves forward: a decision dated before the last
	// entry is refused.
	old := Decision{FindingKey: "k", Decision: "revoke", Justification: "x", Reviewer: "ann@acme.com", DecidedAt: decided, SnapshotID: 2}
	if err := s.Decide(ctx, &old); err == nil || !strings.Contains(err.Error(), "only moves forward") {
		t.Errorf("backdated decision: %v", err)
	}
}
