-- +goose Up
-- Review campaigns (docs/RULES.md, "Review"). A campaign freezes one
-- snapshot's population for one or more applications: its accounts
-- (campaign_accounts) and what reviewers decide about (campaign_items:
-- every open finding, and every account no finding names, under a key of
-- kind "access"), each routed to a reviewer. The rows are copies, so that
-- later snapshots change nothing; the evidence chain covers them (the
-- body of every campaign entry carries a hash over them), so that `idgraph
-- verify` finds an edited, added or removed row.
CREATE TABLE campaigns (
    id            INTEGER PRIMARY KEY,
    apps          TEXT    NOT NULL,          -- JSON array of application short names
    snapshot_id   INTEGER NOT NULL REFERENCES snapshots(id),
    snapshot_hash TEXT    NOT NULL,
    routing       TEXT    NOT NULL,          -- JSON of review.Routing at the start
    due_at        TEXT    NOT NULL,
    started_by    TEXT    NOT NULL,
    started_at    TEXT    NOT NULL,
    accounts      INTEGER NOT NULL,
    items         INTEGER NOT NULL
);

CREATE TABLE campaign_accounts (
    campaign_id  INTEGER NOT NULL REFERENCES campaigns(id),
    seq          INTEGER NOT NULL,
    app          TEXT    NOT NULL,
    account_key  TEXT    NOT NULL,
    person_id    TEXT    NOT NULL,
    person_email TEXT    NOT NULL,
    link_reason  TEXT    NOT NULL,
    item_key     TEXT    NOT NULL,          -- the item its access is decided under
    data         TEXT    NOT NULL,          -- JSON of collectors.Account as the snapshot stored it
    PRIMARY KEY (campaign_id, seq)
) WITHOUT ROWID;

CREATE TABLE campaign_items (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    seq         INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('finding', 'access')),
    item_key    TEXT    NOT NULL,           -- the finding key decisions are recorded under
    item_id     TEXT    NOT NULL,           -- its short ID
    app         TEXT    NOT NULL,
    person_id   TEXT    NOT NULL,
    email       TEXT    NOT NULL,
    addresses   TEXT    NOT NULL,           -- JSON array: every address of the person (self-review)
    reviewer    TEXT    NOT NULL,
    routed_by   TEXT    NOT NULL,           -- why this reviewer
    data        TEXT    NOT NULL,           -- JSON of diff.Finding, frozen
    PRIMARY KEY (campaign_id, seq)
) WITHOUT ROWID;
CREATE INDEX campaign_items_by_key ON campaign_items (item_key, campaign_id);

-- Campaign events (start, reminders), each an evidence entry of kind
-- "campaign".
CREATE TABLE campaign_events (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    event       TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    at          TEXT    NOT NULL,
    detail      TEXT    NOT NULL            -- JSON
);

-- The sign-off, an evidence entry of kind "signoff"; one per campaign.
CREATE TABLE campaign_signoffs (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL UNIQUE REFERENCES campaigns(id),
    reviewer    TEXT    NOT NULL,
    signed_at   TEXT    NOT NULL,
    decided     INTEGER NOT NULL,
    undecided   INTEGER NOT NULL,
    overdue     INTEGER NOT NULL,
    detail      TEXT    NOT NULL            -- JSON: progress and each revoke's remediation state
);

-- Frozen means frozen: the population is never updated or deleted.
-- +goose StatementBegin
CREATE TRIGGER campaign_items_frozen BEFORE UPDATE ON campaign_items
BEGIN SELECT RAISE(ABORT, 'a campaign''s population is frozen: start a new campaign instead'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER campaign_items_kept BEFORE DELETE ON campaign_items
BEGIN SELECT RAISE(ABORT, 'a campaign''s population is frozen: start a new campaign instead'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER campaign_accounts_frozen BEFORE UPDATE ON campaign_accounts
BEGIN SELECT RAISE(ABORT, 'a campaign''s population is frozen: start a new campaign instead'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER campaign_accounts_kept BEFORE DELETE ON campaign_accounts
BEGIN SELECT RAISE(ABORT, 'a campaign''s population is frozen: start a new campaign instead'); END;
-- +goose StatementEnd

-- After its sign-off a campaign's decisions are read-only: a decision or
-- confirmation about one of its items is refused unless the item is in a
-- campaign that is still open (the next review of it). The store checks
-- this first with a clear message (CheckCampaignOpen); the triggers hold
-- for every writer.
-- +goose StatementBegin
CREATE TRIGGER decisions_after_signoff BEFORE INSERT ON decisions
WHEN EXISTS (SELECT 1 FROM campaign_items i JOIN campaign_signoffs s ON s.campaign_id = i.campaign_id WHERE i.item_key = NEW.finding_key)
 AND NOT EXISTS (SELECT 1 FROM campaign_items i WHERE i.item_key = NEW.finding_key
                 AND NOT EXISTS (SELECT 1 FROM campaign_signoffs s WHERE s.campaign_id = i.campaign_id))
BEGIN SELECT RAISE(ABORT, 'the finding is an item of a signed-off campaign, whose decisions are read-only: start a new campaign to review it again'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER confirmations_after_signoff BEFORE INSERT ON confirmations
WHEN EXISTS (SELECT 1 FROM decisions d JOIN campaign_items i ON i.item_key = d.finding_key JOIN campaign_signoffs s ON s.campaign_id = i.campaign_id
             WHERE d.id = NEW.decision_id)
 AND NOT EXISTS (SELECT 1 FROM decisions d JOIN campaign_items i ON i.item_key = d.finding_key WHERE d.id = NEW.decision_id
                 AND NOT EXISTS (SELECT 1 FROM campaign_signoffs s WHERE s.campaign_id = i.campaign_id))
BEGIN SELECT RAISE(ABORT, 'the decision is about an item of a signed-off campaign, whose decisions are read-only'); END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER confirmations_after_signoff;
DROP TRIGGER decisions_after_signoff;
DROP TRIGGER campaign_accounts_kept;
DROP TRIGGER campaign_accounts_frozen;
DROP TRIGGER campaign_items_kept;
DROP TRIGGER campaign_items_frozen;
DROP TABLE campaign_signoffs;
DROP TABLE campaign_events;
DROP TABLE campaign_items;
DROP TABLE campaign_accounts;
DROP TABLE campaigns;
