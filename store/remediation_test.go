package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRemediationRecords: actions and proofs are entries of the evidence
// chain, read back as recorded; an action has one proof; a record written
// around idgraph counts for nothing; an edited or deleted record fails
// verify, and every record is in the evidence log.
func TestRemediationRecords(t *testing.T) {
	ctx := context.Background()
	log := filepath.Join(t.TempDir(), "evidence.log")
	s := chained(t, log)
	at := decided.Add(time.Hour)
	a := &Action{Batch: "b1", DecisionID: 2, FindingKey: "orphaned/stonly/b", App: "stonly", Source: "stonly", Team: "t1",
		AccountKey: "stonly:t1:b@acme.com", Email: "b@acme.com", Op: "remove", Account: `{"email":"b@acme.com","role":"Admin"}`,
		DecidedBy: "ann@acme.com", ConfirmedBy: "bob@acme.com", AppliedBy: "ops@acme.com", PlannedSnapshot: 2,
		StartedAt: at, EndedAt: at.Add(3 * time.Second), Outcome: "done", Detail: "toast: removed from team",
		Captures:   []Capture{{Name: "before", File: "/var/lib/idgraph/captures/b1-before.png", SHA256: strings.Repeat("a", 64), Type: "image/png"}},
		RecordedAt: at.Add(4 * time.Second)}
	if err := s.RecordAction(ctx, a, log); err != nil {
		t.Fatal(err)
	}
	p := &Proof{ActionID: a.ID, State: ProofConfirmed, SnapshotID: 2, Detail: "snapshot 2 shows no member b@acme.com", RecordedAt: at.Add(time.Minute)}
	if err := s.RecordProof(ctx, p, log); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordProof(ctx, &Proof{ActionID: a.ID, State: ProofUnconfirmed, SnapshotID: 2, RecordedAt: at.Add(2 * time.Minute)}, log); err == nil {
		t.Error("a second proof of one action was recorded")
	}
	if err := s.RecordProof(ctx, &Proof{ActionID: a.ID, State: "maybe"}, log); err == nil {
		t.Error("a proof in no known state was recorded")
	}
	acts, proofs, err := s.Remediations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 1 || acts[0].AppliedBy != "ops@acme.com" || !acts[0].EndedAt.Equal(a.EndedAt) || len(acts[0].Captures) != 1 ||
		acts[0].Captures[0].SHA256 != a.Captures[0].SHA256 || proofs[a.ID].State != ProofConfirmed || proofs[a.ID].SnapshotID != 2 {
		t.Fatalf("read back: %+v %+v", acts, proofs)
	}
	res := verified(t, s)
	if res.Entries != 6 {
		t.Errorf("%d entries, want 6 (3 decisions, 1 confirmation, 1 action, 1 proof)", res.Entries)
	}
	f, _ := os.Open(log)
	res, err = s.VerifyWith(ctx, VerifyOptions{Log: f})
	f.Close()
	if err != nil || !res.Verified() {
		t.Fatalf("verify against the evidence log: %+v %v", res, err)
	}
	// A record inserted around idgraph is not in the chain: not read.
	tamperSQL(t, s, `INSERT INTO remediation (record, decision_id, op, outcome, applied_by, recorded_at) VALUES ('action', 1, 'remove', 'done', 'x@acme.com', '2026-12-01T00:00:00Z')`)
	if acts, _, _ := s.Remediations(ctx); len(acts) != 1 {
		t.Errorf("a record outside the chain is read: %d actions", len(acts))
	}
	for _, c := range []struct{ name, sql, want string }{
		{"outcome edited", `UPDATE remediation SET outcome = 'refused' WHERE id = 1`, "was edited after it was recorded"},
		{"proof deleted", `DELETE FROM remediation WHERE record = 'proof'`, "was deleted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := chained(t, "")
			if err := s.RecordAction(ctx, &Action{DecisionID: 2, Op: "remove", Outcome: "done", RecordedAt: at}, ""); err != nil {
				t.Fatal(err)
			}
			if err := s.RecordProof(ctx, &Proof{ActionID: 1, State: ProofConfirmed, SnapshotID: 2, RecordedAt: at.Add(time.Minute)}, ""); err != nil {
				t.Fatal(err)
			}
			verified(t, s)
			tamperSQL(t, s, c.sql)
			res, err := s.Verify(ctx)
			if err != nil || res.Verified() || !strings.Contains(res.Problem, c.want) {
				t.Fatalf("verify after %s: %+v %v", c.name, res, err)
			}
		})
	}
	// A record dated before the last entry is refused: the chain only
	// moves forward.
	if err := s.RecordAction(ctx, &Action{DecisionID: 2, Op: "remove", Outcome: "done", RecordedAt: decided}, ""); err == nil {
		t.Error("a backdated action was recorded")
	}
}
