-- The mail gateway (SPEC §10).

-- When each app password last opened the gateway: set on every successful
-- login whose password the hint identifies; shown as "last used" and used
-- by the stale rules without Entra P1/P2.
CREATE TABLE IF NOT EXISTS password_last_used (
    owner_id TEXT NOT NULL,
    key_id   TEXT NOT NULL,
    used_at  INTEGER NOT NULL,
    PRIMARY KEY (owner_id, key_id)
);

-- Removals that must end the gateway's cached logins on every replica:
-- an owner disabled or deleted (key_id ''), or a password removed by means
-- other than apppass's own delete and revoke (those are read from the
-- credentials table).
CREATE TABLE IF NOT EXISTS removals (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    owner_id TEXT NOT NULL,
    key_id   TEXT NOT NULL,
    reason   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS removals_at ON removals (at);
