-- What each app password may be used for (SPEC §16), by its keyId: send
-- (SMTP), read (IMAP, POP3), and the client networks (comma-separated
-- CIDRs, empty for any). A password without a row is send-only.
CREATE TABLE IF NOT EXISTS password_scopes (
    owner_id   TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    can_send   INTEGER NOT NULL,
    can_read   INTEGER NOT NULL,
    networks   TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (owner_id, key_id)
);
