-- +goose Up
-- Alerts waiting for delivery, and delivered ones: a failed delivery stays
-- pending and is retried by the next run, never dropped.
CREATE TABLE alert_outbox (
    id          INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
    sink        TEXT    NOT NULL,
    payload     TEXT    NOT NULL,          -- JSON of the alert
    status      TEXT    NOT NULL,          -- pending | delivered
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT '',
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
CREATE INDEX alert_outbox_pending ON alert_outbox (status, sink);

-- Findings already alerted, so that a standing finding alerts once; a key
-- leaves the ledger when its finding is resolved.
CREATE TABLE alert_ledger (
    finding_key TEXT PRIMARY KEY,
    snapshot_id INTEGER NOT NULL,
    severity    TEXT    NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE alert_ledger;
DROP TABLE alert_outbox;
