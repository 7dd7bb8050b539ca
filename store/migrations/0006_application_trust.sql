-- Which applications apppass may act on (SPEC §11).

-- An application recorded for an owner is known to have its service
-- principal once apppass created or confirmed it; until then no password
-- is issued on it.
ALTER TABLE applications ADD COLUMN has_sp INTEGER NOT NULL DEFAULT 0;

-- Applications tagged for an employee that apppass found and will not use:
-- kind 'lookalike' (apppass's service principal is not their only owner)
-- or 'duplicate' (apppass's, but another is recorded for the owner).
-- reported_at is when the helpdesk was told (0: not yet).
CREATE TABLE IF NOT EXISTS application_findings (
    object_id   TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL,
    app_id      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    passwords   INTEGER NOT NULL,
    found_at    INTEGER NOT NULL,
    reported_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS application_findings_reported ON application_findings (reported_at);
