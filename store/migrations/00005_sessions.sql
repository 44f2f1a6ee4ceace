-- +goose Up
-- Sign-in sessions of `idgraph serve`, kept server-side so that signing out
-- ends a session at once and a restart signs nobody out. The id is a keyed
-- hash (HMAC with serve.session_secret_env) of the cookie's random token:
-- a copy of the store does not hold a usable session. credential is a
-- keyed hash of the reviewer's password at sign-in: a changed password
-- ends the reviewer's sessions.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    reviewer   TEXT NOT NULL,
    credential TEXT NOT NULL DEFAULT '',
    address    TEXT NOT NULL DEFAULT '',   -- the client address it was created from
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;
