-- PostgreSQL twin of ../0009_gateway_hardening.sql.
-- one login attempt per owner in flight, hints of removed passwords, and
-- the per-person write limit shared by every replica (SPEC §11).

-- The old tables held user names as typed, one row per attempt.
DROP TABLE IF EXISTS login_failures;
DROP TABLE IF EXISTS guessing_alerts;

-- One row per subject (an owner "o:…", a keyed hash of an unknown name
-- "u:…", or "*" for the client address alone) and client address: the
-- count in a window that starts at the first failure. Rows whose window
-- ended a day ago are deleted as new failures arrive.
CREATE TABLE IF NOT EXISTS login_failure_counts (
    subject      TEXT NOT NULL,
    client_addr  TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    failures     BIGINT NOT NULL,
    alerted_at   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (subject, client_addr)
);

-- The one login attempt per subject in flight, across replicas.
CREATE TABLE IF NOT EXISTS login_attempts (
    subject TEXT PRIMARY KEY,
    holder  TEXT NOT NULL,
    held_until BIGINT NOT NULL
);

-- Keys the gateway's replicas share (the user-name hash key).
CREATE TABLE IF NOT EXISTS gateway_keys (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- A removed password's hint.
ALTER TABLE removals ADD COLUMN hint TEXT NOT NULL DEFAULT '';

-- Each person's recent creates and deletes (ms timestamps, JSON array),
-- updated by compare-and-set on version.
CREATE TABLE IF NOT EXISTS write_rates (
    person  TEXT PRIMARY KEY,
    stamps  TEXT NOT NULL,
    version BIGINT NOT NULL
);
