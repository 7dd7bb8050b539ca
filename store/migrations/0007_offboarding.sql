-- The offboarding job's place in the directory (SPEC §7): the users delta
-- link Graph returned last, used by the next run. name is "users".
CREATE TABLE IF NOT EXISTS directory_sync (
    name       TEXT PRIMARY KEY,
    link       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
