-- PostgreSQL twin of ../0010_alert_claims.sql.
CREATE TABLE IF NOT EXISTS alert_claims (
    alert_key TEXT PRIMARY KEY,
    at        BIGINT NOT NULL
);
