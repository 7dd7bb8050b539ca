-- PostgreSQL twin of ../0006_application_trust.sql.
ALTER TABLE applications ADD COLUMN has_sp BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE IF NOT EXISTS application_findings (
    object_id   TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL,
    app_id      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    passwords   BIGINT NOT NULL,
    found_at    BIGINT NOT NULL,
    reported_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS application_findings_reported ON application_findings (reported_at);
