package store

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// The evidence chain (docs/RULES.md, "Review and evidence"). Every decision and
// every confirmation is an entry of one chain, numbered 1, 2, 3 ... with
// no gaps; each entry carries the previous entry's hash and its own hash
// over its canonical content: the row as recorded (body), when it was
// recorded, and the latest snapshot then with its hash, which ties the
// evidence chain to the snapshot chain. Campaign events, sign-offs and
// remediation records are further kinds of entry, each with its table and
// a body function.
//
// A chain inside the database proves nothing against someone who can
// rewrite the whole database: the head (the latest snapshot and the
// latest entry, hashed together) is printed by every report and manifest,
// can be checked with `verify --head`, and every entry can be appended to
// an evidence log file that an operator ships to write-once storage.

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Entry is one entry of the evidence chain.
type Entry struct {
	Seq          int64  `json:"seq"`
	Kind         string `json:"kind"` // decision, confirmation, campaign, signoff, action; snapshot in the log only
	Ref          int64  `json:"ref"`  // the row of that kind
	At           string `json:"at"`
	SnapshotID   int64  `json:"snapshot_id"`
	SnapshotHash string `json:"snapshot_hash"`
	Body         string `json:"-"`
	PrevHash     string `json:"prev_hash"`
	Hash         string `json:"hash"`
	// Head is the chain's head once this entry is recorded (log lines).
	Head string `json:"head,omitempty"`
}

func (e *Entry) sum() string {
	h := &hasher{h: sha256.New()}
	h.row("evidence", e.PrevHash, strconv.FormatInt(e.Seq, 10), e.Kind, strconv.FormatInt(e.Ref, 10), e.At,
		strconv.FormatInt(e.SnapshotID, 10), e.SnapshotHash, e.Body)
	return h.sum()
}

// Head names the state of the whole store: the latest snapshot and the
// latest evidence entry, hashed together, as "s<snapshot>.e<entry>.<hex>".
// A head recorded outside the store (a report, a manifest, a ticket)
// proves later that neither chain was cut back or rewritten.
func Head(snapshot int64, snapshotHash string, seq int64, entryHash string) string {
	sum := sha256.Sum256([]byte("idgraph-head\n" + snapshotHash + "\n" + entryHash + "\n"))
	return fmt.Sprintf("s%d.e%d.%s", snapshot, seq, hex.EncodeToString(sum[:]))
}

func parseHead(h string) (snap, seq int64, err error) {
	parts := strings.Split(strings.TrimSpace(h), ".")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "s") || !strings.HasPrefix(parts[1], "e") || len(parts[2]) != 64 {
		return 0, 0, fmt.Errorf("%q is not a chain head: a head reads s<snapshot>.e<entry>.<64 hex digits>, as reports and manifests print it", h)
	}
	if snap, err = strconv.ParseInt(parts[0][1:], 10, 64); err == nil {
		seq, err = strconv.ParseInt(parts[1][1:], 10, 64)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("%q is not a chain head: %w", h, err)
	}
	return snap, seq, nil
}

// ChainHead returns the store's current head.
func (s *Store) ChainHead(ctx context.Context) (string, error) {
	return s.HeadAsOf(ctx, time.Time{}, 0)
}

