-- +goose Up
-- What an incremental source starts from (store/prior.go): each
-- snapshot's accounts once more, in a compact binary encoding, in chunks
-- of up to 4,096 accounts of one source, so that the next run loads them
-- without decoding every account's JSON row. The rows are derived data:
-- encode(the snapshot's account rows) gives them byte for byte, which is
-- how they are checked; they are not part of the snapshot's hash, and a
-- snapshot without them (written before this migration, or whose priors
-- were not written) is read from its account rows as before.
CREATE TABLE priors (
    id          INTEGER PRIMARY KEY,       -- (snapshot_id << 32) | seq of the chunk's first account, as accounts.id
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
    source      TEXT    NOT NULL,
    accounts    INTEGER NOT NULL,          -- accounts in the chunk
    layout      INTEGER NOT NULL,          -- version of the encoding (store/prior.go priorLayout)
    data        BLOB    NOT NULL
);

-- +goose Down
DROP TABLE priors;
