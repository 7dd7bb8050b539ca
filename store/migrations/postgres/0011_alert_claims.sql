-- PostgreSQL twin of ../0011_alert_claims.sql.
CREATE TABLE IF NOT EXISTS alert_claims (
    alert_key TEXT PRIMARY KEY,
    at        BIGINT NOT NULL
);