// HeadAsOf returns the head the store had at t (zero: now): the newest
// snapshot finished by then (at least snapshot atLeast, the one an export
// shows) and the last evidence entry recorded by then. An export of a
// past moment names the same head however many entries came later, and
// `verify --head` accepts it for as long as nothing up to it changes.
func (s *Store) HeadAsOf(ctx context.Context, t time.Time, atLeast int64) (string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, finished_at, hash FROM snapshots ORDER BY id`)
	if err != nil {
		return "", fmt.Errorf("store: reading the chain head: %w", err)
	}
	var sid int64
	var shash string
	for rows.Next() {
		var id int64
		var fin, h string
		if err := rows.Scan(&id, &fin, &h); err != nil {
			rows.Close()
			return "", err
		}
		if t.IsZero() || id <= atLeast || !parseTS(fin).After(t) {
			sid, shash = id, h
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	entries, err := chainEntries(ctx, s.db)
	if err != nil {
		return "", err
	}
	var seq int64
	var ehash, prev string
	for _, e := range entries {
		if !t.IsZero() && parseTS(e.At).After(t) {
			break
		}
		if e.Hash == "" { // recorded before the chain existed and not sealed yet: as seal will
			if e.Body, err = bodyOf(ctx, s.db, e.Kind, e.Ref); err != nil {
				return "", fmt.Errorf("store: evidence entry %d: %w (%w)", e.Seq, err, ErrChain)
			}
			e.PrevHash = prev
			e.Hash = e.sum()
		}
		seq, ehash, prev = e.Seq, e.Hash, e.Hash
	}
	return Head(sid, shash, seq, ehash), nil
}

// decisionRow is a decision's canonical body: its columns as stored, in a
// fixed order.
type decisionRow struct {
	ID            int64  `json:"id"`
	FindingKey    string `json:"finding_key"`
	FindingID     string `json:"finding_id"`
	Decision      string `json:"decision"`
	Justification string `json:"justification"`
	Role          string `json:"role"`
	ExpiresAt     string `json:"expires_at"`
	Reviewer      string `json:"reviewer"`
	DecidedAt     string `json:"decided_at"`
	SnapshotID    int64  `json:"snapshot_id"`
	NeedsSecond   bool   `json:"needs_second"`
}

type confirmationRow struct {
	ID          int64  `json:"id"`
	DecisionID  int64  `json:"decision_id"`
	Reviewer    string `json:"reviewer"`
	ConfirmedAt string `json:"confirmed_at"`
}

var errNoRow = errors.New("no row")

// ErrChain is an evidence chain that no longer verifies: a write refuses
// to extend it, and verify names the entry.
var ErrChain = errors.New("the evidence chain does not verify")

func decisionBody(ctx context.Context, q querier, id int64) (string, error) {
	var r decisionRow
	err := q.QueryRowContext(ctx, `SELECT id, finding_key, finding_id, decision, justification, role, expires_at, reviewer, decided_at, snapshot_id, needs_second
		FROM decisions WHERE id = ?`, id).Scan(&r.ID, &r.FindingKey, &r.FindingID, &r.Decision, &r.Justification, &r.Role, &r.ExpiresAt, &r.Reviewer, &r.DecidedAt, &r.SnapshotID, &r.NeedsSecond)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errNoRow
	}
	if err != nil {
		return "", fmt.Errorf("store: reading decision %d: %w", id, err)
	}
	b, _ := json.Marshal(r)
	return string(b), nil
}

func confirmationBody(ctx context.Context, q querier, id int64) (string, error) {
	var r confirmationRow
	err := q.QueryRowContext(ctx, `SELECT id, decision_id, reviewer, confirmed_at FROM confirmations WHERE id = ?`, id).
		Scan(&r.ID, &r.DecisionID, &r.Reviewer, &r.ConfirmedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errNoRow
	}
	if err != nil {
		return "", fmt.Errorf("store: reading confirmation %d: %w", id, err)
	}
	b, _ := json.Marshal(r)
	return string(b), nil
}

// bodyOf returns the canonical body of an entry's row as the row is now.
func bodyOf(ctx context.Context, q querier, kind string, ref int64) (string, error) {
	switch kind {
	case "decision":
		return decisionBody(ctx, q, ref)
	case "confirmation":
		return confirmationBody(ctx, q, ref)
	case "campaign", "signoff": // campaigns.go
		return campaignBody(ctx, q, kind, ref)
	case "action": // remediation.go
		return actionBody(ctx, q, ref)
	}
	return "", fmt.Errorf("unknown kind of evidence entry %q", kind)
}

func chainEntries(ctx context.Context, q querier) ([]Entry, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, kind, ref, at, snapshot_id, snapshot_hash, body, prev_hash, hash FROM evidence ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("store: reading the evidence chain: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.Seq, &e.Kind, &e.Ref, &e.At, &e.SnapshotID, &e.SnapshotHash, &e.Body, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func legacyEntries(ctx context.Context, q querier) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE((SELECT value FROM evidence_meta WHERE key = 'legacy_entries'), 0)`).Scan(&n)
	return n, err
}

// seal fills in the body and hashes of the entries that migration 6 made
// of the decisions recorded before the chain existed: the same values
// that Verify computes for them while they are unsealed.
func seal(ctx context.Context, tx *sql.Tx) error {
	entries, err := chainEntries(ctx, tx)
	if err != nil {
		return err
	}
	prev := ""
	for _, e := range entries {
		if e.Hash != "" {
			return nil // sealed entries follow unsealed ones only
		}
		if e.Body, err = bodyOf(ctx, tx, e.Kind, e.Ref); err != nil {
			if errors.Is(err, errNoRow) {
				return fmt.Errorf("store: evidence entry %d names %s %d, which is gone: %w", e.Seq, e.Kind, e.Ref, ErrChain)
			}
			return err
		}
		e.PrevHash = prev
		e.Hash = e.sum()
		if _, err := tx.ExecContext(ctx, `UPDATE evidence SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?`, e.Body, e.PrevHash, e.Hash, e.Seq); err != nil {
			return fmt.Errorf("store: sealing evidence entry %d: %w", e.Seq, err)
		}
		prev = e.Hash
	}
	return nil
}

