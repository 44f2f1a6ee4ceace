-- +goose Up
-- One evidence chain (docs/RULES.md, "Review and evidence"): every decision,
-- every second reviewer's confirmation and, later, campaign events,
-- sign-offs and remediation records is an entry that carries the hash of
-- the entry before it and its own hash over its canonical content, so that
-- `idgraph verify` finds an entry that was edited, deleted, inserted or
-- backdated.
--
-- Decisions gain modify (with the role to change to) and four eyes; the
-- table is rebuilt because SQLite cannot change a CHECK constraint.
CREATE TABLE decisions_v6 (
    id            INTEGER PRIMARY KEY,
    finding_key   TEXT    NOT NULL,
    finding_id    TEXT    NOT NULL DEFAULT '',
    decision      TEXT    NOT NULL CHECK (decision IN ('approve', 'revoke', 'modify', 'exception')),
    justification TEXT    NOT NULL,
    role          TEXT    NOT NULL DEFAULT '',   -- modify: the role to change to
    expires_at    TEXT    NOT NULL DEFAULT '',   -- approve: expiry; exception: end
    reviewer      TEXT    NOT NULL,
    decided_at    TEXT    NOT NULL,
    snapshot_id   INTEGER NOT NULL,              -- the latest snapshot when it was decided
    needs_second  INTEGER NOT NULL DEFAULT 0     -- four eyes: pending until confirmed
);
INSERT INTO decisions_v6 (id, finding_key, decision, justification, expires_at, reviewer, decided_at, snapshot_id)
    SELECT id, finding_key, decision, justification, expires_at, reviewer, decided_at, snapshot_id FROM decisions ORDER BY id;
DROP TABLE decisions;
ALTER TABLE decisions_v6 RENAME TO decisions;
CREATE INDEX decisions_by_key ON decisions (finding_key, id);

-- A second reviewer's confirmation of a decision that needs four eyes.
CREATE TABLE confirmations (
    id           INTEGER PRIMARY KEY,
    decision_id  INTEGER NOT NULL UNIQUE REFERENCES decisions(id),
    reviewer     TEXT    NOT NULL,
    confirmed_at TEXT    NOT NULL
);

CREATE TABLE evidence (
    seq           INTEGER PRIMARY KEY,           -- 1, 2, 3, ... without gaps
    kind          TEXT    NOT NULL,              -- decision | confirmation (later: campaign, signoff, remediation)
    ref           INTEGER NOT NULL,              -- the entry's row in its kind's table
    at            TEXT    NOT NULL,              -- when it was recorded (RFC 3339, UTC)
    snapshot_id   INTEGER NOT NULL,              -- the latest snapshot then
    snapshot_hash TEXT    NOT NULL,              -- and its hash, which ties the two chains
    body          TEXT    NOT NULL,              -- canonical JSON of the row as recorded
    prev_hash     TEXT    NOT NULL,
    hash          TEXT    NOT NULL,              -- SHA-256 over the fields above
    UNIQUE (kind, ref)
);

-- Decisions recorded before the chain existed become its first entries,
-- in the order they were made. Their body and hashes are filled in
-- ("sealed") by the next write, with the same values that verify computes
-- for them until then, so the chain is the same whichever runs first.
INSERT INTO evidence (seq, kind, ref, at, snapshot_id, snapshot_hash, body, prev_hash, hash)
    SELECT ROW_NUMBER() OVER (ORDER BY d.id), 'decision', d.id, d.decided_at, d.snapshot_id,
           COALESCE((SELECT s.hash FROM snapshots s WHERE s.id = d.snapshot_id), ''), '', '', ''
    FROM decisions d ORDER BY d.id;
CREATE TABLE evidence_meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO evidence_meta VALUES ('legacy_entries', (SELECT COUNT(*) FROM evidence));

-- +goose Down
DROP TABLE evidence_meta;
DROP TABLE evidence;
DROP TABLE confirmations;
CREATE TABLE decisions_v3 (
    id            INTEGER PRIMARY KEY,
    finding_key   TEXT    NOT NULL,
    decision      TEXT    NOT NULL CHECK (decision IN ('approve', 'revoke', 'exception')),
    justification TEXT    NOT NULL,
    expires_at    TEXT    NOT NULL DEFAULT '',
    reviewer      TEXT    NOT NULL,
    decided_at    TEXT    NOT NULL,
    snapshot_id   INTEGER NOT NULL
);
INSERT INTO decisions_v3 SELECT id, finding_key, decision, justification, expires_at, reviewer, decided_at, snapshot_id
    FROM decisions WHERE decision != 'modify';
DROP TABLE decisions;
ALTER TABLE decisions_v3 RENAME TO decisions;
CREATE INDEX decisions_by_key ON decisions (finding_key, id);
