-- Revocation requests: an admin asks, a different helpdesk member decides.
-- status: pending, approving (a decision is being carried out), done,
-- partial (some removals failed; Retry), denied, expired, cancelled.
CREATE TABLE revocation_requests (
    id              INTEGER PRIMARY KEY,
    requester_slack TEXT NOT NULL,
    requester_id    TEXT NOT NULL,
    target_slack    TEXT NOT NULL,
    target_id       TEXT NOT NULL,
    target_name     TEXT NOT NULL,
    all_passwords   INTEGER NOT NULL,
    reason          TEXT NOT NULL,
    status          TEXT NOT NULL,
    decided_slack   TEXT NOT NULL DEFAULT '',
    decided_id      TEXT NOT NULL DEFAULT '',
    decided_at      INTEGER NOT NULL DEFAULT 0,
    deny_reason     TEXT NOT NULL DEFAULT '',
    channel         TEXT NOT NULL DEFAULT '',
    message_ts      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX revocation_requests_status ON revocation_requests (status, expires_at);

-- The passwords a request covers, as the helpdesk saw them, and what
-- happened to each.
CREATE TABLE revocation_items (
    request_id INTEGER NOT NULL REFERENCES revocation_requests (id),
    key_id     TEXT NOT NULL,
    name       TEXT NOT NULL,
    hint       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    outcome    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (request_id, key_id)
);
