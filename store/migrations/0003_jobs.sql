-- Scheduled jobs (SPEC §7).

-- One row per run of a job. outcome: running (or the process died),
-- ok, failed. counts is a JSON object of the run's tallies.
CREATE TABLE IF NOT EXISTS job_runs (
    id         INTEGER PRIMARY KEY,
    job        TEXT NOT NULL,
    holder     TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at   INTEGER NOT NULL DEFAULT 0,
    outcome    TEXT NOT NULL,
    counts     TEXT NOT NULL DEFAULT '{}',
    error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS job_runs_job ON job_runs (job, id);

-- Who may run a job now: taken by compare-and-set, renewed while the run
-- lasts; a dead process's lease expires.
CREATE TABLE IF NOT EXISTS job_leases (
    job        TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

-- Notices sent, recorded right after sending: for the per-person cooldown
-- (kind limit, stale) and so that no credential is warned of twice (kind
-- expiry). person is an Entra object id; key a credential's key id, or ''.
CREATE TABLE IF NOT EXISTS notifications (
    kind    TEXT NOT NULL,
    person  TEXT NOT NULL,
    key     TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (kind, person, key)
);

-- The figures of each hygiene report, for the next one's "change since".
CREATE TABLE IF NOT EXISTS report_snapshots (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    figures TEXT NOT NULL
);
