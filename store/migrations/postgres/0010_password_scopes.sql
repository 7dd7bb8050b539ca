-- PostgreSQL twin of ../0009_password_scopes.sql.
CREATE TABLE IF NOT EXISTS password_scopes (
    owner_id   TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    can_send   INTEGER NOT NULL,
    can_read   INTEGER NOT NULL,
    networks   TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (owner_id, key_id)
);
