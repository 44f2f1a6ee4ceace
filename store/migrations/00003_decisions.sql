-- +goose Up
-- Reviewer decisions about findings, by the finding's stable key, so that
-- a decision follows the finding across snapshots. Every decision is kept;
-- the newest for a key is in force.
CREATE TABLE decisions (
    id            INTEGER PRIMARY KEY,
    finding_key   TEXT    NOT NULL,
    decision      TEXT    NOT NULL CHECK (decision IN ('approve', 'revoke', 'exception')),
    justification TEXT    NOT NULL,
    expires_at    TEXT    NOT NULL DEFAULT '',   -- approvals expire; '' for the others
    reviewer      TEXT    NOT NULL,
    decided_at    TEXT    NOT NULL,
    snapshot_id   INTEGER NOT NULL               -- the latest snapshot when it was decided
);
CREATE INDEX decisions_by_key ON decisions (finding_key, id);

-- +goose Down
DROP TABLE decisions;
