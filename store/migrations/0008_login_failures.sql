-- The mail gateway's guessing limit (SPEC §10), shared by every replica.

-- Each failed login: user name as typed, lower-cased, and the client's
-- address. Rows older than a day are deleted as new ones arrive.
CREATE TABLE IF NOT EXISTS login_failures (
    id          INTEGER PRIMARY KEY,
    user_name   TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_pair ON login_failures (user_name, client_addr, at);
CREATE INDEX IF NOT EXISTS login_failures_at ON login_failures (at);

-- When the helpdesk was last told about a pair: the replica that moves
-- at forward is the one that tells it.
CREATE TABLE IF NOT EXISTS guessing_alerts (
    user_name   TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (user_name, client_addr)
);
