-- +goose Up
CREATE TABLE snapshots (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT    NOT NULL,
    finished_at TEXT    NOT NULL,
    complete    INTEGER NOT NULL,          -- every source complete
    config_hash TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    accounts    INTEGER NOT NULL,
    findings    INTEGER NOT NULL,
    hash        TEXT    NOT NULL,          -- SHA-256 over the canonical content and prev_hash
    prev_hash   TEXT    NOT NULL
);

CREATE TABLE sources (
    snapshot_id  INTEGER NOT NULL REFERENCES snapshots(id),
    name         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    app          TEXT    NOT NULL,
    version      TEXT    NOT NULL,
    complete     INTEGER NOT NULL,
    records      INTEGER NOT NULL,
    completeness TEXT    NOT NULL,         -- JSON of collectors.Completeness
    state        TEXT    NOT NULL,         -- opaque collector state (e.g. a delta link)
    PRIMARY KEY (snapshot_id, name)
) WITHOUT ROWID;

-- A rowid table: its rows are large (SQLite advises against WITHOUT ROWID
-- for rows over a twentieth of a page), and rows arrive in key order.
CREATE TABLE accounts (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
    seq         INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    account_key TEXT    NOT NULL,
    person_id   TEXT    NOT NULL,
    link_reason TEXT    NOT NULL,
    data        TEXT    NOT NULL           -- JSON of collectors.Account
);
CREATE UNIQUE INDEX accounts_by_snapshot ON accounts (snapshot_id, seq);

CREATE TABLE people (
    snapshot_id  INTEGER NOT NULL REFERENCES snapshots(id),
    person_id    TEXT    NOT NULL,
    email        TEXT    NOT NULL,
    display_name TEXT    NOT NULL,
    expected_role TEXT   NOT NULL,          -- the Stonly role the IdPs imply, '' when none
    expected_why  TEXT   NOT NULL,
    PRIMARY KEY (snapshot_id, person_id)
) WITHOUT ROWID;

CREATE TABLE findings (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
    seq         INTEGER NOT NULL,
    finding_key TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    severity    TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    data        TEXT    NOT NULL           -- JSON of diff.Finding
);
CREATE UNIQUE INDEX findings_by_snapshot ON findings (snapshot_id, seq);

CREATE INDEX findings_by_key ON findings (finding_key, snapshot_id);

-- +goose Down
DROP TABLE findings;
DROP TABLE people;
DROP TABLE accounts;
DROP TABLE sources;
DROP TABLE snapshots;
