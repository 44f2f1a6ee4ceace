-- +goose Up
-- Applications become a dimension (docs/RULES.md, "Applications"): a
-- source records its application's title and role ladder, and a person's
-- expected role is per application.
--
-- The expected roles stored so far (people.expected_role, one per person,
-- of the one application) are copied into per-application rows. The old
-- columns stay as they were, because the hashes of the snapshots written
-- before this migration cover them: `verify` recomputes a format 1
-- snapshot from them and checks that its copied rows agree. Snapshots of
-- format 2 write '' there and hash their expectation rows instead.
ALTER TABLE snapshots ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
ALTER TABLE sources ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE sources ADD COLUMN roles TEXT NOT NULL DEFAULT '';   -- JSON array, lowest to highest

CREATE TABLE expectations (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
    person_id   TEXT    NOT NULL,
    app         TEXT    NOT NULL,
    role        TEXT    NOT NULL,          -- the role the IdPs imply in app, '' when none
    why         TEXT    NOT NULL,
    PRIMARY KEY (snapshot_id, person_id, app)
) WITHOUT ROWID;

-- A format 1 snapshot read one application: the app of its app sources.
INSERT INTO expectations (snapshot_id, person_id, app, role, why)
    SELECT p.snapshot_id, p.person_id,
           COALESCE((SELECT MIN(s.app) FROM sources s WHERE s.snapshot_id = p.snapshot_id AND s.kind = 'app' AND s.app != ''), ''),
           p.expected_role, p.expected_why
    FROM people p WHERE p.expected_role != '' OR p.expected_why != '';

-- +goose Down
-- Lossy for snapshots written in format 2: their per-application
-- expected roles, titles, ladders and format marker are dropped, and the
-- old code cannot verify them. Go down only to run an older binary on a
-- store it wrote.
DROP TABLE expectations;
ALTER TABLE sources DROP COLUMN roles;
ALTER TABLE sources DROP COLUMN title;
ALTER TABLE snapshots DROP COLUMN format;
