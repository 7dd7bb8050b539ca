-- PostgreSQL twin of ../0004_resume_claims.sql.
ALTER TABLE revocation_requests ADD COLUMN resume_holder TEXT NOT NULL DEFAULT '';
ALTER TABLE revocation_requests ADD COLUMN resume_until BIGINT NOT NULL DEFAULT 0;
