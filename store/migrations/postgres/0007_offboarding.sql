-- PostgreSQL twin of ../0007_offboarding.sql.
CREATE TABLE IF NOT EXISTS directory_sync (
    name       TEXT PRIMARY KEY,
    link       TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
