-- +goose Up
-- The remediation log (docs/RULES.md, "Remediation"): every action idgraph
-- carried out (or was refused, or skipped) in an application, and every
-- proof the next complete read of that application gave of it. Each row is
-- one entry of the evidence chain (kind "action"), recorded once and never
-- updated: an action's later state is a new row (record 'proof') that
-- names it, so that `idgraph verify` finds an edited or deleted record.
CREATE TABLE remediation (
    id               INTEGER PRIMARY KEY,
    record           TEXT    NOT NULL CHECK (record IN ('action', 'proof')),
    action_id        INTEGER NOT NULL DEFAULT 0,   -- proof: the action it proves
    batch            TEXT    NOT NULL DEFAULT '',  -- action: the batch it ran in
    decision_id      INTEGER NOT NULL DEFAULT 0,   -- the decision carried out
    finding_key      TEXT    NOT NULL DEFAULT '',
    app              TEXT    NOT NULL DEFAULT '',
    source           TEXT    NOT NULL DEFAULT '',
    team             TEXT    NOT NULL DEFAULT '',
    account_key      TEXT    NOT NULL DEFAULT '',
    email            TEXT    NOT NULL DEFAULT '',
    op               TEXT    NOT NULL DEFAULT '',  -- remove | set_role | revoke_invitation
    role             TEXT    NOT NULL DEFAULT '',  -- set_role: the role to set
    account          TEXT    NOT NULL DEFAULT '',  -- JSON: the account as the plan read it
    decided_by       TEXT    NOT NULL DEFAULT '',
    confirmed_by     TEXT    NOT NULL DEFAULT '',  -- the decision's second reviewer, if any
    applied_by       TEXT    NOT NULL DEFAULT '',  -- who approved and ran it
    planned_snapshot INTEGER NOT NULL DEFAULT 0,   -- the snapshot the plan was read from
    started_at       TEXT    NOT NULL DEFAULT '',
    ended_at         TEXT    NOT NULL DEFAULT '',
    outcome          TEXT    NOT NULL DEFAULT '',  -- done | already_done | refused | failed | skipped
    detail           TEXT    NOT NULL DEFAULT '',  -- what the page or API answered; proof: what the read showed
    captures         TEXT    NOT NULL DEFAULT '',  -- JSON: [{name, file, sha256, type}]
    state            TEXT    NOT NULL DEFAULT '',  -- proof: confirmed | unconfirmed
    snapshot_id      INTEGER NOT NULL DEFAULT 0,   -- proof: the snapshot whose read it is
    recorded_at      TEXT    NOT NULL
);
CREATE INDEX remediation_by_decision ON remediation (decision_id, id);
CREATE INDEX remediation_by_action ON remediation (action_id) WHERE record = 'proof';

-- +goose Down
DROP TABLE remediation;