// SealEvidence seals the entries that migration 6 made of earlier
// decisions (seal), so that an edit of such a decision is found from then
// on; every write of an entry does it too. A command that opens the store
// for writing may call it once after Open.
func (s *Store) SealEvidence(ctx context.Context) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: sealing the evidence chain: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = seal(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// appendEntry adds one entry in one transaction: insert writes the row and
// returns its id and canonical body.
func (s *Store) appendEntry(ctx context.Context, kind, at string, insert func(*sql.Tx) (int64, string, error)) (e *Entry, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: beginning an evidence entry: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = seal(ctx, tx); err != nil {
		return nil, err
	}
	e = &Entry{Kind: kind, At: at}
	var lastAt string
	err = tx.QueryRowContext(ctx, `SELECT seq, hash, at FROM evidence ORDER BY seq DESC LIMIT 1`).Scan(&e.Seq, &e.PrevHash, &lastAt)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: reading the evidence chain: %w", err)
	}
	if lastAt != "" && parseTS(at).Before(parseTS(lastAt)) {
		return nil, fmt.Errorf("store: the %s is dated %s, before the last evidence entry (%s): the chain only moves forward in time; check the clock", kind, at, lastAt)
	}
	e.Seq++
	if err = tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id),0), COALESCE((SELECT hash FROM snapshots ORDER BY id DESC LIMIT 1),'') FROM snapshots`).
		Scan(&e.SnapshotID, &e.SnapshotHash); err != nil {
		return nil, fmt.Errorf("store: reading the latest snapshot: %w", err)
	}
	if e.Ref, e.Body, err = insert(tx); err != nil {
		return nil, err
	}
	e.Hash = e.sum()
	if _, err = tx.ExecContext(ctx, `INSERT INTO evidence (seq, kind, ref, at, snapshot_id, snapshot_hash, body, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)`,
		e.Seq, e.Kind, e.Ref, e.At, e.SnapshotID, e.SnapshotHash, e.Body, e.PrevHash, e.Hash); err != nil {
		return nil, fmt.Errorf("store: writing evidence entry %d: %w", e.Seq, err)
	}
	if err = tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: committing evidence entry %d: %w", e.Seq, err)
	}
	e.Head = Head(e.SnapshotID, e.SnapshotHash, e.Seq, e.Hash)
	return e, nil
}

// logEntry appends e as one JSON line to the evidence log file, if any.
func (s *Store) logEntry(_ context.Context, logFile string, e *Entry) error {
	if logFile == "" {
		return nil
	}
	line, _ := json.Marshal(e)
	f, err := os.OpenFile(logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err == nil {
		_, err = f.Write(append(line, '\n'))
		if serr := f.Sync(); err == nil {
			err = serr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("store: %s %d is recorded (evidence entry %d) but the evidence log %s was not written: %w; "+
			"fix the file's permissions or space, the next entry is logged again from then on", e.Kind, e.Ref, e.Seq, logFile, err)
	}
	return nil
}

// AnchorSnapshot appends the latest snapshot and the chain head to the
// evidence log file, so that a snapshot deleted later is found even when
// no decision followed it. A run calls it after writing its snapshot.
func (s *Store) AnchorSnapshot(ctx context.Context, logFile string) error {
	if logFile == "" {
		return nil
	}
	head, err := s.ChainHead(ctx)
	if err != nil {
		return err
	}
	var e Entry
	if err := s.db.QueryRowContext(ctx, `SELECT id, hash, finished_at FROM snapshots ORDER BY id DESC LIMIT 1`).Scan(&e.Ref, &e.Hash, &e.At); err != nil {
		return fmt.Errorf("store: reading the latest snapshot to anchor it: %w", err)
	}
	e.Kind, e.SnapshotID, e.SnapshotHash, e.Head = "snapshot", e.Ref, e.Hash, head
	return s.logEntry(ctx, logFile, &e)
}

// VerifyOptions anchors Verify outside the store.
type VerifyOptions struct {
	// Head is a head recorded elsewhere (a report, a manifest, a ticket):
	// the store must still hold that state, unchanged, as a past or the
	// present state of its chains.
	Head string
	// Log is the evidence log file's content: every line must match the
	// store.
	Log io.Reader
}

// verifyEvidence walks the evidence chain after the snapshot chain has
// verified (snaps: every snapshot's hash by id).
func (s *Store) verifyEvidence(ctx context.Context, res *VerifyResult, snaps map[int64]*Summary, latest *Summary, opt VerifyOptions) error {
	entries, err := chainEntries(ctx, s.db)
	if err != nil {
		return err
	}
	legacy, err := legacyEntries(ctx, s.db)
	if err != nil {
		return err
	}
	bad := func(seq int64, format string, args ...any) error {
		res.BadEntry, res.Problem = seq, fmt.Sprintf(format, args...)
		return nil
	}
	hashes := make([]string, len(entries)+1) // hashes[seq], as recomputed
	prev, prevAt := "", time.Time{}
	for i, e := range entries {
		what := fmt.Sprintf("evidence entry %d (%s %d)", e.Seq, e.Kind, e.Ref)
		if e.Seq != int64(i+1) {
			return bad(int64(i+1), "evidence entry %d is missing: it was deleted (the entry after it is %d)", i+1, e.Seq)
		}
		body, err := bodyOf(ctx, s.db, e.Kind, e.Ref)
		switch {
		case errors.Is(err, errNoRow):
			return bad(e.Seq, "%s: the %s was deleted from the store", what, e.Kind)
		case err != nil:
			return err
		}
		if e.Hash == "" && e.Seq <= legacy {
			e.Body, e.PrevHash = body, prev // recorded before the chain existed, not sealed yet
		} else if body != e.Body {
			return bad(e.Seq, "%s: the %s was edited after it was recorded (recorded %s, now %s)", what, e.Kind, e.Body, body)
		}
		if e.PrevHash != prev {
			return bad(e.Seq, "%s: its previous-hash does not match the entry before it (an entry was inserted, deleted or rewritten)", what)
		}
		h := e.sum()
		if e.Hash != "" && h != e.Hash {
			return bad(e.Seq, "%s: its content does not match its stored hash (the entry was edited)", what)
		}
		at := parseTS(e.At)
		if at.Before(prevAt) {
			return bad(e.Seq, "%s is dated %s, before the entry before it (%s): it was backdated or inserted", what, e.At, ts(prevAt))
		}
		if snap := snaps[e.SnapshotID]; e.SnapshotID != 0 && (snap == nil || snap.Hash != e.SnapshotHash) {
			return bad(e.Seq, "%s was recorded when snapshot %d was the latest, and that snapshot is no longer in the store with the hash it had: "+
				"snapshots were deleted or replaced (the store is truncated or an older copy)", what, e.SnapshotID)
		}
		if e.Kind == "decision" {
			var r decisionRow
			json.Unmarshal([]byte(body), &r)
			if r.DecidedAt != e.At {
				return bad(e.Seq, "%s: the decision's date %s is not when it was recorded (%s): it was backdated", what, r.DecidedAt, e.At)
			}
			if snap := snaps[r.SnapshotID]; snap != nil && at.Before(snap.FinishedAt) {
				return bad(e.Seq, "%s is dated %s, before snapshot %d it names was taken (%s): it was backdated", what, e.At, r.SnapshotID, ts(snap.FinishedAt))
			}
		}
		prev, prevAt = h, at
		hashes[e.Seq] = h
		res.Entries++
	}
	// Rows that are not in the chain were written around idgraph.
	for _, q := range []struct{ kind, sql string }{
		{"decision", `SELECT d.id, d.decision || ' by ' || d.reviewer || ', dated ' || d.decided_at FROM decisions d
			WHERE NOT EXISTS (SELECT 1 FROM evidence e WHERE e.kind = 'decision' AND e.ref = d.id) ORDER BY d.id LIMIT 1`},
		{"confirmation", `SELECT c.id, 'of decision ' || c.decision_id || ' by ' || c.reviewer || ', dated ' || c.confirmed_at FROM confirmations c
			WHERE NOT EXISTS (SELECT 1 FROM evidence e WHERE e.kind = 'confirmation' AND e.ref = c.id) ORDER BY c.id LIMIT 1`},
		{"campaign", `SELECT c.id, 'started ' || c.started_at FROM campaigns c
			WHERE NOT EXISTS (SELECT 1 FROM campaign_events v JOIN evidence e ON e.kind = 'campaign' AND e.ref = v.id
				WHERE v.campaign_id = c.id AND v.event = 'start') ORDER BY c.id LIMIT 1`},
		{"campaign event", `SELECT v.id, v.event || ' of campaign ' || v.campaign_id FROM campaign_events v
			WHERE NOT EXISTS (SELECT 1 FROM evidence e WHERE e.kind = 'campaign' AND e.ref = v.id) ORDER BY v.id LIMIT 1`},
		{"sign-off", `SELECT s.id, 'of campaign ' || s.campaign_id FROM campaign_signoffs s
			WHERE NOT EXISTS (SELECT 1 FROM evidence e WHERE e.kind = 'signoff' AND e.ref = s.id) ORDER BY s.id LIMIT 1`},
		{"remediation record", `SELECT r.id, r.record || ' ' || r.op || ' of ' || r.email || ', dated ' || r.recorded_at FROM remediation r
			WHERE NOT EXISTS (SELECT 1 FROM evidence e WHERE e.kind = 'action' AND e.ref = r.id) ORDER BY r.id LIMIT 1`},
	} {
		var id int64
		var desc string
		err := s.db.QueryRowContext(ctx, q.sql).Scan(&id, &desc)
		if err == nil {
			res.BadRow = q.kind + " " + strconv.FormatInt(id, 10)
			res.Problem = fmt.Sprintf("%s %d (%s) is not in the evidence chain: it was written into the store around idgraph", q.kind, id, desc)
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: checking the %ss against the evidence chain: %w", q.kind, err)
		}
	}
	last := int64(len(entries))
	res.Head = Head(latest.ID, latest.Hash, last, hashes[last])
	check := func(where, head string) error {
		sid, seq, err := parseHead(head)
		if err != nil {
			res.Problem = where + ": " + err.Error()
			return nil
		}
		switch {
		case sid > latest.ID:
			res.Problem = fmt.Sprintf("%s names snapshot %d, but the newest snapshot in the store is %d: snapshots were deleted (the store is truncated or an older copy)", where, sid, latest.ID)
		case seq > last:
			res.Problem = fmt.Sprintf("%s names evidence entry %d, but the chain ends at entry %d: entries were deleted (the store is truncated or an older copy)", where, seq, last)
		case snaps[sid] == nil && sid != 0:
			res.Problem = fmt.Sprintf("%s names snapshot %d, which is no longer in the store", where, sid)
		default:
			sh := ""
			if sid != 0 {
				sh = snaps[sid].Hash
			}
			if Head(sid, sh, seq, hashes[seq]) != strings.TrimSpace(head) {
				res.Problem = fmt.Sprintf("%s does not match snapshot %d and evidence entry %d as the store holds them now: one of them, or something before it, was rewritten", where, sid, seq)
			}
		}
		return nil
	}
	if opt.Head != "" {
		if err := check("the head given ("+opt.Head+")", opt.Head); err != nil || res.Problem != "" {
			return err
		}
	}
	if opt.Log != nil {
		sc := bufio.NewScanner(opt.Log)
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		n, logged := 0, int64(0)
		for sc.Scan() {
			n++
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			var e Entry
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				res.Problem = fmt.Sprintf("line %d of the evidence log is not an entry: %v", n, err)
				return nil
			}
			where := fmt.Sprintf("line %d of the evidence log (%s %d)", n, e.Kind, e.Ref)
			if e.Kind == "snapshot" {
				if snap := snaps[e.Ref]; snap == nil || snap.Hash != e.Hash {
					res.Problem = fmt.Sprintf("%s: snapshot %d is no longer in the store with that hash: snapshots were deleted or replaced", where, e.Ref)
					return nil
				}
			} else if e.Seq < 1 || e.Seq > last || hashes[e.Seq] != e.Hash {
				res.BadEntry = e.Seq
				res.Problem = fmt.Sprintf("%s: evidence entry %d is not in the store as it was logged: it was deleted or rewritten", where, e.Seq)
				return nil
			} else {
				logged = max(logged, e.Seq)
			}
			if e.Head != "" {
				if err := check(where+"'s head", e.Head); err != nil || res.Problem != "" {
					return err
				}
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("reading the evidence log: %w", err)
		}
		// idgraph logs every entry it records: one the log lacks was
		// written around it (or its logging failed, which was reported).
		if logged > 0 && logged < last {
			e := entries[logged]
			res.BadEntry = e.Seq
			res.Problem = fmt.Sprintf("evidence entry %d (%s %d) is in the store but not in the evidence log, which ends at entry %d: "+
				"it was written around idgraph, or logging it failed", e.Seq, e.Kind, e.Ref, logged)
		}
	}
	return nil
}
