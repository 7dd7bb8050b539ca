-- Slack user <-> Entra user, for everyone who has used apppass.
CREATE TABLE users (
    slack_id     TEXT PRIMARY KEY,
    entra_id     TEXT NOT NULL,
    upn          TEXT NOT NULL,
    email        TEXT NOT NULL,
    display_name TEXT NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX users_entra_id ON users (entra_id);

-- Each employee's application, remembered because a new one can take
-- minutes to show up in Graph's filtered listing.
CREATE TABLE applications (
    owner_id   TEXT PRIMARY KEY,
    object_id  TEXT NOT NULL,
    app_id     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Every credential apppass asked Entra for, metadata only (never the
-- secret). state: pending (addPassword sent, outcome unknown), issued
-- (Entra answered, not yet shown), delivered (shown once), removed,
-- abandoned (never shown, and removed or found absent).
CREATE TABLE credentials (
    id            INTEGER PRIMARY KEY,
    owner_id      TEXT NOT NULL,
    app_object_id TEXT NOT NULL,
    name          TEXT NOT NULL,
    known_keys    TEXT NOT NULL,
    key_id        TEXT NOT NULL DEFAULT '',
    hint          TEXT NOT NULL DEFAULT '',
    start_at      INTEGER NOT NULL DEFAULT 0,
    end_at        INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX credentials_owner ON credentials (owner_id, updated_at);
CREATE INDEX credentials_state ON credentials (state);

CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor_slack TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    subject_id  TEXT NOT NULL,
    action      TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    name        TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    ref         TEXT NOT NULL
);
CREATE INDEX audit_subject ON audit_events (subject_id, at);
CREATE INDEX audit_at ON audit_events (at);
