-- Who is carrying out an approval, until when: a replica resuming an
-- approval a crash interrupted claims it first (ClaimResume), so only one
-- replica resumes a given request; a dead claimant's claim expires.
ALTER TABLE revocation_requests ADD COLUMN resume_holder TEXT NOT NULL DEFAULT '';
ALTER TABLE revocation_requests ADD COLUMN resume_until INTEGER NOT NULL DEFAULT 0;
